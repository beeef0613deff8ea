// A gateway of several real collectors on loopback, each with the configuration the Kubernetes path
// renders (renderCollectorConfig with `peers`), only the resolver switched to `static` (the replicas'
// peer ports) and the stores swapped for loopback ones: one trace store per replica, recording which
// trace and span ids it was sent, and one Prometheus for every replica's span metrics.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import {
  COLLECTOR_PEER_TLS,
  COLLECTOR_REPLICA_ENV,
  COLLECTOR_SECRET_ENV,
  type CollectorPorts,
} from "../../components/contracts/collector";
import { renderCollectorConfig } from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import {
  freePorts,
  isRunning,
  type StartedProcess,
  startProcess,
  stopProcess,
  waitForHttp,
} from "../pipeline/processes";
import { binaries, type PrometheusHandle, startPrometheus } from "../pipeline/stack";

const EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

function fields(buf: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = varint(buf, pos);
    pos = afterTag;
    const wire = tag & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, start] = varint(buf, pos);
      if (tag >>> 3 === field) out.push(buf.subarray(start, start + len));
      pos = start + len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** An OTLP/gRPC trace store (h2c) that keeps span id → trace id of everything it accepted. */
export class RecordingStore {
  /** span id (hex) → trace id (hex); a redelivered span counts once. */
  readonly spans = new Map<string, string>();
  private server: http2.Http2Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(readonly port: number) {}

  get endpoint() {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = http2.createServer();
    server.on("connection", (s: net.Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", () => undefined);
      stream.on("end", () => {
        if (headers[":path"] === EXPORT_PATH) {
          const frame = Buffer.concat(chunks);
          let body = frame.subarray(5, 5 + frame.readUInt32BE(1));
          if (frame[0] === 1) body = zlib.gunzipSync(body);
          // resource_spans(1) → scope_spans(2) → spans(2) → trace_id(1), span_id(2)
          for (const rs of fields(body, 1))
            for (const ss of fields(rs, 2))
              for (const span of fields(ss, 2))
                this.spans.set(fields(span, 2)[0].toString("hex"), fields(span, 1)[0].toString("hex"));
        }
        if (stream.destroyed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.alloc(5));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface Replica {
  readonly name: string;
  readonly ports: Required<CollectorPorts>;
  readonly store: RecordingStore;
  readonly dir: string;
  readonly configFile: string;
  process: StartedProcess;
  /** OTLP/HTTP traces URL of this replica's public receiver. */
  readonly tracesUrl: string;
  readonly metricsUrl: string;
}

export interface ReplicaGateway {
  readonly token: string;
  readonly replicas: Replica[];
  readonly prometheus: PrometheusHandle;
  readonly dir: string;
  /** SIGKILL: no shutdown, no flush; what the replica held only in memory is gone. */
  kill(i: number): void;
  /** Starts replica i again with the same config and queue directory (a rescheduled pod keeps its claim). */
  restart(i: number): Promise<void>;
  /** SIGTERM, as Kubernetes stops a pod on scale-down: the collector shuts down in order. */
  terminate(i: number): Promise<void>;
  /** Rewrites replica i's config with only `peers` (replica indexes) in its static peer list; restart to apply. */
  setPeers(i: number, peers: number[]): void;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  readonly samplingPercent: number;
  readonly decisionWaitSeconds?: number;
}

/** What ShippingPhase makes with @pulumi/tls: a P-256 certificate for the peers Service's name. */
export function selfSignedPeerCertificate(dir: string) {
  const certFile = path.join(dir, "peer.crt");
  const keyFile = path.join(dir, "peer.key");
  const serverName = COLLECTOR_PEER_TLS.serverName;
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${serverName}`,
      "-addext",
      `subjectAltName=DNS:${serverName}`,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl (run .ci/setup.d/58-openssl.sh): ${r.stderr || r.error}`);
  return { certFile, keyFile, serverName };
}

/** Starts `count` collectors routing to each other, their trace stores and one Prometheus. */
export async function startReplicas(count: number, options: ReplicaOptions): Promise<ReplicaGateway> {
  const bin = binaries().collector.path;
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing; run npm run build:collector`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-replicas-"));
  const [promPort, ...ports] = await freePorts(1 + count * 10);
  const prometheus = await startPrometheus(dir, promPort);
  const token = `replica-token-${"x".repeat(32)}`;
  const portsOf = (i: number): Required<CollectorPorts> => {
    const [otlpGrpc, otlpHttp, firehose, health, zpages, metrics, otlpPeers, selfMetrics, firehoseLogs] =
      ports.slice(i * 10, i * 10 + 9);
    return { otlpGrpc, otlpHttp, firehose, health, zpages, metrics, otlpPeers, selfMetrics, firehoseLogs };
  };
  const peers = Array.from({ length: count }, (_, i) => `127.0.0.1:${portsOf(i).otlpPeers}`);
  const peerTls = selfSignedPeerCertificate(dir);
  const replicas: Replica[] = [];
  const env = (name: string) => ({
    [COLLECTOR_SECRET_ENV.otlpToken]: token,
    [COLLECTOR_SECRET_ENV.firehoseAccessKey]: `firehose-key-${"y".repeat(32)}`,
    [COLLECTOR_REPLICA_ENV]: name,
  });
  const writeConfig = (
    file: string,
    store: RecordingStore,
    rdir: string,
    p: Required<CollectorPorts>,
    hostnames: string[],
  ) =>
    fs.writeFileSync(
      file,
      renderCollectorConfig({
        storage: Storage.Prometheus,
        metricsWriteUrl: prometheus.writeUrl,
        traceEndpoint: store.endpoint,
        samplingPercent: options.samplingPercent,
        decisionWaitSeconds: options.decisionWaitSeconds,
        fileStorageDir: path.join(rdir, "queue"),
        bindAddress: "127.0.0.1",
        ports: p,
        peers: { static: { hostnames }, tls: peerTls },
      }),
    );
  const launch = async (r: Replica) => {
    r.process = startProcess(
      r.name,
      bin,
      [`--config=${r.configFile}`],
      path.join(r.dir, "collector.log"),
      env(r.name),
    );
    await waitForHttp(`http://127.0.0.1:${r.ports.health}/health`, r.process);
  };
  try {
    for (let i = 0; i < count; i++) {
      const name = `collector-${i}`;
      const rdir = path.join(dir, name);
      fs.mkdirSync(rdir);
      const store = new RecordingStore(ports[i * 10 + 9]);
      await store.start();
      const p = portsOf(i);
      const configFile = path.join(rdir, "collector.yaml");
      writeConfig(configFile, store, rdir, p, peers);
      const r: Replica = {
        name,
        ports: p,
        store,
        dir: rdir,
        configFile,
        process: undefined as unknown as StartedProcess,
        tracesUrl: `http://127.0.0.1:${p.otlpHttp}/v1/traces`,
        metricsUrl: `http://127.0.0.1:${p.metrics}/metrics`,
      };
      replicas.push(r);
      await launch(r);
    }
  } catch (error) {
    for (const r of replicas) if (r.process) await stopProcess(r.process);
    await stopProcess(prometheus.process);
    throw error;
  }
  return {
    token,
    replicas,
    prometheus,
    dir,
    kill(i) {
      const p = replicas[i].process;
      if (isRunning(p)) process.kill(p.pid, "SIGKILL");
    },
    async restart(i) {
      await launch(replicas[i]);
    },
    async terminate(i) {
      await stopProcess(replicas[i].process, 30_000);
    },
    setPeers(i, indexes) {
      const r = replicas[i];
      writeConfig(
        r.configFile,
        r.store,
        r.dir,
        r.ports,
        indexes.map((j) => peers[j]),
      );
    },
    async stop() {
      for (const r of replicas) {
        await stopProcess(r.process);
        await r.store.stop();
      }
      await stopProcess(prometheus.process);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
