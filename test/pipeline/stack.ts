// The local pipeline's parts, each started for real on loopback: the built collector with the config
// rendered for a local host, Prometheus (Debian) as metric store, Jaeger v2 (built from the Go module
// proxy, in-memory storage) as trace store. Used by `pipeline:up`, by ensureLocalPipeline, and by tests
// that need a private pipeline they may break (store outages).
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  COLLECTOR_HEALTH_PATH,
  COLLECTOR_SECRET_ENV,
  type CollectorConfigOptions,
  type CollectorPorts,
  FIREHOSE_PATH,
  renderCollectorConfig,
} from "../../components/shipping/collectorConfig";
import { FIREHOSE_LOGS_PATH } from "../../components/shipping/logsConfig";
import { Storage } from "../../components/types";
import {
  freePorts,
  isRunning,
  type StartedProcess,
  startProcess,
  stopProcess,
  waitForHttp,
} from "./processes";

export const REPO = path.resolve(__dirname, "../..");
export const JAEGER_VERSION = "1.76.0";
export const VICTORIALOGS_VERSION = "1.52.1";

/** What `.firefly/local.json` holds: everything a test or a developer needs to talk to the pipeline. */
export interface LocalPipeline {
  firehose: { url: string; accessKey: string };
  otlp: { url: string; headers: { authorization: string } };
  prometheus: { url: string };
  traces: { jaegerUrl: string };
  /** The log store (VictoriaLogs): LogsQL at `/select/logsql/query`. */
  logs: { url: string };
  /** The collector's Firehose endpoint for CloudWatch Logs subscriptions (same access key as `firehose`). */
  firehoseLogs: { url: string; accessKey: string };
}

interface Binary {
  path: string;
  /** The command that provides it, for error messages. */
  install: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function binaries(): Record<"collector" | "prometheus" | "jaeger" | "victorialogs", Binary> {
  return {
    collector: {
      path: process.env.FIREFLY_COLLECTOR_BIN ?? path.join(REPO, "collector/dist/firefly-otelcol"),
      install: "npm run build:collector",
    },
    prometheus: {
      path: process.env.FIREFLY_PROMETHEUS_BIN ?? onPath("prometheus") ?? "/usr/bin/prometheus",
      install: "apt-get install prometheus (see .ci/setup.d/10-apt.sh)",
    },
    jaeger: {
      path: process.env.FIREFLY_JAEGER_BIN ?? path.join(REPO, `.firefly/tools/jaeger-${JAEGER_VERSION}`),
      install: "bash .ci/setup.d/30-jaeger.sh",
    },
    victorialogs: {
      path:
        process.env.FIREFLY_VICTORIALOGS_BIN ??
        path.join(REPO, `.firefly/tools/victoria-logs-${VICTORIALOGS_VERSION}`),
      install: "bash .ci/setup.d/35-victorialogs.sh",
    },
  };
}

/** Throws naming every missing binary and the command that provides it. */
export function checkBinaries(): void {
  const missing = Object.entries(binaries()).filter(([, b]) => !fs.existsSync(b.path));
  if (missing.length > 0) {
    throw new Error(
      "The local pipeline needs binaries that are not there:\n" +
        missing.map(([name, b]) => `- ${name}: ${b.path} is missing; run \`${b.install}\``).join("\n"),
    );
  }
}

// ---- Prometheus ------------------------------------------------------------------------------------

export interface PrometheusHandle {
  process: StartedProcess;
  port: number;
  url: string;
  writeUrl: string;
}

export async function startPrometheus(dir: string, port: number): Promise<PrometheusHandle> {
  const config = path.join(dir, "prometheus.yml");
  // CloudWatch delivers one-minute aggregates minutes late and Firehose retries redeliver older ones:
  // accept out-of-order samples instead of rejecting them.
  fs.writeFileSync(
    config,
    stringify({
      global: { evaluation_interval: "1m" },
      storage: { tsdb: { out_of_order_time_window: "30m" } },
    }),
  );
  const data = path.join(dir, "prometheus-data");
  fs.mkdirSync(data, { recursive: true });
  const bin = binaries().prometheus.path;
  const proc = startProcess(
    "prometheus",
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      "--storage.tsdb.retention.time=1d",
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    path.join(dir, "prometheus.log"),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { process: proc, port, url, writeUrl: `${url}/api/v1/write` };
}

// ---- VictoriaLogs ----------------------------------------------------------------------------------

export interface LogStoreHandle {
  process: StartedProcess;
  port: number;
  url: string;
}

/** VictoriaLogs on loopback with its data in `<dir>/victorialogs-data`; OTLP in, LogsQL out, one port. */
export async function startVictoriaLogs(dir: string, port: number): Promise<LogStoreHandle> {
  const data = path.join(dir, "victorialogs-data");
  fs.mkdirSync(data, { recursive: true });
  const proc = startProcess(
    "victorialogs",
    binaries().victorialogs.path,
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${data}`,
      "-retentionPeriod=1d",
      "-loggerLevel=WARN",
    ],
    path.join(dir, "victorialogs.log"),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc);
  return { process: proc, port, url };
}

// ---- Jaeger ----------------------------------------------------------------------------------------

export interface JaegerHandle {
  process: StartedProcess;
  ports: JaegerPorts;
  url: string;
  otlpGrpc: string;
}

export interface JaegerPorts {
  otlpGrpc: number;
  query: number;
  queryGrpc: number;
}

/** Jaeger v2 config: OTLP/gRPC in, in-memory storage, query API out, all on loopback, no other ports. */
export function renderJaegerConfig(ports: JaegerPorts): string {
  return stringify({
    service: {
      extensions: ["jaeger_storage", "jaeger_query"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: { metrics: { level: "none" }, logs: { level: "warn" } },
    },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 100000 } } } },
      jaeger_query: {
        storage: { traces: "memstore" },
        // On by default: Jaeger then traces itself to localhost:4317, someone else's collector or
        // nothing (and every stop waits out a 10 s export timeout).
        enable_tracing: false,
        http: { endpoint: `127.0.0.1:${ports.query}` },
        grpc: { endpoint: `127.0.0.1:${ports.queryGrpc}` },
      },
    },
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` } } } },
    processors: { batch: { timeout: "200ms" } },
    exporters: { jaeger_storage_exporter: { trace_storage: "memstore" } },
  });
}

export async function startJaeger(dir: string, ports: JaegerPorts): Promise<JaegerHandle> {
  const { proc } = startWithConfig(dir, "jaeger", renderJaegerConfig(ports));
  const url = `http://127.0.0.1:${ports.query}`;
  await waitForHttp(`${url}/api/services`, proc);
  return { process: proc, ports, url, otlpGrpc: `127.0.0.1:${ports.otlpGrpc}` };
}

/** Writes `<dir>/<name>.yaml` and starts that binary with `--config` on it, logging to `<dir>/<name>.log`. */
function startWithConfig(
  dir: string,
  name: "jaeger" | "collector",
  yaml: string,
  env: Record<string, string> = {},
) {
  const configFile = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(configFile, yaml);
  const proc = startProcess(
    name,
    binaries()[name].path,
    [`--config=${configFile}`],
    path.join(dir, `${name}.log`),
    env,
  );
  return { proc, configFile };
}

// ---- Collector -------------------------------------------------------------------------------------

export interface CollectorSecrets {
  otlpToken: string;
  firehoseAccessKey: string;
}

export interface CollectorHandle {
  process: StartedProcess;
  ports: CollectorPorts;
  configFile: string;
  /** What it was started with, so a test can restart it the same way. */
  options: CollectorConfigOptions & { ports: CollectorPorts };
  secrets: CollectorSecrets;
}

export function randomSecret(): string {
  return randomBytes(24).toString("base64url");
}

export async function freeCollectorPorts(): Promise<CollectorPorts> {
  const [otlpGrpc, otlpHttp, firehose, firehoseLogs, health, zpages, metrics, selfMetrics] =
    await freePorts(8);
  return { otlpGrpc, otlpHttp, firehose, firehoseLogs, health, zpages, metrics, selfMetrics };
}

/** Starts the built collector with the rendered config; secrets only in its environment. */
export async function startCollector(
  dir: string,
  options: CollectorConfigOptions & { ports: CollectorPorts },
  secrets: CollectorSecrets,
): Promise<CollectorHandle> {
  const { proc, configFile } = startWithConfig(dir, "collector", renderCollectorConfig(options), {
    [COLLECTOR_SECRET_ENV.otlpToken]: secrets.otlpToken,
    [COLLECTOR_SECRET_ENV.firehoseAccessKey]: secrets.firehoseAccessKey,
  });
  await waitForHttp(`http://127.0.0.1:${options.ports.health}${COLLECTOR_HEALTH_PATH}`, proc);
  return { process: proc, ports: options.ports, configFile, options, secrets };
}

// ---- The whole pipeline ----------------------------------------------------------------------------

export interface RunningPipeline {
  local: LocalPipeline;
  /** Temp directory with configs, logs, Prometheus data and the trace queue; removed by stop(). */
  dir: string;
  collector: CollectorHandle;
  prometheus: PrometheusHandle;
  jaeger: JaegerHandle;
  logStore: LogStoreHandle;
  stop(): Promise<void>;
}

/** Collector settings for a local host: store endpoints on loopback, every trace kept, short decision wait. */
export const LOCAL_COLLECTOR_SETTINGS: Partial<CollectorConfigOptions> = {
  samplingPercent: 100,
  decisionWaitSeconds: 2,
  bindAddress: "127.0.0.1",
};

/**
 * Starts Prometheus, Jaeger and the collector in a fresh temp directory. `collector` overrides the
 * local settings (tests use it for sampling rules). On failure everything already started is stopped.
 */
export async function startPipeline(
  collector: Partial<CollectorConfigOptions> = {},
): Promise<RunningPipeline> {
  checkBinaries();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-pipeline-"));
  const started: StartedProcess[] = [];
  try {
    const [promPort, jaegerOtlp, jaegerQuery, jaegerQueryGrpc, logsPort] = await freePorts(5);
    const prometheus = await startPrometheus(dir, promPort);
    started.push(prometheus.process);
    const jaeger = await startJaeger(dir, {
      otlpGrpc: jaegerOtlp,
      query: jaegerQuery,
      queryGrpc: jaegerQueryGrpc,
    });
    started.push(jaeger.process);
    const logStore = await startVictoriaLogs(dir, logsPort);
    started.push(logStore.process);
    const ports = await freeCollectorPorts();
    const secrets = { otlpToken: randomSecret(), firehoseAccessKey: randomSecret() };
    const col = await startCollector(
      dir,
      {
        storage: Storage.Prometheus,
        metricsWriteUrl: prometheus.writeUrl,
        traceEndpoint: jaeger.otlpGrpc,
        logsUrl: logStore.url,
        fileStorageDir: path.join(dir, "queue"),
        ...LOCAL_COLLECTOR_SETTINGS,
        ...collector,
        ports,
      },
      secrets,
    );
    started.push(col.process);
    const local: LocalPipeline = {
      firehose: {
        url: `http://127.0.0.1:${ports.firehose}${FIREHOSE_PATH}`,
        accessKey: secrets.firehoseAccessKey,
      },
      otlp: {
        url: `http://127.0.0.1:${ports.otlpHttp}`,
        headers: { authorization: `Bearer ${secrets.otlpToken}` },
      },
      prometheus: { url: prometheus.url },
      traces: { jaegerUrl: jaeger.url },
      logs: { url: logStore.url },
      firehoseLogs: {
        url: `http://127.0.0.1:${ports.firehoseLogs}${FIREHOSE_LOGS_PATH}`,
        accessKey: secrets.firehoseAccessKey,
      },
    };
    const running: RunningPipeline = {
      local,
      dir,
      collector: col,
      prometheus,
      jaeger,
      logStore,
      // Reads the handles when called: a test may have replaced a part by restarting it.
      stop: () =>
        stopAll(
          [
            running.collector.process,
            running.jaeger.process,
            running.logStore.process,
            running.prometheus.process,
          ],
          dir,
        ),
    };
    return running;
  } catch (error) {
    await stopAll(started.reverse(), dir);
    throw error;
  }
}

/** Stops the processes in order (collector first, so it can flush) and removes the temp directory. */
export async function stopAll(processes: StartedProcess[], dir?: string): Promise<void> {
  for (const p of processes) await stopProcess(p);
  if (dir?.includes("firefly-pipeline-")) fs.rmSync(dir, { recursive: true, force: true });
}

export { isRunning };
