// The gateway collector's configuration, rendered as a pure function of validated options. The same
// YAML runs in the local pipeline (test/pipeline), on Docker, EC2 and Kubernetes, and is checked by the
// real binary (`firefly-otelcol validate`). Secrets never appear in it: the collector reads them from
// the environment through `${env:…}`, so the file can live in a config map and in logs.
import { stringify } from "yaml";
import {
  COLLECTOR_HEALTH_PATH,
  COLLECTOR_PORTS,
  COLLECTOR_REPLICA_ENV,
  COLLECTOR_SECRET_ENV,
  COLLECTOR_STORE_AUTH_ENV,
  type CollectorPorts,
} from "../contracts/collector";
import {
  METRIC_STREAM_OUTPUT_FORMAT,
  SPAN_METRICS_NAMESPACE,
  SPAN_METRICS_REPLICA_ATTRIBUTE,
} from "../contracts/metrics";
import { pinImage } from "../imageDigests";
import { Storage } from "../types";
import { DURABLE_QUEUE, QUEUED_REMOTE_WRITE, storeAuthHeaders } from "./exporterBlocks";
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
export const COLLECTOR_IMAGE = pinImage(`otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION}`);
/** uid:gid the contrib image (and collector/Dockerfile) runs as; volumes it writes must be owned by it. */
export const COLLECTOR_USER = "10001:10001";
/** Where hosts mount the rendered config inside the container. */
export const COLLECTOR_CONFIG_PATH = "/etc/firefly/collector.yaml";
/** Arguments for the image's entrypoint (both images take `--config`). */
export const COLLECTOR_ARGS = [`--config=${COLLECTOR_CONFIG_PATH}`];
/** Default directory of the persistent trace queue; hosts put a volume here. */
export const COLLECTOR_FILE_STORAGE_DIR = "/var/lib/firefly/queue";

// Facts other phases share live in components/contracts; re-exported for the collector's own users.
export {
  COLLECTOR_HEALTH_PATH,
  COLLECTOR_PORTS,
  COLLECTOR_SECRET_ENV,
  type CollectorPorts,
  FIREHOSE_PATH,
  OTLP_HTTP_PATHS,
} from "../contracts/collector";
export { lambdaMetricName, METRIC_STREAM_OUTPUT_FORMAT } from "../contracts/metrics";

/** Stores behind the collector as reached from inside a host, by storage kind. */
export function defaultStoreEndpoints(storage: Storage): { metricsWriteUrl: string; traceEndpoint: string } {
  switch (storage) {
    case Storage.Promscale:
      return { metricsWriteUrl: "http://promscale:9201/write", traceEndpoint: "promscale:9202" };
    case Storage.Prometheus:
      return { metricsWriteUrl: "http://prometheus:9090/api/v1/write", traceEndpoint: "jaeger:4317" };
    case Storage.External:
      // No default: the caller names the stores (validation says so when it does not).
      return { metricsWriteUrl: "", traceEndpoint: "" };
  }
}

export interface CollectorConfigOptions {
  /** Which store sits behind the collector; decides the default endpoints. */
  readonly storage: Storage;
  /** Prometheus remote-write URL of the metric store. Default: `defaultStoreEndpoints(storage)`. */
  readonly metricsWriteUrl?: string;
  /** OTLP/gRPC `host:port` of the trace store (plaintext, on the host's private network). Default: `defaultStoreEndpoints(storage)`. */
  readonly traceEndpoint?: string;
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
  /** Base URL of the log store Firefly runs (VictoriaLogs). Default: `http://victorialogs:9428`. */
  readonly logsUrl?: string;
  /** OTLP/HTTP base URL of a log store you run (storage external; `/v1/logs` appended). Replaces `logsUrl`. Default: none. */
  readonly logsEndpoint?: string;
  /** Lambda prices for the cost metric built from REPORT lines. Default: LAMBDA_PRICE_DEFAULTS (AWS's public prices). */
  readonly lambdaPrices?: LambdaPrices;
  /** Address the ingest and health ports bind to. Default: `0.0.0.0` (inside a container). */
  readonly bindAddress?: string;
  /** Port overrides. Default: COLLECTOR_PORTS. */
  readonly ports?: Partial<CollectorPorts>;
  /** Header whose value (env COLLECTOR_STORE_AUTH_ENV.metrics) goes with every metric write. Default: none. */
  readonly metricsAuthHeader?: string;
  /** Header whose value (env COLLECTOR_STORE_AUTH_ENV.traces) goes with every trace export. Default: none. */
  readonly tracesAuthHeader?: string;
  /** Header whose value (env COLLECTOR_STORE_AUTH_ENV.logs) goes with every log export; needs an https logsEndpoint. Default: none. */
  readonly logsAuthHeader?: string;
  /** Export traces over TLS (stores outside the host). Default: false (a store on the host's network). */
  readonly tracesTls?: boolean;
  /**
   * Peer replicas, for a gateway of several collectors. With sampling below 100, every replica routes
   * each trace's spans (by trace id, through the `loadbalancing` exporter and its durable queue) to
   * one replica's `otlpPeers` port, where tail sampling sees the whole trace. Default: none (one
   * collector samples what it receives).
   */
  readonly peers?: PeerResolver;
}

/** How a replica finds its peers (exactly one resolver), and the TLS of the peer port. */
export interface PeerResolver {
  /** PEM files: the peer port's certificate, which peers also trust (self-signed), and its key. */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly serverName: string };
  /** A name with one A record per ready replica (a headless Service); `port` is `otlpPeers`. */
  readonly dns?: { readonly hostname: string; readonly port: number };
  /** A fixed list of `host:port` (tests, hosts without DNS discovery). */
  readonly static?: { readonly hostnames: string[] };
}

export const COLLECTOR_DEFAULTS = {
  samplingPercent: 100,
  slowTraceMs: 1000,
  forceKeepAttribute: "firefly.keep",
  decisionWaitSeconds: 10,
  bindAddress: "0.0.0.0",
} as const;

type Resolved = Required<
  Omit<
    CollectorConfigOptions,
    | "ports"
    | "peers"
    | "metricsAuthHeader"
    | "tracesAuthHeader"
    | "logsAuthHeader"
    | "tracesTls"
    | "logsEndpoint"
  >
> & {
  ports: Required<CollectorPorts>;
  peers?: PeerResolver;
  metricsAuthHeader?: string;
  tracesAuthHeader?: string;
  logsAuthHeader?: string;
  tracesTls?: boolean;
  logsEndpoint?: string;
};

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
  const unnamedStores =
    o.storage === Storage.External && (!o.metricsWriteUrl || !o.traceEndpoint || !o.logsEndpoint);
  if (unnamedStores) {
    problems.push(
      "metricsWriteUrl, traceEndpoint and logsEndpoint: required with storage external (the stores you run)",
    );
  } else if (!/^https?:\/\/[^/\s]+\/\S*$/.test(o.metricsWriteUrl)) {
    problems.push(
      `metricsWriteUrl: "${o.metricsWriteUrl}" is not an http(s) URL with a path (e.g. http://prometheus:9090/api/v1/write)`,
    );
  }
  if (!unnamedStores && !HOST_PORT.test(o.traceEndpoint)) {
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
  if (o.storage !== Storage.External && o.logsEndpoint !== undefined) {
    problems.push(
      `logsEndpoint: only with storage external (Firefly's own log store is logsUrl), but storage is ${o.storage}`,
    );
  }
  for (const key of ["metricsAuthHeader", "tracesAuthHeader", "logsAuthHeader"] as const) {
    const h = o[key];
    if (h !== undefined && !/^[A-Za-z0-9-]+$/.test(h))
      problems.push(`${key}: "${h}" is not an HTTP header name`);
  }
  // A credential never crosses a network in clear text.
  if (o.metricsAuthHeader && !o.metricsWriteUrl.startsWith("https://")) {
    problems.push(`metricsWriteUrl: "${o.metricsWriteUrl}" must be https:// when an auth header is sent`);
  }
  if (o.tracesAuthHeader && !o.tracesTls)
    problems.push("tracesAuthHeader: needs tracesTls (no credential in clear text)");
  if (o.logsAuthHeader && !o.logsEndpoint?.startsWith("https://")) {
    problems.push(
      `logsEndpoint: "${o.logsEndpoint ?? ""}" must be https:// when an auth header is sent (logsAuthHeader)`,
    );
  }
  problems.push(
    ...validateLogsOptions({ logsUrl: o.logsUrl, logsEndpoint: o.logsEndpoint, prices: o.lambdaPrices }),
  );
  if (o.peers && (o.peers.dns === undefined) === (o.peers.static === undefined)) {
    problems.push("peers: give exactly one resolver, dns {hostname, port} or static {hostnames}");
  }
  if (o.peers?.static && !o.peers.static.hostnames.every((h) => HOST_PORT.test(h))) {
    problems.push(
      `peers.static.hostnames: ${JSON.stringify(o.peers.static.hostnames)} must all be host:port`,
    );
  }
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

// Replicas each count the spans they receive: a stable per-replica label keeps their cumulative
// series apart (the connector's own instance id is random per restart). Unset (one local collector),
// no label is added.
const REPLICA_TRANSFORM = {
  error_mode: "ignore",
  metric_statements: [
    {
      context: "datapoint",
      statements: [
        `set(datapoint.attributes["${SPAN_METRICS_REPLICA_ATTRIBUTE}"], "${env(`${COLLECTOR_REPLICA_ENV}:-`)}") where "${env(`${COLLECTOR_REPLICA_ENV}:-`)}" != "" and IsMatch(metric.name, "^${SPAN_METRICS_NAMESPACE.replaceAll(".", "\\\\.")}\\\\.")`,
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
  const auth = { authenticator: "bearertokenauth/otlp" };
  const metricsAuth = storeAuthHeaders(o.metricsAuthHeader, COLLECTOR_STORE_AUTH_ENV.metrics);
  // Several replicas with sampling: route by trace id first, sample where the whole trace arrives.
  const sampling = o.samplingPercent < 100;
  const routed = sampling && o.peers !== undefined;
  const logs = logsConfigPieces({
    logsUrl: o.logsUrl,
    logsEndpoint: o.logsEndpoint,
    logsHeaders: storeAuthHeaders(o.logsAuthHeader, COLLECTOR_STORE_AUTH_ENV.logs).headers,
    metricsHeaders: metricsAuth.headers,
    firehoseLogsEndpoint: bind(o.ports.firehoseLogs),
    firehoseAccessKeyEnv: COLLECTOR_SECRET_ENV.firehoseAccessKey,
    metricsWriteUrl: o.metricsWriteUrl,
    prices: o.lambdaPrices,
  });

  // Logs (OTLP and CloudWatch Logs through Firehose) join as their own receivers, queue and pipelines.
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
        ...(routed && o.peers
          ? {
              "otlp/peers": {
                protocols: {
                  grpc: {
                    endpoint: bind(o.ports.otlpPeers),
                    tls: { cert_file: o.peers.tls.certFile, key_file: o.peers.tls.keyFile },
                    auth,
                  },
                },
              },
            }
          : {}),
        // The collector's own metrics arrive here, on loopback only: OTLP metrics are not public ingest.
        "otlp/self": { protocols: { http: { endpoint: local(o.ports.selfMetrics), auth } } },
        awsfirehose: {
          endpoint: bind(o.ports.firehose),
          encoding: "awscloudwatchmetricstreams_encoding",
          access_key: env(COLLECTOR_SECRET_ENV.firehoseAccessKey),
        },
      },
      processors: {
        memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 25 },
        batch: { timeout: "1s", send_batch_size: 1024 },
        ...(sampling ? { tail_sampling: tailSampling(o) } : {}),
        "transform/cloudwatch": CLOUDWATCH_TRANSFORM,
        "transform/replica": REPLICA_TRANSFORM,
      },
      connectors: {
        // Fed with every span before sampling, so request/error/duration rates are not skewed by it.
        spanmetrics: {
          namespace: SPAN_METRICS_NAMESPACE,
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
          // Each Lambda execution environment is its own resource (faas.instance is its log stream), but
          // the exported series carry none of that: keyed by every resource attribute, two environments of
          // one function would write two cumulative counters under one label set, and Prometheus would see
          // neither's total. Keyed by the function, every environment adds to one counter.
          resource_metrics_key_attributes: ["service.name", "faas.name", "cloud.region"],
          metrics_flush_interval: "15s",
        },
      },
      exporters: {
        "otlp_grpc/traces": {
          endpoint: o.traceEndpoint,
          tls: o.tracesTls ? { insecure: false } : { insecure: true },
          ...storeAuthHeaders(o.tracesAuthHeader, COLLECTOR_STORE_AUTH_ENV.traces),
          ...DURABLE_QUEUE,
        },
        ...(routed
          ? {
              // Routes each trace to one replica. The durable queue sits at this level (the per-backend
              // exporters cannot have one): a failed send returns here and is re-routed over the peers
              // the resolver then knows. Peers present the same bearer token as any client.
              loadbalancing: {
                routing_key: "traceID",
                protocol: {
                  otlp: {
                    tls: { ca_file: o.peers?.tls.certFile, server_name_override: o.peers?.tls.serverName },
                    auth,
                    timeout: "10s",
                    sending_queue: { enabled: false },
                    retry_on_failure: { enabled: false },
                  },
                },
                resolver: o.peers?.dns
                  ? { dns: { hostname: o.peers.dns.hostname, port: String(o.peers.dns.port) } }
                  : { static: { hostnames: o.peers?.static?.hostnames } },
                timeout: "10s",
                ...DURABLE_QUEUE,
              },
            }
          : {}),
        // Firehose metrics: no queue and a short synchronous retry, so a failing store reaches Firehose as
        // a non-200 answer well inside the 30 s an API Gateway front allows, and Firehose retries, then
        // backs up to S3. (This exporter marks every final failure permanent, so the answer is 400, not
        // 503; Firehose retries both.) The timeout bounds the whole call, retries included.
        "prometheusremotewrite/cloudwatch": {
          endpoint: o.metricsWriteUrl,
          ...metricsAuth,
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
        // Span metrics and the collector's own metrics: ordinary
        // OpenTelemetry metrics, named the standard way (unit and _total suffixes).
        "prometheusremotewrite/otel": {
          endpoint: o.metricsWriteUrl,
          ...metricsAuth,
          ...QUEUED_REMOTE_WRITE,
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
          ...(routed
            ? {
                // Nothing between the receiver and the on-disk routing queue holds spans.
                traces: { receivers: ["otlp"], processors: ["memory_limiter"], exporters: ["loadbalancing"] },
                "traces/sampled": {
                  receivers: ["otlp/peers"],
                  processors: ["memory_limiter", "tail_sampling"],
                  exporters: ["otlp_grpc/traces"],
                },
              }
            : {
                traces: {
                  receivers: ["otlp"],
                  // Nothing between the receiver and the on-disk queue holds spans, unless sampling is asked for.
                  processors: sampling ? ["memory_limiter", "tail_sampling"] : ["memory_limiter"],
                  exporters: ["otlp_grpc/traces"],
                },
              }),
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
            receivers: ["otlp/self", "spanmetrics"],
            processors: ["memory_limiter", "transform/replica", "batch"],
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
                      endpoint: `http://127.0.0.1:${o.ports.selfMetrics}/v1/metrics`,
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
