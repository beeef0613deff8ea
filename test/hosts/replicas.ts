// A gateway of several real collectors on loopback, each with the configuration the Kubernetes path
// renders (renderCollectorConfig with `peers`), only the resolver switched to `static` (the replicas'
// peer ports) and the stores swapped for loopback ones: one trace store per replica, recording which
// trace and span ids it was sent, and one Prometheus for every replica's span metrics.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  COLLECTOR_PEER_TLS,
  COLLECTOR_REPLICA_ENV,
  COLLECTOR_SECRET_ENV,
  type CollectorPorts,
} from "../../components/contracts/collector";
import { renderCollectorConfig } from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { TraceStore } from "../faults/traceStore";
import {
  freePorts,
  isRunning,
  type StartedProcess,
  startProcess,
  stopProcess,
  waitForHttp,
} from "../pipeline/processes";
import { binaries, type PrometheusHandle, startPrometheus } from "../pipeline/stack";

export interface Replica {
  readonly name: string;
  readonly ports: Required<CollectorPorts>;
  readonly store: TraceStore;
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
    store: TraceStore,
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
      const store = new TraceStore(ports[i * 10 + 9]);
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
