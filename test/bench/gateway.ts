// Gateway throughput: the built collector (collector/dist/firefly-otelcol) under the production
// configuration from renderCollectorConfig versus a pass-through configuration of the same binary,
// both exporting to the same counting sinks on loopback. Spans come from telemetrygen (the collector
// project's load generator, from the Go module proxy); Firehose deliveries from firehoseLoad.ts.
// Throughput is what the gateway's own otlp receiver accepted per second (its Prometheus self-metrics),
// with the load generators running flat out; memory is the collector's peak RSS during that load.
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { stringify } from "yaml";
import { COLLECTOR_REPLICA_ENV } from "../../components/contracts/collector";
import {
  COLLECTOR_SECRET_ENV,
  type CollectorPorts,
  renderCollectorConfig,
} from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { selfSignedPeerCertificate } from "../hosts/replicas";
import { freePorts } from "../pipeline/processes";
import { firehoseLoad } from "./firehoseLoad";
import {
  cpuSeconds,
  QUICK,
  REPO,
  round,
  rssSampler,
  type Started,
  scrapeSum,
  sleep,
  start,
  stop,
  tail,
  waitReady,
} from "./util";

const COLLECTOR = process.env.FIREFLY_COLLECTOR_BIN ?? path.join(REPO, "collector/dist/firefly-otelcol");

export function telemetrygenPath(): string | undefined {
  const candidates = [
    process.env.TELEMETRYGEN_BIN,
    path.join(process.env.GOPATH ?? path.join(os.homedir(), "go"), "bin", "telemetrygen"),
    path.join(REPO, ".firefly/tools/telemetrygen"),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

export interface Sinks {
  traceEndpoint: string;
  metricsWriteUrl: string;
  counts: { traceRequests: number; traceBytes: number; writeRequests: number; writeBytes: number };
  close(): Promise<void>;
}

/**
 * Counting sinks: an OTLP/gRPC trace service that answers every Export with an empty (valid)
 * response, and a remote-write endpoint that answers 204. They count requests and bytes without
 * decoding, so a store's speed does not cap the collector's.
 */
async function startSinks(): Promise<Sinks> {
  const counts = { traceRequests: 0, traceBytes: 0, writeRequests: 0, writeBytes: 0 };
  const raw = (b: Buffer) => b;
  const server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        counts.traceRequests++;
        counts.traceBytes += call.request.length;
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  const httpServer = http.createServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      counts.writeBytes += chunk.length;
    });
    req.on("end", () => {
      counts.writeRequests++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const httpPort = (httpServer.address() as { port: number }).port;
  return {
    traceEndpoint: `127.0.0.1:${grpcPort}`,
    metricsWriteUrl: `http://127.0.0.1:${httpPort}/api/v1/write`,
    counts,
    async close() {
      server.forceShutdown();
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
}

/** Same binary, no auth, no processors: OTLP straight to the trace sink, Firehose straight to remote write. */
function passThroughConfig(ports: CollectorPorts, sinks: Sinks): string {
  return stringify({
    extensions: {
      health_check: { endpoint: `127.0.0.1:${ports.health}`, path: "/health" },
      awscloudwatchmetricstreams_encoding: { format: "opentelemetry1.0" },
    },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` } } },
      awsfirehose: {
        endpoint: `127.0.0.1:${ports.firehose}`,
        encoding: "awscloudwatchmetricstreams_encoding",
        access_key: "${env:" + COLLECTOR_SECRET_ENV.firehoseAccessKey + "}",
      },
    },
    exporters: {
      otlp: { endpoint: sinks.traceEndpoint, tls: { insecure: true } },
      prometheusremotewrite: { endpoint: sinks.metricsWriteUrl, remote_write_queue: { enabled: false } },
    },
    service: {
      extensions: ["health_check", "awscloudwatchmetricstreams_encoding"],
      pipelines: {
        traces: { receivers: ["otlp"], exporters: ["otlp"] },
        metrics: { receivers: ["awsfirehose"], exporters: ["prometheusremotewrite"] },
      },
      telemetry: {
        logs: { level: "warn" },
        metrics: {
          level: "normal",
          readers: [{ pull: { exporter: { prometheus: { host: "127.0.0.1", port: ports.metrics } } } }],
        },
      },
    },
  });
}

export interface GatewayVariantResult {
  config: "production" | "pass-through";
  spansPerSecond: number;
  spansRefused: number;
  spanRssPeakMiB: number;
  /** CPU the collector used during the span load, in cores (2 = all of this machine). */
  spanCollectorCores: number;
  /** Spans accepted per CPU second the collector used (load and drain): its capacity when the load generators, not it, set the pace. */
  spansPerCpuSecond: number;
  firehoseRecordsPerSecond: number;
  firehoseDatapointsPerSecond: number;
  firehoseFailed: number;
  firehoseRssPeakMiB: number;
  /** CPU the collector used during the Firehose load, in cores. */
  firehoseCollectorCores: number;
  /** Firehose records accepted per collector CPU second. */
  firehoseRecordsPerCpuSecond: number;
  exportedSpans: number;
  tracesSampled: number;
  tracesNotSampled: number;
  /** Traces tail sampling had to drop before their decision because num_traces was full. */
  tracesDroppedTooEarly: number;
  sinkTraceRequests: number;
  sinkWriteRequests: number;
}

export interface ReplicaBenchResult {
  replicas: number;
  /** Spans the replicas' public receivers accepted per second, all replicas together. */
  spansPerSecond: number;
  /** Spans accepted per CPU second all replicas used (load and drain): the figure that matters on 2 cores. */
  spansPerCpuSecond: number;
  /** CPU all replicas used during the load, in cores. */
  collectorCores: number;
  /** Spans that crossed to a peer (accepted by the otlp/peers receivers). */
  spansRouted: number;
  /** Spans the replicas' trace exporters sent after sampling. */
  exportedSpans: number;
  tracesDroppedTooEarly: number;
}

export interface GatewayResult {
  seconds: number;
  telemetrygen: string;
  processes: number;
  workersPerProcess: number;
  batchSize: number;
  childSpans: number;
  firehose: {
    concurrency: number;
    recordsPerRequest: number;
    requestsPerRecord: number;
    metricsPerRequest: number;
  };
  sinks: string;
  variants: GatewayVariantResult[];
  /**
   * The Kubernetes scale-out configuration (sampling 10 %, traces routed by trace id over TLS to the
   * replica that samples them) with 1, 2 and 3 replicas on this machine; telemetrygen processes split
   * over the replicas as a Service would spread clients.
   */
  replicas: ReplicaBenchResult[];
  replicaSamplingPercent: number;
  /** production ÷ pass-through, of the rates reached and of the rates per collector CPU second. */
  ratios: { spans: number; firehoseRecords: number; spansPerCpu: number; firehoseRecordsPerCpu: number };
}

// One telemetrygen process tops out near 7k spans/s with its default batch of 100 (its own exporter is
// the limit); four processes of two workers sending batches of 1,000 saturate the gateway on 2 cores
// (more load generators only steal CPU from it: measured 66k pass-through spans/s at 4 processes, 53k at 8).
const PROCESSES = QUICK ? 1 : 4;
const WORKERS = 2;
const BATCH = 1000;
const CHILD_SPANS = 4;
/** Seconds the span CPU count runs on after the load: the production decision wait (10 s) and a margin. */
const DRAIN_SECONDS = QUICK ? 0 : 12;
const FIREHOSE = { concurrency: 8, recordsPerRequest: 100, requestsPerRecord: 2, metricsPerRequest: 5 };

export interface Gateway {
  config: "production" | "pass-through";
  ports: CollectorPorts;
  /** Bearer token OTLP clients must send (production only; pass-through takes anything). */
  token: string;
  accessKey: string;
  metricsUrl: string;
  pid: number;
  sinks: Sinks;
  log: string;
  stop(): Promise<void>;
}

/** Starts the built collector with the chosen configuration in front of fresh counting sinks. */
export async function startGateway(config: Gateway["config"]): Promise<Gateway> {
  const sinks = await startSinks();
  // Held open together, so no two come back the same (one at a time, the system may reuse one).
  const [otlpGrpc, otlpHttp, firehose, firehoseLogs, health, zpages, metrics, selfMetrics] =
    await freePorts(8);
  const ports: CollectorPorts = {
    otlpGrpc,
    otlpHttp,
    firehose,
    firehoseLogs,
    health,
    zpages,
    metrics,
    selfMetrics,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `firefly-bench-gw-${config}-`));
  const token = crypto.randomUUID();
  const accessKey = crypto.randomUUID();
  const yaml =
    config === "production"
      ? renderCollectorConfig({
          storage: Storage.Prometheus,
          metricsWriteUrl: sinks.metricsWriteUrl,
          traceEndpoint: sinks.traceEndpoint,
          fileStorageDir: path.join(dir, "queue"),
          bindAddress: "127.0.0.1",
          ports,
        })
      : passThroughConfig(ports, sinks);
  const configFile = path.join(dir, "collector.yaml");
  fs.writeFileSync(configFile, yaml);
  const collector: Started = start(COLLECTOR, [`--config=${configFile}`], path.join(dir, "collector.log"), {
    [COLLECTOR_SECRET_ENV.otlpToken]: token,
    [COLLECTOR_SECRET_ENV.firehoseAccessKey]: accessKey,
  });
  const stopAll = async () => {
    await stop(collector);
    await sinks.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`http://127.0.0.1:${ports.health}/health`, collector);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    config,
    ports,
    token,
    accessKey,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    pid: collector.child.pid!,
    sinks,
    log: collector.log,
    stop: stopAll,
  };
}

// Spans and Firehose each get a fresh collector: after a span load the production gateway is still busy
// for a while (tail sampling holds traces for its decision wait, then span metrics and the file-backed
// queue drain), which would be charged to the Firehose figure and not to pass-through's.
async function spanPhase(config: GatewayVariantResult["config"], seconds: number, telemetrygen: string) {
  const gw = await startGateway(config);
  try {
    // telemetrygen flat out over OTLP/gRPC, with the bearer token the production gateway demands.
    const acceptedBefore = await scrapeSum(gw.metricsUrl, "otelcol_receiver_accepted_spans_total");
    const rss = rssSampler(gw.pid);
    const cpu0 = cpuSeconds(gw.pid);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) =>
        runTelemetrygen(telemetrygen, gw.ports.otlpGrpc, gw.token, seconds, `${gw.log}.telemetrygen-${i}`),
      ),
    );
    const elapsed = (Date.now() - t0) / 1000;
    const cpuDuringLoad = cpuSeconds(gw.pid) - cpu0;
    const accepted =
      (await scrapeSum(gw.metricsUrl, "otelcol_receiver_accepted_spans_total")) - acceptedBefore;
    // Tail sampling decides a trace only after its decision wait, and span metrics flush later still:
    // that work belongs to these spans too, so the CPU count runs on until it is done.
    await sleep(DRAIN_SECONDS * 1000);
    const cpu = cpuSeconds(gw.pid) - cpu0;
    const mem = rss.stop();
    return {
      spansPerSecond: Math.round(accepted / elapsed),
      spansRefused: await scrapeSum(gw.metricsUrl, "otelcol_receiver_refused_spans_total"),
      spanRssPeakMiB: round(mem.peak, 1),
      spanCollectorCores: round(cpuDuringLoad / elapsed, 2),
      spansPerCpuSecond: Math.round(accepted / cpu),
      exportedSpans: await scrapeSum(gw.metricsUrl, "otelcol_exporter_sent_spans_total"),
      // Production only: what tail sampling decided once the decision wait had passed.
      tracesSampled: await scrapeSum(
        gw.metricsUrl,
        "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
        'decision="sampled"',
      ),
      tracesNotSampled: await scrapeSum(
        gw.metricsUrl,
        "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
        'decision="not_sampled"',
      ),
      tracesDroppedTooEarly: await scrapeSum(
        gw.metricsUrl,
        "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total",
      ),
      sinkTraceRequests: gw.sinks.counts.traceRequests,
    };
  } finally {
    await gw.stop();
  }
}

async function firehosePhase(config: GatewayVariantResult["config"], seconds: number) {
  const gw = await startGateway(config);
  try {
    // Deliveries back to back; records/s counts only those answered 200.
    const rss = rssSampler(gw.pid);
    const cpu0 = cpuSeconds(gw.pid);
    const fh = await firehoseLoad({
      url: `http://127.0.0.1:${gw.ports.firehose}/`,
      accessKey: gw.accessKey,
      seconds,
      ...FIREHOSE,
    });
    const cpu = cpuSeconds(gw.pid) - cpu0;
    const mem = rss.stop();
    if (fh.requests === 0)
      throw new Error(`gateway (${config}): no Firehose delivery succeeded:\n${tail(gw.log)}`);
    return {
      firehoseRecordsPerSecond: Math.round(fh.records / fh.seconds),
      firehoseDatapointsPerSecond: Math.round(fh.datapoints / fh.seconds),
      firehoseFailed: fh.failed,
      firehoseRssPeakMiB: round(mem.peak, 1),
      firehoseCollectorCores: round(cpu / fh.seconds, 2),
      firehoseRecordsPerCpuSecond: Math.round(fh.records / cpu),
      sinkWriteRequests: gw.sinks.counts.writeRequests,
    };
  } finally {
    await gw.stop();
  }
}

async function runVariant(
  config: GatewayVariantResult["config"],
  seconds: number,
  telemetrygen: string,
): Promise<GatewayVariantResult> {
  return {
    config,
    ...(await spanPhase(config, seconds, telemetrygen)),
    ...(await firehosePhase(config, seconds)),
  };
}

function runTelemetrygen(
  bin: string,
  port: number,
  token: string,
  seconds: number,
  log: string,
): Promise<void> {
  const s = start(
    bin,
    [
      "traces",
      "--otlp-endpoint",
      `127.0.0.1:${port}`,
      "--otlp-insecure",
      "--otlp-header",
      `authorization="Bearer ${token}"`,
      "--rate",
      "0",
      "--workers",
      String(WORKERS),
      "--batch-size",
      String(BATCH),
      "--child-spans",
      String(CHILD_SPANS),
      "--duration",
      `${seconds}s`,
      "--service",
      "bench-fn",
      // spanmetrics groups by these; without them the production pipeline does less work than in use.
      "--telemetry-attributes",
      'faas.name="bench-fn"',
      "--telemetry-attributes",
      'faas.trigger="http"',
      "--allow-export-failures",
    ],
    log,
  );
  return new Promise((resolve, reject) =>
    s.child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`telemetrygen exited with ${code}:\n${tail(log)}`)),
    ),
  );
}

const REPLICA_SAMPLING_PERCENT = 10;

/** `count` production collectors in the scale-out configuration, each with its own counting sinks. */
export async function startReplicaGateway(count: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `firefly-bench-replicas-${count}-`));
  const tls = selfSignedPeerCertificate(dir);
  const token = crypto.randomUUID();
  // Every replica's ports held open together, so no two come back the same.
  const free = await freePorts(count * 9);
  const ports = Array.from({ length: count }, (_, i) => {
    const [otlpGrpc, otlpHttp, firehose, health, zpages, metrics, otlpPeers, selfMetrics, firehoseLogs] =
      free.slice(i * 9, i * 9 + 9);
    return { otlpGrpc, otlpHttp, firehose, health, zpages, metrics, otlpPeers, selfMetrics, firehoseLogs };
  });
  const peers = ports.map((p) => `127.0.0.1:${p.otlpPeers}`);
  const replicas: { pid: number; sinks: Sinks; started: Started; ports: (typeof ports)[number] }[] = [];
  const stopAll = async () => {
    for (const r of replicas) {
      await stop(r.started);
      await r.sinks.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const sinks = await startSinks();
      const rdir = path.join(dir, `collector-${i}`);
      fs.mkdirSync(rdir);
      const configFile = path.join(rdir, "collector.yaml");
      fs.writeFileSync(
        configFile,
        renderCollectorConfig({
          storage: Storage.Prometheus,
          metricsWriteUrl: sinks.metricsWriteUrl,
          traceEndpoint: sinks.traceEndpoint,
          fileStorageDir: path.join(rdir, "queue"),
          bindAddress: "127.0.0.1",
          ports: ports[i],
          samplingPercent: REPLICA_SAMPLING_PERCENT,
          peers: { static: { hostnames: peers }, tls },
        }),
      );
      const started = start(COLLECTOR, [`--config=${configFile}`], path.join(rdir, "collector.log"), {
        [COLLECTOR_SECRET_ENV.otlpToken]: token,
        [COLLECTOR_SECRET_ENV.firehoseAccessKey]: crypto.randomUUID(),
        [COLLECTOR_REPLICA_ENV]: `collector-${i}`,
      });
      replicas.push({ pid: started.child.pid!, sinks, started, ports: ports[i] });
      await waitReady(`http://127.0.0.1:${ports[i].health}/health`, started);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { token, replicas, stop: stopAll };
}

async function replicaPhase(
  count: number,
  seconds: number,
  telemetrygen: string,
): Promise<ReplicaBenchResult> {
  const gw = await startReplicaGateway(count);
  const metrics = gw.replicas.map((r) => `http://127.0.0.1:${r.ports.metrics}/metrics`);
  const sum = async (metric: string, filter = "") =>
    (await Promise.all(metrics.map((m) => scrapeSum(m, metric, filter)))).reduce((a, b) => a + b, 0);
  const cpu = () => gw.replicas.reduce((n, r) => n + cpuSeconds(r.pid), 0);
  try {
    const accepted0 = await sum("otelcol_receiver_accepted_spans_total", 'receiver="otlp"');
    const cpu0 = cpu();
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) => {
        const r = gw.replicas[i % count];
        return runTelemetrygen(
          telemetrygen,
          r.ports.otlpGrpc,
          gw.token,
          seconds,
          `${r.started.log}.telemetrygen-${i}`,
        );
      }),
    );
    const elapsed = (Date.now() - t0) / 1000;
    const cpuDuringLoad = cpu() - cpu0;
    const accepted = (await sum("otelcol_receiver_accepted_spans_total", 'receiver="otlp"')) - accepted0;
    await sleep(DRAIN_SECONDS * 1000);
    return {
      replicas: count,
      spansPerSecond: Math.round(accepted / elapsed),
      spansPerCpuSecond: Math.round(accepted / (cpu() - cpu0)),
      collectorCores: round(cpuDuringLoad / elapsed, 2),
      spansRouted: await sum("otelcol_receiver_accepted_spans_total", 'receiver="otlp/peers"'),
      exportedSpans: await sum("otelcol_exporter_sent_spans_total", 'exporter="otlp_grpc/traces"'),
      tracesDroppedTooEarly: await sum(
        "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total",
      ),
    };
  } finally {
    await gw.stop();
  }
}

/** The scale-out configuration with 1, 2 and 3 replicas (`BENCH_ONLY=replicas` runs only this). */
export async function benchReplicas(): Promise<Pick<GatewayResult, "replicas" | "replicaSamplingPercent">> {
  const telemetrygen = telemetrygenPath();
  if (!telemetrygen) throw new Error("gateway bench: telemetrygen is missing (see benchGateway)");
  const seconds = QUICK ? 2 : 15;
  const replicas: ReplicaBenchResult[] = [];
  for (const n of QUICK ? [1, 2] : [1, 2, 3]) replicas.push(await replicaPhase(n, seconds, telemetrygen));
  return { replicas, replicaSamplingPercent: REPLICA_SAMPLING_PERCENT };
}

export async function benchGateway(): Promise<GatewayResult> {
  if (!fs.existsSync(COLLECTOR)) {
    throw new Error(`gateway bench: ${COLLECTOR} is missing; run \`npm run build:collector\``);
  }
  const telemetrygen = telemetrygenPath();
  if (!telemetrygen) {
    throw new Error(
      "gateway bench: telemetrygen is missing; run `go install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.145.0` (or set TELEMETRYGEN_BIN)",
    );
  }
  const seconds = QUICK ? 2 : 15;
  const variants = [
    await runVariant("pass-through", seconds, telemetrygen),
    await runVariant("production", seconds, telemetrygen),
  ];
  const [pass, prod] = variants;
  return {
    seconds,
    telemetrygen: "telemetrygen v0.145.0 traces, OTLP/gRPC, --rate 0",
    processes: PROCESSES,
    workersPerProcess: WORKERS,
    batchSize: BATCH,
    childSpans: CHILD_SPANS,
    firehose: FIREHOSE,
    sinks: "in-process counting sinks: OTLP/gRPC TraceService (empty reply) and remote write (204)",
    variants,
    ...(await benchReplicas()),
    ratios: {
      spans: round(prod.spansPerSecond / pass.spansPerSecond, 3),
      firehoseRecords: round(prod.firehoseRecordsPerSecond / pass.firehoseRecordsPerSecond, 3),
      spansPerCpu: round(prod.spansPerCpuSecond / pass.spansPerCpuSecond, 3),
      firehoseRecordsPerCpu: round(prod.firehoseRecordsPerCpuSecond / pass.firehoseRecordsPerCpuSecond, 3),
    },
  };
}
