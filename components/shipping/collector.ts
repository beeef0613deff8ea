// The gateway collector as a host-neutral service: the rendered config as a file, the secrets as
// secret env (the config reads them through ${env:…}), a volume for the persistent trace queue.
import type * as pulumi from "@pulumi/pulumi";
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

/** Service name (and in-host hostname) of the gateway collector. */
export const COLLECTOR_SERVICE = "collector";
/** Size of the trace queue volume (GiB): hours of traces at Lambda-scale rates. */
export const COLLECTOR_QUEUE_SIZE_GB = 5;
/** Replicas on Kubernetes. */
export const COLLECTOR_REPLICAS = 1;
/**
 * Autoscaler ceiling on Kubernetes, held at one for now: a second replica would write span-metric
 * series identical to the first's (no per-replica label in the collector config yet) and sample traces
 * it sees only part of (no trace-ID load-balancing tier yet). docs/hosts.md says what raising it needs.
 */
export const COLLECTOR_MAX_REPLICAS = 1;

export interface CollectorServiceOptions {
  readonly config: CollectorConfigOptions;
  readonly otlpToken: pulumi.Input<string>;
  readonly firehoseAccessKey: pulumi.Input<string>;
  /** Image to run. Default: COLLECTOR_IMAGE (official contrib image of the pinned release). */
  readonly image?: string;
}

export function collectorService(options: CollectorServiceOptions): ServiceSpec {
  const config = renderCollectorConfig(options.config);
  const ports = { ...COLLECTOR_PORTS, ...(options.config.ports ?? {}) };
  return {
    name: COLLECTOR_SERVICE,
    image: options.image ?? COLLECTOR_IMAGE,
    args: COLLECTOR_ARGS,
    secretEnv: {
      [COLLECTOR_SECRET_ENV.otlpToken]: options.otlpToken,
      [COLLECTOR_SECRET_ENV.firehoseAccessKey]: options.firehoseAccessKey,
    },
    ports: [
      { name: "otlp-grpc", container: ports.otlpGrpc, protocol: "grpc" },
      { name: "otlp-http", container: ports.otlpHttp, public: true, protocol: "http" },
      { name: "firehose", container: ports.firehose, public: true, protocol: "http" },
      { name: "firehose-logs", container: ports.firehoseLogs, public: true, protocol: "http" },
      { name: "health", container: ports.health, protocol: "http" },
    ],
    files: [{ path: COLLECTOR_CONFIG_PATH, content: config }],
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
    replicas: COLLECTOR_REPLICAS,
    maxReplicas: COLLECTOR_MAX_REPLICAS,
  };
}
