// The gateway collector as a host-neutral service: the rendered config as a file, the secrets as
// secret env (the config reads them through ${env:…}), a volume for the persistent trace queue.
import type * as pulumi from "@pulumi/pulumi";
import {
  COLLECTOR_PEER_TLS,
  COLLECTOR_REPLICA_ENV,
  COLLECTOR_SERVICE,
  COLLECTOR_STORE_AUTH_ENV,
} from "../contracts/collector";
import type { GatewayScale } from "../hosts/adapter";
import type { ServiceSpec } from "../hosts/spec";
import {
  COLLECTOR_ARGS,
  COLLECTOR_CONFIG_PATH,
  COLLECTOR_FILE_STORAGE_DIR,
  COLLECTOR_HEALTH_PATH,
  COLLECTOR_IMAGE,
  COLLECTOR_PORTS,
  COLLECTOR_SECRET_ENV,
  COLLECTOR_USER,
  type CollectorConfigOptions,
  renderCollectorConfig,
} from "./collectorConfig";

export { COLLECTOR_SERVICE } from "../contracts/collector";
/** Size of the trace queue volume (GiB): hours of traces at Lambda-scale rates. */
export const COLLECTOR_QUEUE_SIZE_GB = 5;
/** Replicas on hosts that scale out, unless the host's settings say otherwise. */
export const COLLECTOR_REPLICAS = 1;
export const COLLECTOR_MAX_REPLICAS = 1;

export interface CollectorServiceOptions {
  readonly config: CollectorConfigOptions;
  readonly otlpToken: pulumi.Input<string>;
  readonly firehoseAccessKey: pulumi.Input<string>;
  /** Image to run. Default: COLLECTOR_IMAGE (official contrib image of the pinned release). */
  readonly image?: string;
  /** Replicas on a host that scales out (Kubernetes). Default: one. */
  readonly scale?: GatewayScale;
  /** Values of the auth headers for stores you run yourself (secrets). Default: none. */
  readonly storeAuth?: {
    readonly metrics?: pulumi.Input<string>;
    readonly traces?: pulumi.Input<string>;
    readonly logs?: pulumi.Input<string>;
  };
  /** Ports of the stores you run (storage external), opened where a host fences egress. Default: none. */
  readonly externalEgressPorts?: number[];
  /** The peer port's certificate and key (PEM), when replicas route traces to each other. */
  readonly peerTls?: {
    readonly certificate: pulumi.Input<string>;
    readonly privateKey: pulumi.Input<string>;
  };
}

export function collectorService(options: CollectorServiceOptions): ServiceSpec {
  const config = renderCollectorConfig(options.config);
  const ports = { ...COLLECTOR_PORTS, ...(options.config.ports ?? {}) };
  // Replicas route traces to each other only when they sample (see collectorConfig's `peers`).
  const routed = options.config.peers !== undefined && (options.config.samplingPercent ?? 100) < 100;
  return {
    name: COLLECTOR_SERVICE,
    image: options.image ?? COLLECTOR_IMAGE,
    args: COLLECTOR_ARGS,
    secretEnv: {
      [COLLECTOR_SECRET_ENV.otlpToken]: options.otlpToken,
      [COLLECTOR_SECRET_ENV.firehoseAccessKey]: options.firehoseAccessKey,
      ...(options.storeAuth?.metrics !== undefined
        ? { [COLLECTOR_STORE_AUTH_ENV.metrics]: options.storeAuth.metrics }
        : {}),
      ...(options.storeAuth?.traces !== undefined
        ? { [COLLECTOR_STORE_AUTH_ENV.traces]: options.storeAuth.traces }
        : {}),
      ...(options.storeAuth?.logs !== undefined
        ? { [COLLECTOR_STORE_AUTH_ENV.logs]: options.storeAuth.logs }
        : {}),
    },
    ports: [
      { name: "otlp-grpc", container: ports.otlpGrpc, protocol: "grpc" },
      { name: "otlp-http", container: ports.otlpHttp, public: true, protocol: "http" },
      { name: "firehose", container: ports.firehose, public: true, protocol: "http" },
      { name: "firehose-logs", container: ports.firehoseLogs, public: true, protocol: "http" },
      { name: "health", container: ports.health, protocol: "http" },
      ...(routed ? [{ name: "otlp-peers", container: ports.otlpPeers, protocol: "grpc" as const }] : []),
    ],
    files: [
      { path: COLLECTOR_CONFIG_PATH, content: config },
      ...(routed && options.peerTls
        ? [
            { path: COLLECTOR_PEER_TLS.certPath, content: options.peerTls.certificate },
            { path: COLLECTOR_PEER_TLS.keyPath, content: options.peerTls.privateKey, secret: true },
          ]
        : []),
    ],
    volumes: [
      {
        name: "collector-queue",
        mountPath: options.config.fileStorageDir ?? COLLECTOR_FILE_STORAGE_DIR,
        sizeGb: COLLECTOR_QUEUE_SIZE_GB,
        owner: COLLECTOR_USER,
      },
    ],
    health: { port: ports.health, path: COLLECTOR_HEALTH_PATH },
    resources: { cpu: 1, memoryMb: 1024 },
    user: COLLECTOR_USER,
    // The contrib image is FROM scratch (no /tmp, nothing writable for its user): the queue and its
    // compaction directory are on the volume, and nothing else is written.
    scratch: [],
    // Each replica keeps its own trace queue on its own volume, which follows it when rescheduled.
    stateful: true,
    replicas: options.scale?.replicas ?? COLLECTOR_REPLICAS,
    maxReplicas: options.scale?.maxReplicas ?? COLLECTOR_MAX_REPLICAS,
    cpuPercent: options.scale?.cpuPercent,
    replicaNameEnv: COLLECTOR_REPLICA_ENV,
    peerPorts: routed ? ["otlp-peers"] : undefined,
    externalEgressPorts: options.externalEgressPorts,
  };
}
