// The gateway collector's contract with everything outside it: the ports and paths hosts and fronts
// route to, the env names its secrets arrive in, its in-host name. Shipping renders the collector from
// these; hosts, emit (the layer's endpoint) and tests read the same values instead of reaching into
// components/shipping. Pure: no Pulumi, no cloud SDK.
import type { HttpRoute } from "../hosts/spec";

/** Service name (and in-host hostname) of the gateway collector. */
export const COLLECTOR_SERVICE = "collector";

export interface CollectorPorts {
  /** OTLP over gRPC (authenticated). */
  otlpGrpc: number;
  /** OTLP over HTTP (authenticated): the HTTPS front routes OTLP_HTTP_PATHS here. */
  otlpHttp: number;
  /** Firehose HTTP endpoint (access key): the HTTPS front routes FIREHOSE_PATH here. */
  firehose: number;
  /** Firehose HTTP endpoint for CloudWatch Logs (access key): the HTTPS front routes FIREHOSE_LOGS_PATH here. */
  firehoseLogs: number;
  /** Health check, for container and load-balancer probes (no data, no secrets). */
  health: number;
  /** zpages debug pages, bound to localhost only. */
  zpages: number;
  /** The collector's own metrics in Prometheus format, bound to localhost only. */
  metrics: number;
  /** OTLP/HTTP for the collector's own metrics push, bound to localhost only (never on the public front). */
  selfMetrics: number;
  /** OTLP/gRPC from peer replicas (authenticated like ingest): traces routed here by trace id. Only bound with peers. */
  otlpPeers?: number;
}

export const COLLECTOR_PORTS: Readonly<Required<CollectorPorts>> = {
  otlpGrpc: 4317,
  otlpHttp: 4318,
  firehose: 4433,
  firehoseLogs: 4434,
  health: 13133,
  zpages: 55679,
  metrics: 8888,
  otlpPeers: 4319,
  selfMetrics: 4320,
};

/** Headless Service over the collector replicas: one DNS record per ready replica, for trace routing. */
export const COLLECTOR_PEERS_SERVICE = `${COLLECTOR_SERVICE}-peers`;
/** Env var holding the replica's stable name (the pod name on Kubernetes). */
export const COLLECTOR_REPLICA_ENV = "FIREFLY_COLLECTOR_REPLICA";

/** Path the health check answers on (`health` port). */
export const COLLECTOR_HEALTH_PATH = "/health";
/** OTLP/HTTP paths the HTTPS front must forward to the `otlpHttp` port. */
// Only what the layer sends: the functions' token authorizes spans and logs, not metrics (a reader of a
// function's env could otherwise forge aws_lambda_* series). The public receiver is in no metrics
// pipeline, so /v1/metrics answers 404 even when something routes it.
export const OTLP_HTTP_PATHS = ["/v1/traces", "/v1/logs"] as const;
/** Path the Firehose destination URL ends with; the front forwards it to the `firehose` port (the receiver ignores paths). */
export const FIREHOSE_PATH = "/firehose";
/** Path of the CloudWatch Logs Firehose destination; the front forwards it to the `firehoseLogs` port. */
export const FIREHOSE_LOGS_PATH = "/firehose/logs";

/** Environment variables through which the secrets reach the collector. */
export const COLLECTOR_SECRET_ENV = {
  /** Bearer token OTLP clients (the Lambda layer) must present: `Authorization: Bearer <token>`. */
  otlpToken: "FIREFLY_OTLP_TOKEN",
  /** Access key configured on the Firehose HTTP endpoint destination (`X-Amz-Firehose-Access-Key`). */
  firehoseAccessKey: "FIREFLY_FIREHOSE_ACCESS_KEY",
} as const;

/** Paths the public HTTPS front forwards to the collector; nothing else is exposed. `/firehose` only when used. */
export function collectorRoutes(firehose = true, firehoseLogs = true): HttpRoute[] {
  return [
    ...OTLP_HTTP_PATHS.map((path) => ({ path, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.otlpHttp })),
    ...(firehose
      ? [{ path: FIREHOSE_PATH, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.firehose }]
      : []),
    ...(firehoseLogs
      ? [{ path: FIREHOSE_LOGS_PATH, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.firehoseLogs }]
      : []),
  ];
}

/**
 * Where replicas find the certificate their peer port serves (and, being self-signed, trusts): the
 * bearer token peers present must not cross the cluster network in clear text, and gRPC refuses to
 * send it without TLS anyway. The name is the one the certificate carries.
 */
export const COLLECTOR_PEER_TLS = {
  certPath: "/etc/firefly/peers/tls.crt",
  keyPath: "/etc/firefly/peers/tls.key",
  serverName: COLLECTOR_PEERS_SERVICE,
} as const;

/** Env vars carrying the auth header values for stores you run yourself (`storage: external`). */
export const COLLECTOR_STORE_AUTH_ENV = {
  metrics: "FIREFLY_METRICS_WRITE_AUTH",
  traces: "FIREFLY_TRACES_WRITE_AUTH",
  logs: "FIREFLY_LOGS_WRITE_AUTH",
} as const;
