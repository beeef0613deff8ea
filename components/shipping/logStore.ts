// The log store as a host-neutral service: VictoriaLogs (Apache-2.0), one binary serving OTLP logs
// ingest (/insert/opentelemetry/v1/logs) and LogsQL (/select/logsql/query) on one port. It runs beside
// Prometheus + Jaeger or Promscale; the collector and Grafana reach it by its name. With storage
// external it does not run: the logs go to the store you name (firefly:externalStorage.logsEndpoint).
import type { ServiceSpec } from "../hosts/spec";
import { DEFAULT_LOGS_URL } from "./logsConfig";
import { DEFAULT_RETENTION_DAYS, DEFAULT_STORAGE_SIZE_GB } from "./storage";

/** The release the tests build from the Go module proxy (.ci/setup.d/35-victorialogs.sh). */
export const VICTORIALOGS_VERSION = "1.52.1";
export const VICTORIALOGS_IMAGE = `victoriametrics/victoria-logs:v${VICTORIALOGS_VERSION}`;
export const LOG_STORE_SERVICE = "victorialogs";
export const LOG_STORE_PORT = 9428;

export interface LogStoreOptions {
  /** Volume size (GiB). Default: DEFAULT_STORAGE_SIZE_GB. */
  readonly sizeGb?: number;
  /** Days of logs kept. Default: DEFAULT_RETENTION_DAYS. */
  readonly retentionDays?: number;
}

/** Where the collector writes and Grafana reads, from services on the same host. */
export const LOG_STORE_URL = DEFAULT_LOGS_URL;

export function logStoreService(options: LogStoreOptions = {}): ServiceSpec {
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  return {
    name: LOG_STORE_SERVICE,
    image: VICTORIALOGS_IMAGE,
    args: [
      "-storageDataPath=/victoria-logs-data",
      `-retentionPeriod=${retentionDays}d`,
      `-httpListenAddr=:${LOG_STORE_PORT}`,
    ],
    ports: [{ name: "http", container: LOG_STORE_PORT, protocol: "http" }],
    volumes: [
      {
        name: "victorialogs-data",
        mountPath: "/victoria-logs-data",
        sizeGb: options.sizeGb ?? DEFAULT_STORAGE_SIZE_GB,
        owner: "65534:65534",
      },
    ],
    health: { port: LOG_STORE_PORT, path: "/health" },
    resources: { cpu: 1, memoryMb: 1024 },
    user: "65534:65534",
    // Writes only -storageDataPath: VictoriaMetrics' victoria-logs-single chart runs it with
    // readOnlyRootFilesystem and the storage volume as its only writable mount.
    scratch: [],
    stateful: true,
  };
}
