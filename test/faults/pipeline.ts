// The suite's own pipeline, separate from the shared local one (own ports, own data directories) so
// that stopping, killing and restarting its parts disturbs nobody: the real collector binary with the
// configuration renderCollectorConfig ships, real Prometheus as the metric store, and the restartable
// OTLP/gRPC trace store.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  COLLECTOR_HEALTH_PATH,
  COLLECTOR_SECRET_ENV,
  type CollectorConfigOptions,
  type CollectorPorts,
  collectorConfigObject,
} from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { binaries, freeCollectorPorts } from "../pipeline/stack";
import { freePort, httpGet, ManagedProcess, sleep, tempDir } from "./control";
import { TraceStore } from "./traceStore";

export const COLLECTOR_BINARY = path.resolve(__dirname, "../../collector/dist/firefly-otelcol");
export const PROMETHEUS_BINARY = process.env.FIREFLY_PROMETHEUS ?? "/usr/bin/prometheus";

export interface FaultPipeline {
  readonly dir: string;
  readonly ports: CollectorPorts;
  readonly otlpToken: string;
  readonly firehoseKey: string;
  readonly collector: ManagedProcess;
  readonly prometheus: ManagedProcess;
  readonly prometheusUrl: string;
  readonly traceStore: TraceStore;
  readonly otlpTracesUrl: string;
  readonly firehoseUrl: string;
  /** The real log store (VictoriaLogs), restartable on its data directory. */
  readonly logStore: ManagedProcess;
  readonly logsUrl: string;
  readonly otlpLogsUrl: string;
  readonly firehoseLogsUrl: string;
  stop(): Promise<void>;
}

const up = async (url: string) => (await httpGet(url, 2_000)).status === 200;

/** Starts Prometheus, the trace store and the collector; `overrides` tune the rendered collector config. */
export async function startFaultPipeline(
  overrides: Partial<CollectorConfigOptions> = {},
  /** Changes the rendered config before it is written: for trying a design fix, never in a test. */
  edit: (config: Record<string, any>) => void = () => undefined,
): Promise<FaultPipeline> {
  const dir = tempDir("pipeline");
  const ports = await freeCollectorPorts();
  const promPort = await freePort();
  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  // Secrets are per run and random: the suite also proves that nothing gets in without them.
  const otlpToken = randomBytes(24).toString("hex");
  const firehoseKey = randomBytes(24).toString("hex");

  const promConfig = path.join(dir, "prometheus.yml");
  fs.writeFileSync(promConfig, "global:\n  scrape_interval: 1m\n");
  const prometheus = new ManagedProcess(
    {
      name: "prometheus",
      command: PROMETHEUS_BINARY,
      args: [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(dir, "prometheus-data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--web.enable-remote-write-receiver",
      ],
      ready: () => up(`${prometheusUrl}/-/ready`),
    },
    dir,
  );

  const traceStore = new TraceStore(await freePort());
  const logsUrl = `http://127.0.0.1:${await freePort()}`;
  const logStore = new ManagedProcess(
    {
      name: "victorialogs",
      command: binaries().victorialogs.path,
      args: [
        `-httpListenAddr=${logsUrl.slice("http://".length)}`,
        `-storageDataPath=${path.join(dir, "victorialogs-data")}`,
        "-loggerLevel=WARN",
      ],
      ready: () => up(`${logsUrl}/health`),
    },
    dir,
  );

  const configFile = path.join(dir, "collector.yaml");
  const config = collectorConfigObject({
    storage: Storage.Prometheus,
    metricsWriteUrl: `${prometheusUrl}/api/v1/write`,
    traceEndpoint: traceStore.endpoint,
    logsUrl,
    // Everything is kept, so "stored" can be compared with "sent"; the rest is the shipped default.
    samplingPercent: 100,
    fileStorageDir: path.join(dir, "queue"),
    bindAddress: "127.0.0.1",
    ports,
    ...overrides,
  });
  edit(config);
  fs.writeFileSync(configFile, stringify(config, { lineWidth: 0 }));
  const collector = new ManagedProcess(
    {
      name: "collector",
      command: COLLECTOR_BINARY,
      args: [`--config=${configFile}`],
      env: {
        [COLLECTOR_SECRET_ENV.otlpToken]: otlpToken,
        [COLLECTOR_SECRET_ENV.firehoseAccessKey]: firehoseKey,
      },
      ready: () => up(`http://127.0.0.1:${ports.health}${COLLECTOR_HEALTH_PATH}`),
    },
    dir,
  );

  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const part of started.reverse()) await part.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await prometheus.start();
    started.push(prometheus);
    await traceStore.start();
    started.push(traceStore);
    await logStore.start();
    started.push(logStore);
    await collector.start();
    started.push(collector);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    dir,
    ports,
    otlpToken,
    firehoseKey,
    collector,
    prometheus,
    prometheusUrl,
    traceStore,
    otlpTracesUrl: `http://127.0.0.1:${ports.otlpHttp}/v1/traces`,
    firehoseUrl: `http://127.0.0.1:${ports.firehose}/`,
    logStore,
    logsUrl,
    otlpLogsUrl: `http://127.0.0.1:${ports.otlpHttp}/v1/logs`,
    firehoseLogsUrl: `http://127.0.0.1:${ports.firehoseLogs}/`,
    stop,
  };
}

/** Instant PromQL query; returns the result vector. */
export async function promQuery(
  prometheusUrl: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const { status, body } = await httpGet(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (status !== 200) throw new Error(`Prometheus answered ${status}: ${body}`);
  return JSON.parse(body).data.result;
}

/** Items waiting in the collector's persistent trace queue (its own metrics, on the localhost-only port). */
export async function traceQueueSize(pipeline: FaultPipeline): Promise<number> {
  const { body } = await httpGet(`http://127.0.0.1:${pipeline.ports.metrics}/metrics`);
  const line = body
    .split("\n")
    .find((l) => l.startsWith("otelcol_exporter_queue_size{") && l.includes('data_type="traces"'));
  if (!line) throw new Error("the collector does not report otelcol_exporter_queue_size for traces");
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * Waits until every id in `expected` is stored, or until the pipeline has settled without them: the
 * trace queue empty and nothing new stored for `quietMs`. Only for faults where the store stayed up, so
 * no export is sitting in a retry backoff. Returns the ids still missing.
 */
export async function settle(
  pipeline: FaultPipeline,
  expected: Set<string>,
  quietMs: number,
  timeoutMs: number,
) {
  const missing = () => [...expected].filter((id) => !pipeline.traceStore.spans.has(id));
  const deadline = Date.now() + timeoutMs;
  let lastCount = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline && missing().length > 0) {
    const count = pipeline.traceStore.spans.size;
    if (count !== lastCount) [lastCount, lastChange] = [count, Date.now()];
    else if (Date.now() - lastChange >= quietMs && (await traceQueueSize(pipeline)) === 0) break;
    await sleep(500);
  }
  return missing();
}

/**
 * Registers before/after hooks that give the enclosing describe its own pipeline; returns a getter.
 * Missing binaries fail the suite loudly (CI builds them): a skipped fault would prove nothing.
 */
export function usePipeline(missing: () => string | undefined): () => FaultPipeline {
  let pipeline: FaultPipeline | undefined;
  before(async () => {
    const why = missing();
    if (why) throw new Error(why);
    pipeline = await startFaultPipeline();
  });
  after(async () => {
    await pipeline?.stop();
  });
  return () => {
    if (!pipeline) throw new Error("the fault pipeline did not start");
    return pipeline;
  };
}
