// The collector's logs pieces, as a pure function merged into collectorConfig.ts's config:
//   OTLP logs (the layer, any SDK) ─┐
//   Firehose (CloudWatch Logs) ─────┴→ memory_limiter → transform (parse Lambda's platform lines)
//        → on-disk queue → the log store (VictoriaLogs, or the one you run: OTLP/HTTP)
//        → signaltometrics (REPORT lines as metrics) → deltatocumulative → interval → Prometheus remote write
// Logs get the traces' guarantees: nothing holds a record in memory between the receiver and the
// on-disk queue, so an acknowledged record survives a store outage and a collector SIGKILL.
import { DURABLE_QUEUE, QUEUED_REMOTE_WRITE } from "./exporterBlocks";

/** Where hosts reach the log store. */
export const DEFAULT_LOGS_URL = "http://victorialogs:9428";
/** Store-side path of VictoriaLogs' OTLP logs ingest. */
export const LOG_STORE_OTLP_PATH = "/insert/opentelemetry/v1/logs";
/** Path the CloudWatch Logs Firehose destination URL ends with; the front forwards it to the `firehoseLogs` port. */
export { FIREHOSE_LOGS_PATH } from "../contracts/collector";

/**
 * Lambda prices in USD (AWS's public on-demand prices, first tier, most regions): compute per GB-second
 * by architecture, and per request. Settings, because regions, tiers and Savings Plans differ.
 */
export const LAMBDA_PRICE_DEFAULTS = {
  x86PerGbSecond: 0.0000166667,
  arm64PerGbSecond: 0.0000133334,
  perRequest: 0.0000002,
} as const;

export interface LambdaPrices {
  /** USD per GB-second on x86_64. Default: 0.0000166667. */
  readonly x86PerGbSecond?: number;
  /** USD per GB-second on arm64. Default: 0.0000133334. */
  readonly arm64PerGbSecond?: number;
  /** USD per request. Default: 0.0000002 ($0.20 per million). */
  readonly perRequest?: number;
}

/** How often REPORT metrics reach the metric store. */
export const REPORT_METRICS_INTERVAL_SECONDS = 10;

/** Bucket bounds (MB) of the max-memory-used histogram: Lambda's memory sizes people actually pick. */
export const MEMORY_BUCKETS_MB = [
  64, 128, 192, 256, 320, 384, 448, 512, 640, 768, 1024, 1536, 2048, 3008, 4096, 6144, 8192, 10240,
];
/** Bucket bounds of max memory used ÷ memory size: alert rules count invocations above one of them. */
export const MEMORY_RATIO_BUCKETS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1];
/** Bucket bounds (ms) of the duration and init duration histograms. */
export const DURATION_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000,
];

/** Log record attributes the transform sets; also the log store's field names and the metrics' labels. */
export const LOG_FIELDS = {
  functionName: "faas.name",
  /** Lambda's request id, the span attribute `faas.invocation_id` of the same invocation. */
  requestId: "faas.invocation_id",
  /** Which platform line: report, timeout, runtime_exit, init_error. */
  platform: "lambda.platform",
  status: "lambda.status",
  errorType: "lambda.error_type",
  durationMs: "lambda.duration_ms",
  billedDurationMs: "lambda.billed_duration_ms",
  memorySizeMb: "lambda.memory_size_mb",
  maxMemoryUsedMb: "lambda.max_memory_used_mb",
  initDurationMs: "lambda.init_duration_ms",
  architecture: "faas.arch",
  billedGbSeconds: "lambda.billed_gb_seconds",
  costUsd: "lambda.cost_usd",
} as const;

/**
 * Prometheus names of the REPORT metrics, as read from the running pipeline: counters (`_total`), the
 * memory size a gauge, the rest histograms (`_bucket`, `_sum`, `_count`).
 */
export const REPORT_METRICS = {
  invocations: "lambda_report_invocations_total",
  durationMs: "lambda_report_duration_milliseconds",
  billedDurationMs: "lambda_report_billed_duration_milliseconds_total",
  memorySizeMb: "lambda_report_memory_size_megabytes",
  maxMemoryUsedMb: "lambda_report_max_memory_used_megabytes",
  memoryUsedRatio: "lambda_report_memory_used_ratio",
  initDurationMs: "lambda_report_init_duration_milliseconds",
  gbSeconds: "lambda_report_billed_gb_seconds_total",
  costUsd: "lambda_report_cost_usd_total",
  platformEvents: "lambda_platform_events_total",
} as const;

/**
 * CloudWatch Logs filter pattern for the platform's own lines in the text log format: REPORT, timeouts,
 * runtime exits and init errors (the layer ships the function's own lines). Terms are ORed (`?`).
 */
export const PLATFORM_FILTER_PATTERN =
  '?"REPORT RequestId:" ?"Task timed out" ?"Runtime exited" ?"INIT_REPORT" ?"Runtime.ExitError" ?"Runtime.ImportModuleError" ?"Runtime.HandlerNotFound"';

/** Path the OTLP/HTTP exporter appends to a store's base URL (the `endpoint` convention). */
export const OTLP_LOGS_PATH = "/v1/logs";

export interface LogsConfigOptions {
  /** Base URL of the log store Firefly runs (VictoriaLogs), e.g. `http://victorialogs:9428`. */
  readonly logsUrl: string;
  /**
   * OTLP/HTTP base URL of a log store you run (`storage: external`); `/v1/logs` is appended. Replaces
   * `logsUrl` for writes. Default: none.
   */
  readonly logsEndpoint?: string;
  /** Headers on every log export (auth, its value from env). Default: none. */
  readonly logsHeaders?: Record<string, string>;
  /** Headers on every REPORT-metrics write (the metric store's auth). Default: none. */
  readonly metricsHeaders?: Record<string, string>;
  /** `host:port` the CloudWatch Logs Firehose receiver listens on. */
  readonly firehoseLogsEndpoint: string;
  /** Env var holding the Firehose access key. */
  readonly firehoseAccessKeyEnv: string;
  /** Prometheus remote-write URL for the REPORT metrics. */
  readonly metricsWriteUrl: string;
  /** Lambda prices for the cost metric. Default: LAMBDA_PRICE_DEFAULTS. */
  readonly prices?: LambdaPrices;
}

/** Problems with the logs settings, each naming the setting and how to fix it. */
export function validateLogsOptions(
  o: Pick<LogsConfigOptions, "logsUrl" | "logsEndpoint" | "prices">,
): string[] {
  const problems: string[] = [];
  if (!/^https?:\/\/[^/\s]+\/?$/.test(o.logsUrl)) {
    problems.push(
      `logsUrl: "${o.logsUrl}" must be the log store's base URL without a path (e.g. http://victorialogs:9428)`,
    );
  }
  if (o.logsEndpoint !== undefined) {
    if (!/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/.test(o.logsEndpoint)) {
      problems.push(
        `logsEndpoint: "${o.logsEndpoint}" must be an http(s) URL without query (e.g. https://vlinsert.example.com/insert/opentelemetry)`,
      );
    } else if (/\/v1\/logs\/?$/.test(o.logsEndpoint)) {
      problems.push(
        `logsEndpoint: "${o.logsEndpoint}" must be the OTLP base URL; ${OTLP_LOGS_PATH} is appended (drop it from the end)`,
      );
    }
  }
  for (const [key, value] of Object.entries(o.prices ?? {})) {
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      problems.push(
        `lambdaPrices.${key}: ${value} must be a price in USD ≥ 0 (e.g. ${LAMBDA_PRICE_DEFAULTS[key as keyof LambdaPrices]})`,
      );
    }
  }
  return problems;
}

const F = LOG_FIELDS;
const attr = (name: string) => `log.attributes["${name}"]`;

// Lambda's text-format platform lines (see docs/logs.md); every field read into a typed attribute.
const REPORT_RE =
  "^REPORT RequestId: (?P<id>[0-9a-fA-F-]+)\\s+Duration: (?P<d>[0-9.]+) ms\\s+Billed Duration: (?P<b>[0-9]+) ms\\s+Memory Size: (?P<m>[0-9]+) MB\\s+Max Memory Used: (?P<u>[0-9]+) MB";

/** OTTL reads no exponent notation, which JavaScript prints for small prices (2e-7). */
function decimal(n: number): string {
  return n.toFixed(12);
}

function str(s: string): string {
  return JSON.stringify(s);
}

/** OTTL statements that turn Lambda's platform lines into typed attributes; other lines pass untouched. */
export function platformLineStatements(prices: Required<LambdaPrices>): string[] {
  const isReport = `IsMatch(log.body, "^REPORT RequestId: ")`;
  const group = 'resource.attributes["aws.cloudwatch.log_group_name"]';
  return [
    // Function name from the default log group `/aws/lambda/<name>`; a custom group gives its own name.
    `set(${attr(F.functionName)}, Substring(${group}, 12, Len(${group}) - 12)) where ${attr(F.functionName)} == nil and ${group} != nil and IsMatch(${group}, "^/aws/lambda/.+")`,
    `set(${attr(F.functionName)}, ${group}) where ${attr(F.functionName)} == nil and ${group} != nil`,
    `set(${attr(F.architecture)}, resource.attributes["${F.architecture}"]) where resource.attributes["${F.architecture}"] != nil`,
    `set(${attr(F.architecture)}, "x86_64") where ${attr(F.architecture)} == nil`,
    // REPORT: the one authoritative record of an invocation.
    `merge_maps(log.cache, ExtractPatterns(log.body, ${str(REPORT_RE)}), "upsert") where ${isReport}`,
    `set(${attr(F.platform)}, "report") where log.cache["id"] != nil`,
    `set(${attr(F.requestId)}, log.cache["id"]) where log.cache["id"] != nil`,
    `set(${attr(F.durationMs)}, Double(log.cache["d"])) where log.cache["d"] != nil`,
    `set(${attr(F.billedDurationMs)}, Int(log.cache["b"])) where log.cache["b"] != nil`,
    `set(${attr(F.memorySizeMb)}, Int(log.cache["m"])) where log.cache["m"] != nil`,
    `set(${attr(F.maxMemoryUsedMb)}, Int(log.cache["u"])) where log.cache["u"] != nil`,
    `merge_maps(log.cache, ExtractPatterns(log.body, "Init Duration: (?P<i>[0-9.]+) ms"), "upsert") where ${isReport}`,
    `set(${attr(F.initDurationMs)}, Double(log.cache["i"])) where log.cache["i"] != nil`,
    `merge_maps(log.cache, ExtractPatterns(log.body, "Status: (?P<s>[a-z]+)"), "upsert") where ${isReport}`,
    `merge_maps(log.cache, ExtractPatterns(log.body, "Error Type: (?P<e>[A-Za-z.]+)"), "upsert") where ${isReport}`,
    `set(${attr(F.errorType)}, log.cache["e"]) where log.cache["e"] != nil`,
    `set(${attr(F.status)}, "success") where log.cache["id"] != nil and log.cache["s"] == nil`,
    `set(${attr(F.status)}, log.cache["s"]) where log.cache["id"] != nil and log.cache["s"] != nil`,
    `set(${attr(F.status)}, "out_of_memory") where log.cache["e"] == "Runtime.OutOfMemory"`,
    // Billed GB-seconds and cost; arm64 and x86_64 are priced apart.
    `set(log.cache["gbs"], Double(${attr(F.billedDurationMs)}) / 1000.0 * Double(${attr(F.memorySizeMb)}) / 1024.0) where ${attr(F.billedDurationMs)} != nil`,
    `set(log.cache["price"], ${decimal(prices.x86PerGbSecond)})`,
    `set(log.cache["price"], ${decimal(prices.arm64PerGbSecond)}) where ${attr(F.architecture)} == "arm64"`,
    `set(${attr(F.billedGbSeconds)}, log.cache["gbs"]) where log.cache["gbs"] != nil`,
    `set(${attr(F.costUsd)}, log.cache["gbs"] * log.cache["price"] + ${decimal(prices.perRequest)}) where log.cache["gbs"] != nil`,
    // The other platform lines carry the request id too (`<ts> <id> Task timed out…`, `RequestId: <id> Error: …`).
    `merge_maps(log.cache, ExtractPatterns(log.body, "^\\\\S+\\\\s+(?P<tid>[0-9a-fA-F-]{36})\\\\s+Task timed out after"), "upsert") where IsMatch(log.body, "Task timed out after")`,
    `set(${attr(F.platform)}, "timeout") where log.cache["tid"] != nil`,
    `set(${attr(F.requestId)}, log.cache["tid"]) where log.cache["tid"] != nil`,
    `merge_maps(log.cache, ExtractPatterns(log.body, "RequestId: (?P<xid>[0-9a-fA-F-]{36}) Error: Runtime exited"), "upsert") where IsMatch(log.body, "Runtime exited")`,
    `set(${attr(F.platform)}, "runtime_exit") where log.cache["xid"] != nil`,
    `set(${attr(F.requestId)}, log.cache["xid"]) where log.cache["xid"] != nil`,
    `set(${attr(F.platform)}, "init_error") where ${attr(F.platform)} == nil and IsMatch(log.body, "INIT_REPORT.*Status: error|Runtime\\\\.(ImportModuleError|HandlerNotFound|UserCodeSyntaxError)")`,
    // Function lines in Lambda's text format (`<ts>\t<request id>\t<level>\t<message>`) name their request too.
    `merge_maps(log.cache, ExtractPatterns(log.body, "^\\\\S+\\\\t(?P<fid>[0-9a-fA-F-]{36})\\\\t"), "upsert") where ${attr(F.requestId)} == nil`,
    `set(${attr(F.requestId)}, log.cache["fid"]) where log.cache["fid"] != nil and log.cache["fid"] != ""`,
  ];
}

const fn = { key: F.functionName };
const arch = { key: F.architecture, default_value: "x86_64" };
const REPORT = `attributes["${F.platform}"] == "report"`;

/** signaltometrics definitions: each REPORT line becomes one observation of each metric. */
export function reportMetrics(): Record<string, unknown>[] {
  const num = (field: string) => `Double(attributes["${field}"])`;
  // Every Firehose record carries its own log stream as a resource attribute; kept, each would make its
  // own series, and those collide in Prometheus, where resource attributes are not labels.
  const include_resource_attributes = [{ key: "cloud.provider", default_value: "aws" }];
  const metrics: Record<string, unknown>[] = [
    {
      name: "lambda.report.invocations",
      description: "Invocations by outcome, from Lambda's REPORT lines",
      conditions: [REPORT],
      attributes: [fn, { key: F.status }],
      sum: { value: "1" },
    },
    {
      name: "lambda.report.duration",
      description: "Invocation duration (REPORT Duration)",
      unit: "ms",
      conditions: [REPORT],
      attributes: [fn],
      histogram: { buckets: DURATION_BUCKETS_MS, value: num(F.durationMs) },
    },
    {
      name: "lambda.report.billed_duration",
      description: "Billed duration (REPORT Billed Duration)",
      unit: "ms",
      conditions: [REPORT],
      attributes: [fn],
      sum: { value: num(F.billedDurationMs) },
    },
    {
      name: "lambda.report.memory_size",
      description: "Configured memory (REPORT Memory Size)",
      unit: "MBy",
      conditions: [REPORT],
      attributes: [fn],
      gauge: { value: `Int(attributes["${F.memorySizeMb}"])` },
    },
    {
      name: "lambda.report.max_memory_used",
      description: "Peak memory of each invocation (REPORT Max Memory Used)",
      unit: "MBy",
      conditions: [REPORT],
      attributes: [fn],
      histogram: { buckets: MEMORY_BUCKETS_MB, value: num(F.maxMemoryUsedMb) },
    },
    {
      name: "lambda.report.memory_used_ratio",
      description: "Max memory used ÷ memory size of each invocation",
      conditions: [REPORT],
      attributes: [fn],
      histogram: {
        buckets: MEMORY_RATIO_BUCKETS,
        value: `${num(F.maxMemoryUsedMb)} / ${num(F.memorySizeMb)}`,
      },
    },
    {
      name: "lambda.report.init_duration",
      description: "Cold-start init duration (REPORT Init Duration)",
      unit: "ms",
      conditions: [`${REPORT} and attributes["${F.initDurationMs}"] != nil`],
      attributes: [fn],
      histogram: { buckets: DURATION_BUCKETS_MS, value: num(F.initDurationMs) },
    },
    {
      name: "lambda.report.billed_gb_seconds",
      description: "Billed GB-seconds: billed duration × memory size",
      conditions: [REPORT],
      attributes: [fn, arch],
      sum: { value: num(F.billedGbSeconds) },
    },
    {
      name: "lambda.report.cost_usd",
      description: "Compute and request cost in USD at the configured Lambda prices",
      conditions: [REPORT],
      attributes: [fn, arch],
      sum: { value: num(F.costUsd) },
    },
    {
      name: "lambda.platform.events",
      description: "Timeouts, runtime exits and init errors, from Lambda's own lines",
      conditions: [`attributes["${F.platform}"] != nil and attributes["${F.platform}"] != "report"`],
      attributes: [fn, { key: F.platform }],
      sum: { value: "1" },
    },
  ];
  return metrics.map((m) => ({ ...m, include_resource_attributes }));
}

/** The logs pieces of the collector config, keyed like the config itself; merged by mergeLogsConfig. */
export function logsConfigPieces(options: LogsConfigOptions) {
  const prices = { ...LAMBDA_PRICE_DEFAULTS, ...withoutUndefined(options.prices ?? {}) };
  const logsEndpoint =
    options.logsEndpoint !== undefined
      ? `${options.logsEndpoint.replace(/\/+$/, "")}${OTLP_LOGS_PATH}`
      : `${options.logsUrl.replace(/\/$/, "")}${LOG_STORE_OTLP_PATH}`;
  return {
    receivers: {
      "awsfirehose/cwlogs": {
        endpoint: options.firehoseLogsEndpoint,
        encoding: "cwlogs",
        access_key: "${env:" + options.firehoseAccessKeyEnv + "}",
      },
    },
    processors: {
      "transform/lambda_logs": {
        error_mode: "ignore",
        log_statements: [{ context: "log", statements: platformLineStatements(prices) }],
      },
      // signaltometrics marks its sums non-monotonic; these only count up, and marked so they become
      // Prometheus counters (`_total`) and pass the interval processor, which holds only monotonic sums.
      "transform/lambda_report": {
        error_mode: "ignore",
        metric_statements: [
          {
            context: "metric",
            statements: ["set(metric.is_monotonic, true) where metric.type == METRIC_DATA_TYPE_SUM"],
          },
        ],
      },
      deltatocumulative: {},
      // A Firehose delivery's records are consumed one by one, within the same millisecond: without this,
      // Prometheus sees two values of one series at one timestamp and refuses the second as a duplicate.
      // Emits each series' latest value once per interval.
      "interval/lambda_report": { interval: `${REPORT_METRICS_INTERVAL_SECONDS}s` },
    },
    connectors: {
      signaltometrics: { logs: reportMetrics() },
    },
    exporters: {
      // Same queue as traces: on disk before the client is answered, retried without a deadline.
      // Both log pipelines (OTLP and CloudWatch Logs) end here, so both reach the same store.
      "otlp_http/logs": {
        logs_endpoint: logsEndpoint,
        ...(options.logsHeaders ? { headers: options.logsHeaders } : {}),
        encoding: "proto",
        compression: "gzip",
        ...DURABLE_QUEUE,
      },
      "prometheusremotewrite/lambda_report": {
        endpoint: options.metricsWriteUrl,
        ...(options.metricsHeaders ? { headers: options.metricsHeaders } : {}),
        ...QUEUED_REMOTE_WRITE,
        target_info: { enabled: false },
      },
    },
    pipelines: {
      // OTLP logs (the layer's, any SDK's) go straight to the store. Only Lambda's own lines, which
      // arrive with the Firehose access key, are read as REPORT metrics: the functions' token must not
      // be able to forge memory, cost or outcome series with a log line that looks like a REPORT.
      logs: {
        receivers: ["otlp"],
        processors: ["memory_limiter"],
        exporters: ["otlp_http/logs"],
      },
      "logs/cloudwatch": {
        receivers: ["awsfirehose/cwlogs"],
        processors: ["memory_limiter", "transform/lambda_logs"],
        exporters: ["otlp_http/logs", "signaltometrics"],
      },
      "metrics/lambda_report": {
        receivers: ["signaltometrics"],
        processors: [
          "memory_limiter",
          "transform/lambda_report",
          "deltatocumulative",
          "interval/lambda_report",
        ],
        exporters: ["prometheusremotewrite/lambda_report"],
      },
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Merges the logs pieces into a rendered collector config object (new keys only; nothing is overwritten). */
export function mergeLogsConfig(
  config: Record<string, unknown>,
  pieces: ReturnType<typeof logsConfigPieces>,
): Record<string, unknown> {
  const section = (key: string) => (config[key] ?? {}) as Record<string, unknown>;
  const service = section("service");
  return {
    ...config,
    receivers: { ...section("receivers"), ...pieces.receivers },
    processors: { ...section("processors"), ...pieces.processors },
    connectors: { ...section("connectors"), ...pieces.connectors },
    exporters: { ...section("exporters"), ...pieces.exporters },
    service: {
      ...service,
      pipelines: { ...(service.pipelines as Record<string, unknown>), ...pieces.pipelines },
    },
  };
}
