// Storage service specs: pure functions from validated options to ServiceSpec[]. Both stores answer
// PromQL on a Prometheus-compatible URL and the Jaeger query API on a Jaeger-compatible URL, so the
// presentation phase provisions the same datasources whichever store runs.
import type * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { portsOf } from "../hosts/networkPolicies";
import type { ServiceSpec } from "../hosts/spec";
import { pinImage } from "../imageDigests";
import { type ExternalStorage, Storage } from "../types";
import { DEFAULT_LOGS_URL } from "./logsConfig";
import { PROMSCALE_ROLE_SCRIPT, promscaleConnectorEnv } from "./promscaleRoles";

/** Promscale's last release (the project was discontinued in February 2023). */
export const PROMSCALE_IMAGE = "timescale/promscale:0.17.0";
/**
 * The promscale extension's own test suite names this tag as the PostgreSQL 14 image "with the last
 * released extension"; timescaledb-ha images built after December 2024 dropped it. amd64 only.
 */
export const TIMESCALEDB_IMAGE = "timescale/timescaledb-ha:pg14.6-ts2.9.1-p1";
/** Prometheus 3 (remote-write receiver, PromQL). */
export const PROMETHEUS_IMAGE = pinImage("prom/prometheus:v3.14.0");
/** Jaeger v2 (an OpenTelemetry Collector distribution: OTLP in, Jaeger query API out). */
export const JAEGER_IMAGE = pinImage("jaegertracing/jaeger:2.19.0");

/** Role Grafana's SQL datasource logs in as: it can read every table and write none. */
export const READONLY_DB_USER = "firefly_reader";
export const DATABASE_NAME = "postgres";
export const POSTGRES_PORT = 5432;

/** Default size of each store's volume (GiB). */
export const DEFAULT_STORAGE_SIZE_GB = 20;
/** Default retention for the Prometheus + Jaeger pair (Promscale keeps its own default, 90 days). */
export const DEFAULT_RETENTION_DAYS = 30;

export interface StorageOptions {
  readonly storage: Storage;
  /** Superuser password for TimescaleDB (promscale only). */
  readonly databasePassword?: pulumi.Input<string>;
  /** Password of the read-only SQL role (promscale only). */
  readonly readonlyPassword?: pulumi.Input<string>;
  /** Password of the prom_writer role the Promscale connector logs in as (promscale only). */
  readonly writerPassword?: pulumi.Input<string>;
  /** Volume size per store (GiB). Default: DEFAULT_STORAGE_SIZE_GB. */
  readonly sizeGb?: number;
  /** Retention of the prometheus pair (days). Default: DEFAULT_RETENTION_DAYS. */
  readonly retentionDays?: number;
}

/**
 * Where Grafana reads, as reachable from services on the same host. (Where the collector writes is
 * `defaultStoreEndpoints` in collectorConfig.ts; the service names here match it.)
 */
export interface StorageEndpoints {
  /** Prometheus-compatible query base URL. */
  readonly prometheusUrl: string;
  /** Jaeger-query-compatible base URL. */
  readonly jaegerUrl: string;
  /** VictoriaLogs-compatible (LogsQL) base URL. */
  readonly logsUrl: string;
  /** PostgreSQL host:port for SQL panels (promscale only). */
  readonly postgres?: { readonly host: string; readonly port: number; readonly database: string };
}

export function storageEndpoints(storage: Storage, external?: ExternalStorage): StorageEndpoints {
  if (storage === Storage.External) {
    if (!external) throw new Error("storage external: externalStorage is required");
    return {
      prometheusUrl: external.metricsQueryUrl,
      jaegerUrl: external.tracesQueryUrl,
      logsUrl: external.logsQueryUrl,
    };
  }
  // Firefly's own log store runs beside either metric and trace store (logStore.ts).
  if (storage === Storage.Promscale) {
    return {
      prometheusUrl: "http://promscale:9201",
      jaegerUrl: "http://promscale:9201",
      logsUrl: DEFAULT_LOGS_URL,
      postgres: { host: "timescaledb", port: POSTGRES_PORT, database: DATABASE_NAME },
    };
  }
  return {
    prometheusUrl: "http://prometheus:9090",
    jaegerUrl: "http://jaeger:16686",
    logsUrl: DEFAULT_LOGS_URL,
  };
}

/** The ports the collector writes to on stores you run (for hosts that fence egress). */
export function externalWritePorts(e: ExternalStorage): number[] {
  return portsOf([e.metricsWriteUrl, e.tracesEndpoint, e.logsEndpoint]);
}

export function storageServices(options: StorageOptions): ServiceSpec[] {
  // External stores are yours: Firefly runs nothing for them.
  if (options.storage === Storage.External) return [];
  return options.storage === Storage.Promscale ? promscaleServices(options) : prometheusServices(options);
}

// Runs once, on the first start of an empty data directory (the image's entrypoint runs
// /docker-entrypoint-initdb.d). pg_read_all_data (PostgreSQL 14+) reads every table, Promscale's
// included, without depending on the roles Promscale creates later. The password comes from the
// environment so the script itself holds no secret. No `set -u`: the entrypoint sources scripts that
// are not executable (a mounted config map or file is not), and its own code must keep running.
export const READONLY_ROLE_SCRIPT = `#!/bin/bash
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
  -v pw="$FIREFLY_READER_PASSWORD" <<'SQL'
CREATE ROLE ${READONLY_DB_USER} LOGIN PASSWORD :'pw';
GRANT pg_read_all_data TO ${READONLY_DB_USER};
SQL
`;

function promscaleServices(options: StorageOptions): ServiceSpec[] {
  if (
    options.databasePassword === undefined ||
    options.readonlyPassword === undefined ||
    options.writerPassword === undefined
  ) {
    throw new Error(
      "storage promscale: databasePassword, readonlyPassword and writerPassword are required (ShippingPhase generates them when unset)",
    );
  }
  const sizeGb = options.sizeGb ?? DEFAULT_STORAGE_SIZE_GB;
  const timescaledb: ServiceSpec = {
    name: "timescaledb",
    image: TIMESCALEDB_IMAGE,
    env: { POSTGRES_USER: "postgres", POSTGRES_DB: DATABASE_NAME, PGDATA: "/home/postgres/pgdata/data" },
    secretEnv: {
      POSTGRES_PASSWORD: options.databasePassword,
      FIREFLY_READER_PASSWORD: options.readonlyPassword,
      FIREFLY_PROMSCALE_PASSWORD: options.writerPassword,
    },
    ports: [{ name: "postgres", container: POSTGRES_PORT, protocol: "tcp" }],
    files: [
      { path: "/docker-entrypoint-initdb.d/010-firefly-reader.sh", content: READONLY_ROLE_SCRIPT },
      { path: "/docker-entrypoint-initdb.d/020-firefly-promscale.sh", content: PROMSCALE_ROLE_SCRIPT },
    ],
    // The image carries /home/postgres/pgdata owned by postgres (1000).
    volumes: [{ name: "timescaledb-data", mountPath: "/home/postgres/pgdata", sizeGb, owner: "1000:1000" }],
    resources: { cpu: 1, memoryMb: 2048 },
    user: "1000:1000",
    // Outside PGDATA the server writes its socket and lock file to /var/run/postgresql (the
    // docker-library entrypoint the image ships creates it; timescaledb-docker-ha's Dockerfile chowns
    // it to postgres) and temporary files to /tmp.
    scratch: ["/var/run/postgresql", "/tmp"],
    stateful: true,
    amd64Only: true,
  };
  const promscale: ServiceSpec = {
    name: "promscale",
    image: PROMSCALE_IMAGE,
    // Not the superuser: a prom_writer role the init step created (promscaleRoles.ts).
    env: promscaleConnectorEnv({ host: "timescaledb", port: POSTGRES_PORT, name: DATABASE_NAME }),
    secretEnv: { PROMSCALE_DB_PASSWORD: options.writerPassword },
    ports: [
      { name: "http", container: 9201, protocol: "http" },
      { name: "otlp-grpc", container: 9202, protocol: "grpc" },
    ],
    health: { port: 9201, path: "/healthz" },
    resources: { cpu: 1, memoryMb: 1024 },
    // Stateless, ports above 1024: nothing needs root (nobody).
    user: "65534:65534",
    // A single Go binary that keeps nothing on disk; /tmp for whatever a library puts there.
    scratch: ["/tmp"],
    dependsOn: ["timescaledb"],
    amd64Only: true,
  };
  return [timescaledb, promscale];
}

export function renderPrometheusConfig(): string {
  // Remote write is the only ingest path; Prometheus scrapes nothing but itself.
  return stringify({
    global: { scrape_interval: "60s", evaluation_interval: "60s" },
    scrape_configs: [{ job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] }],
  });
}

export function renderJaegerConfig(retentionDays: number): string {
  return stringify({
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
      },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: "0.0.0.0:13133" } },
      jaeger_query: { storage: { traces: "badger_store" }, http: { endpoint: "0.0.0.0:16686" } },
      jaeger_storage: {
        backends: {
          badger_store: {
            badger: {
              directories: { keys: "/badger/keys", values: "/badger/values" },
              ephemeral: false,
              ttl: { spans: `${retentionDays * 24}h` },
            },
          },
        },
      },
    },
    receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" } } } },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: "badger_store" } },
  });
}

function prometheusServices(options: StorageOptions): ServiceSpec[] {
  const sizeGb = options.sizeGb ?? DEFAULT_STORAGE_SIZE_GB;
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const prometheus: ServiceSpec = {
    name: "prometheus",
    image: PROMETHEUS_IMAGE,
    args: [
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      `--storage.tsdb.retention.time=${retentionDays}d`,
      "--web.enable-remote-write-receiver",
    ],
    ports: [{ name: "http", container: 9090, protocol: "http" }],
    files: [{ path: "/etc/prometheus/prometheus.yml", content: renderPrometheusConfig() }],
    volumes: [{ name: "prometheus-data", mountPath: "/prometheus", sizeGb, owner: "65534:65534" }],
    health: { port: 9090, path: "/-/ready" },
    resources: { cpu: 1, memoryMb: 2048 },
    user: "65534:65534",
    // Writes only its TSDB path: prometheus-operator runs this image with readOnlyRootFilesystem and
    // no writable mount but the storage (pkg/prometheus/server/statefulset.go).
    scratch: [],
    stateful: true,
  };
  const jaeger: ServiceSpec = {
    name: "jaeger",
    image: JAEGER_IMAGE,
    args: ["--config=/etc/jaeger/config.yaml"],
    ports: [
      { name: "otlp-grpc", container: 4317, protocol: "grpc" },
      { name: "query", container: 16686, protocol: "http" },
      { name: "health", container: 13133, protocol: "http" },
    ],
    files: [{ path: "/etc/jaeger/config.yaml", content: renderJaegerConfig(retentionDays) }],
    volumes: [{ name: "jaeger-data", mountPath: "/badger", sizeGb, owner: "10001:10001" }],
    health: { port: 13133, path: "/status" },
    resources: { cpu: 1, memoryMb: 1024 },
    user: "10001:10001",
    // Badger writes under /badger (the volume); the image declares /tmp a volume (cmd/jaeger/Dockerfile).
    scratch: ["/tmp"],
    stateful: true,
  };
  return [prometheus, jaeger];
}
