// The gateway collector's configuration, rendered as a pure function of validated options. The same
// YAML runs in the local pipeline (test/pipeline), on Docker, EC2 and Kubernetes, and is checked by the
// real binary (`firefly-otelcol validate`). Secrets never appear in it: the collector reads them from
// the environment through `${env:…}`, so the file can live in a config map and in logs.
import { stringify } from "yaml";
import { Storage } from "../types";
import {
  DEFAULT_LOGS_URL,
  type LambdaPrices,
  logsConfigPieces,
  mergeLogsConfig,
  validateLogsOptions,
} from "./logsConfig";

/** Collector release; equal to every component pinned in collector/manifest.yaml. */
export const COLLECTOR_VERSION = "0.145.0";
/** Official contrib image of that release: carries every component the config uses, so hosts need no image build. */
export const COLLECTOR_IMAGE = `otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION}`;
/** uid:gid the contrib image (and collector/Dockerfile) runs as; volumes it writes must be owned by it. */
export const COLLECTOR_USER = "10001:10001";
/** Where hosts mount the rendered config inside the container. */
export const COLLECTOR_CONFIG_PATH = "/etc/firefly/collector.yaml";
/** Arguments for the image's entrypoint (both images take `--config`). */
export const COLLECTOR_ARGS = [`--config=${COLLECTOR_CONFIG_PATH}`];
/** Default directory of the persistent trace queue; hosts put a volume here. */
export const COLLECTOR_FILE_STORAGE_DIR = "/var/lib/firefly/queue";

/**
 * Output format the CloudWatch Metric Stream must use. `opentelemetry1.0`, not `json`: the collector's
 * JSON decoder keeps only min/max/sum/count and drops the percentiles (p50/p90/p99) the dashboards need.
 */
export const METRIC_STREAM_OUTPUT_FORMAT = "opentelemetry1.0";

/**
 * Prometheus name of a CloudWatch `AWS/Lambda` metric after the collector's transform:
 * `aws_lambda_<snake_case>` (Duration → aws_lambda_duration). Each is a summary: `<name>_sum`,
 * `<name>_count` and `<name>{quantile="0"|"0.5"|…|"1"}` (0 = Minimum, 1 = Maximum). See docs/collector.md.
 */
export function lambdaMetricName(cloudWatchName: string): string {
  return "aws_lambda_" + cloudWatchName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Environment variables through which the secrets reach the collector. */
export const COLLECTOR_SECRET_ENV = {
  /** Bearer token OTLP clients (the Lambda layer) must present: `Authorization: Bearer <token>`. */
  otlpToken: "FIREFLY_OTLP_TOKEN",
  /** Access key configured on the Firehose HTTP endpoint destination (`X-Amz-Firehose-Access-Key`). */
  firehoseAccessKey: "FIREFLY_FIREHOSE_ACCESS_KEY",
} as const;

export interface CollectorPorts {
  /** OTLP over gRPC (authenticated). */
  otlpGrpc: number;
  /** OTLP over HTTP (authenticated): the HTTPS front routes OTLP_HTTP_PATHS here. */
  otlpHttp: number;
  /** Firehose HTTP endpoint (access key): the HTTPS front routes FIREHOSE_PATH here. */
  firehose: number;
  /** Firehose HTTP endpoint for CloudWatch Logs (access key): the HTTPS front routes FIREHOSE_LOGS_PATH here. */
  firehoseLogs: number;
  /** Health check, for container and load-balancer probes (no data, no secrets). */
  health: number;
  /** zpages debug pages, bound to localhost only. */
  zpages: number;
  /** The collector's own metrics in Prometheus format, bound to localhost only. */
  metrics: number;
}

export const COLLECTOR_PORTS: Readonly<CollectorPorts> = {
  otlpGrpc: 4317,
  otlpHttp: 4318,
  firehose: 4433,
  firehoseLogs: 4434,
  health: 13133,
  zpages: 55679,
  metrics: 8888,
};

/** Path the health check answers on (`health` port). */
export const COLLECTOR_HEALTH_PATH = "/health";
/** OTLP/HTTP paths the HTTPS front must forward to the `otlpHttp` port. */
export const OTLP_HTTP_PATHS = ["/v1/traces", "/v1/metrics", "/v1/logs"] as const;
/** Path the Firehose destination URL ends with; the front forwards it to the `firehose` port (the receiver ignores paths). */
export const FIREHOSE_PATH = "/firehose";

/** Stores behind the collector as reached from inside a host, by storage kind. */
export function defaultStoreEndpoints(storage: Storage): { metricsWriteUrl: string; traceEndpoint: string } {
  switch (storage) {
    case Storage.Promscale:
      return { metricsWriteUrl: "http://promscale:9201/write", traceEndpoint: "promscale:9202" };
    case Storage.Prometheus:
      return { metricsWriteUrl: "http://prometheus:9090/api/v1/write", traceEndpoint: "jaeger:4317" };
  }
}

export interface CollectorConfigOptions {
  /** Which store sits behind the collector; decides the default endpoints. */
  readonly storage: Storage;
  /** Prometheus remote-write URL of the metric store. Default: `defaultStoreEndpoints(storage)`. */
  readonly metricsWriteUrl?: string;
  /** OTLP/gRPC `host:port` of the trace store (plaintext, on the host's private network). Default: `defaultStoreEndpoints(storage)`. */
  readonly traceEndpoint?: string;
  /** Base URL of the log store (VictoriaLogs). Default: `http://victorialogs:9428`. */
  readonly logsUrl?: string;
  /** Lambda prices for the cost metric built from REPORT lines. Default: LAMBDA_PRICE_DEFAULTS (AWS's public prices). */
  readonly lambdaPrices?: LambdaPrices;
  /**
   * Share of ordinary traces kept by tail sampling, 0–100. Default: 100, which keeps every trace and leaves
   * tail sampling out: then an acknowledged span is on disk before the client hears back, and a crash loses
   * nothing. Below 100, tail sampling holds spans in memory for `decisionWaitSeconds`, and a crash (SIGKILL,
   * out-of-memory kill) loses what it held.
   */
  readonly samplingPercent?: number;
  /** Traces at least this long (ms) are always kept. Default: 1000. */
  readonly slowTraceMs?: number;
  /** Span attribute that, when `true`, keeps the whole trace. Default: `firefly.keep`. */
  readonly forceKeepAttribute?: string;
  /** Seconds tail sampling waits for a trace's spans before deciding. Default: 10. */
  readonly decisionWaitSeconds?: number;
  /** Directory of the persistent trace queue. Default: COLLECTOR_FILE_STORAGE_DIR. */
  readonly fileStorageDir?: string;
  /** Address the ingest and health ports bind to. Default: `0.0.0.0` (inside a container). */
  readonly bindAddress?: string;
  /** Port overrides. Default: COLLECTOR_PORTS. */
  readonly ports?: Partial<CollectorPorts>;
}

export const COLLECTOR_DEFAULTS = {
  samplingPercent: 100,
  slowTraceMs: 1000,
  forceKeepAttribute: "firefly.keep",
  decisionWaitSeconds: 10,
  bindAddress: "0.0.0.0",
} as const;

type Resolved = Required<Omit<CollectorConfigOptions, "ports">> & { ports: CollectorPorts };

/** Options with defaults applied; throws a CollectorConfigError listing every bad setting. */
export function resolveCollectorOptions(options: CollectorConfigOptions): Resolved {
  const resolved: Resolved = {
    ...COLLECTOR_DEFAULTS,
    fileStorageDir: COLLECTOR_FILE_STORAGE_DIR,
    logsUrl: DEFAULT_LOGS_URL,
    lambdaPrices: {},
    ...defaultStoreEndpoints(options.storage),
    ...withoutUndefined(options),
    storage: options.storage,
    ports: { ...COLLECTOR_PORTS, ...withoutUndefined(options.ports ?? {}) },
  };
  const problems = validate(resolved);
  if (problems.length > 0) throw new CollectorConfigError(problems);
  return resolved;
}

export class CollectorConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid collector settings:\n- ${problems.join("\n- ")}`);
    this.name = "CollectorConfigError";
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const IP = /^(\d{1,3}\.){3}\d{1,3}$|^::$|^::1$/;
const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function validate(o: Resolved): string[] {
  const problems: string[] = [];
  if (!Object.values(Storage).includes(o.storage)) {
    problems.push(`storage: "${o.storage}" is not one of ${Object.values(Storage).join(", ")}`);
  }
  if (!/^https?:\/\/[^/\s]+\/\S*$/.test(o.metricsWriteUrl)) {
    problems.push(
      `metricsWriteUrl: "${o.metricsWriteUrl}" is not an http(s) URL with a path (e.g. http://prometheus:9090/api/v1/write)`,
    );
  }
  if (!HOST_PORT.test(o.traceEndpoint)) {
    problems.push(
      `traceEndpoint: "${o.traceEndpoint}" must be host:port of the trace store's OTLP/gRPC port`,
    );
  }
  if (!(o.samplingPercent >= 0 && o.samplingPercent <= 100)) {
    problems.push(`samplingPercent: ${o.samplingPercent} must be between 0 and 100`);
  }
  if (!(Number.isInteger(o.slowTraceMs) && o.slowTraceMs > 0)) {
    problems.push(`slowTraceMs: ${o.slowTraceMs} must be a positive whole number of milliseconds`);
  }
  if (!(Number.isInteger(o.decisionWaitSeconds) && o.decisionWaitSeconds >= 1)) {
    problems.push(`decisionWaitSeconds: ${o.decisionWaitSeconds} must be a whole number of seconds ≥ 1`);
  }
  if (!ATTRIBUTE.test(o.forceKeepAttribute)) {
    problems.push(
      `forceKeepAttribute: "${o.forceKeepAttribute}" is not a span attribute name (e.g. firefly.keep)`,
    );
  }
  if (!o.fileStorageDir.startsWith("/")) {
    problems.push(`fileStorageDir: "${o.fileStorageDir}" must be an absolute path`);
  }
  if (!IP.test(o.bindAddress)) {
    problems.push(
      `bindAddress: "${o.bindAddress}" must be an IP address (0.0.0.0 in a container, 127.0.0.1 locally)`,
    );
  }
  problems.push(...validateLogsOptions({ logsUrl: o.logsUrl, prices: o.lambdaPrices }));
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(o.ports)) {
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      problems.push(`ports.${name}: ${port} must be a port number between 1 and 65535`);
    } else if (seen.has(port)) {
      problems.push(`ports.${name}: ${port} is already used by ports.${seen.get(port)}; pick another`);
    }
    seen.set(port, name);
  }
  return problems;
}

const env = (name: string) => "${env:" + name + "}";

// CloudWatch's OpenTelemetry 1.0 format names metrics `amazonaws.com/AWS/Lambda/<Metric>` and nests the
// dimensions in one `Dimensions` map; Prometheus labels must be flat, and dashboards want short,
// predictable names: `aws_lambda_<metric in snake case>` with FunctionName/Resource/… as labels.
const LAMBDA_PREFIX = "amazonaws.com/AWS/Lambda/";
const CLOUDWATCH_TRANSFORM = {
  error_mode: "ignore",
  metric_statements: [
    {
      context: "datapoint",
      statements: [
        'merge_maps(datapoint.attributes, datapoint.attributes["Dimensions"], "upsert") where datapoint.attributes["Dimensions"] != nil',
        'delete_key(datapoint.attributes, "Dimensions")',
        'delete_key(datapoint.attributes, "MetricName")',
        'delete_key(datapoint.attributes, "Namespace")',
        'set(datapoint.attributes["region"], resource.attributes["cloud.region"])',
        'set(datapoint.attributes["account_id"], resource.attributes["cloud.account.id"])',
      ],
    },
    {
      context: "metric",
      statements: [
        `set(metric.name, Concat(["aws_lambda", ConvertCase(Substring(metric.name, ${LAMBDA_PREFIX.length}, Len(metric.name) - ${LAMBDA_PREFIX.length}), "snake")], "_")) where IsMatch(metric.name, "^amazonaws\\\\.com/AWS/Lambda/")`,
      ],
    },
  ],
};

function tailSampling(o: Resolved): Record<string, unknown> {
  return {
    decision_wait: `${o.decisionWaitSeconds}s`,
    // Must exceed traces/s × decision_wait, or traces are evicted before any policy (errors included)
    // runs: 200,000 covers 20,000 traces/s at the default 10 s wait (50,000 overflowed at ~9,000/s).
    num_traces: 200000,
    policies: [
      { name: "errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
      { name: "slow", type: "latency", latency: { threshold_ms: o.slowTraceMs } },
      {
        name: "force-keep",
        type: "boolean_attribute",
        boolean_attribute: { key: o.forceKeepAttribute, value: true },
      },
      // Some SDKs can only set string attributes; "true" counts as well.
      {
        name: "force-keep-string",
        type: "string_attribute",
        string_attribute: { key: o.forceKeepAttribute, values: ["true"] },
      },
      {
        name: "share",
        type: "probabilistic",
        probabilistic: { sampling_percentage: o.samplingPercent },
      },
    ],
  };
}

/** The collector configuration as YAML. Throws CollectorConfigError on bad options, before anything runs. */
export function renderCollectorConfig(options: CollectorConfigOptions): string {
  return stringify(collectorConfigObject(options), { lineWidth: 0 });
}

/** The same configuration as a plain object (what renderCollectorConfig serializes). */
export function collectorConfigObject(options: CollectorConfigOptions): Record<string, unknown> {
  const o = resolveCollectorOptions(options);
  const bind = (port: number) => `${o.bindAddress}:${port}`;
  const local = (port: number) => `127.0.0.1:${port}`;
  // The collector pushes its own metrics through its authenticated OTLP port, like any client.
  const selfAddress = o.bindAddress === "0.0.0.0" || o.bindAddress === "::" ? "127.0.0.1" : o.bindAddress;
  const auth = { authenticator: "bearertokenauth/otlp" };
  const logs = logsConfigPieces({
    logsUrl: o.logsUrl,
    firehoseLogsEndpoint: bind(o.ports.firehoseLogs),
    firehoseAccessKeyEnv: COLLECTOR_SECRET_ENV.firehoseAccessKey,
    metricsWriteUrl: o.metricsWriteUrl,
    prices: o.lambdaPrices,
  });

  return mergeLogsConfig(
    {
      extensions: {
        health_check: { endpoint: bind(o.ports.health), path: COLLECTOR_HEALTH_PATH },
        zpages: { endpoint: local(o.ports.zpages) },
        "bearertokenauth/otlp": { scheme: "Bearer", token: env(COLLECTOR_SECRET_ENV.otlpToken) },
        // Never started (not in service.extensions), only validated: the Firehose receiver accepts
        // anyone when its access key is empty, so an unset variable must stop the collector instead.
        "bearertokenauth/firehose_key_required": { token: env(COLLECTOR_SECRET_ENV.firehoseAccessKey) },
        file_storage: {
          directory: o.fileStorageDir,
          create_directory: true,
          compaction: { on_start: true, on_rebound: true, directory: o.fileStorageDir },
        },
        awscloudwatchmetricstreams_encoding: { format: METRIC_STREAM_OUTPUT_FORMAT },
      },
      receivers: {
        otlp: {
          protocols: {
            grpc: { endpoint: bind(o.ports.otlpGrpc), auth },
            http: { endpoint: bind(o.ports.otlpHttp), auth },
          },
        },
        awsfirehose: {
          endpoint: bind(o.ports.firehose),
          encoding: "awscloudwatchmetricstreams_encoding",
          access_key: env(COLLECTOR_SECRET_ENV.firehoseAccessKey),
        },
      },
      processors: {
        memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 25 },
        batch: { timeout: "1s", send_batch_size: 1024 },
        ...(o.samplingPercent < 100 ? { tail_sampling: tailSampling(o) } : {}),
        "transform/cloudwatch": CLOUDWATCH_TRANSFORM,
      },
      connectors: {
        // Fed with every span before sampling, so request/error/duration rates are not skewed by it.
        spanmetrics: {
          namespace: "traces.span.metrics",
          histogram: {
            unit: "ms",
            explicit: {
              buckets: [
                "5ms",
                "10ms",
                "25ms",
                "50ms",
                "100ms",
                "250ms",
                "500ms",
                "1s",
                "2500ms",
                "5s",
                "10s",
                "30s",
              ],
            },
          },
          dimensions: [
            { name: "faas.name" },
            { name: "faas.trigger" },
            { name: "faas.coldstart" },
            { name: "cloud.region" },
          ],
          exemplars: { enabled: true },
          metrics_flush_interval: "15s",
        },
      },
      exporters: {
        "otlp_grpc/traces": {
          endpoint: o.traceEndpoint,
          tls: { insecure: true },
          // On disk, so queued traces survive a collector restart; retried without a deadline, so a
          // store outage of any length loses nothing as long as the queue has room. Batching happens here,
          // after the write to disk, not in a batch processor that would hold acknowledged spans in memory.
          sending_queue: {
            enabled: true,
            storage: "file_storage",
            sizer: "items",
            queue_size: 500000,
            num_consumers: 4,
            batch: { flush_timeout: "1s", min_size: 1024, max_size: 4096 },
          },
          retry_on_failure: {
            enabled: true,
            initial_interval: "5s",
            max_interval: "60s",
            max_elapsed_time: "0s",
          },
        },
        // Firehose metrics: no queue and a short synchronous retry, so a failing store reaches Firehose as
        // a non-200 answer well inside the 30 s an API Gateway front allows, and Firehose retries, then
        // backs up to S3. (This exporter marks every final failure permanent, so the answer is 400, not
        // 503; Firehose retries both.) The timeout bounds the whole call, retries included.
        "prometheusremotewrite/cloudwatch": {
          endpoint: o.metricsWriteUrl,
          timeout: "10s",
          remote_write_queue: { enabled: false },
          retry_on_failure: {
            enabled: true,
            initial_interval: "1s",
            max_interval: "4s",
            max_elapsed_time: "8s",
          },
          add_metric_suffixes: false,
          target_info: { enabled: false },
        },
        // Span metrics, the collector's own metrics and OTLP metrics from functions: ordinary
        // OpenTelemetry metrics, named the standard way (unit and _total suffixes).
        "prometheusremotewrite/otel": {
          endpoint: o.metricsWriteUrl,
          timeout: "10s",
          remote_write_queue: { enabled: true, queue_size: 10000 },
          retry_on_failure: {
            enabled: true,
            initial_interval: "5s",
            max_interval: "30s",
            max_elapsed_time: "300s",
          },
        },
      },
      service: {
        extensions: [
          "health_check",
          "zpages",
          "bearertokenauth/otlp",
          "file_storage",
          "awscloudwatchmetricstreams_encoding",
        ],
        pipelines: {
          traces: {
            receivers: ["otlp"],
            // Nothing between the receiver and the on-disk queue holds spans, unless sampling is asked for.
            processors: o.samplingPercent < 100 ? ["memory_limiter", "tail_sampling"] : ["memory_limiter"],
            exporters: ["otlp_grpc/traces"],
          },
          "traces/spanmetrics": {
            receivers: ["otlp"],
            processors: ["memory_limiter"],
            exporters: ["spanmetrics"],
          },
          "metrics/cloudwatch": {
            receivers: ["awsfirehose"],
            processors: ["memory_limiter", "transform/cloudwatch"],
            exporters: ["prometheusremotewrite/cloudwatch"],
          },
          "metrics/otel": {
            receivers: ["otlp", "spanmetrics"],
            processors: ["memory_limiter", "batch"],
            exporters: ["prometheusremotewrite/otel"],
          },
        },
        telemetry: {
          // A fixed service.name gives the pipeline-health dashboard one stable job label, whichever image runs.
          resource: { "service.name": "firefly-gateway" },
          logs: { level: "info" },
          metrics: {
            level: "normal",
            readers: [
              {
                periodic: {
                  interval: 15000,
                  exporter: {
                    otlp: {
                      protocol: "http/protobuf",
                      endpoint: `http://${selfAddress}:${o.ports.otlpHttp}/v1/metrics`,
                      headers: [
                        { name: "authorization", value: `Bearer ${env(COLLECTOR_SECRET_ENV.otlpToken)}` },
                      ],
                    },
                  },
                },
              },
              { pull: { exporter: { prometheus: { host: "127.0.0.1", port: o.ports.metrics } } } },
            ],
          },
        },
      },
    },
    logs,
  );
}
