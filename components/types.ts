// Shared, analyzer-facing types. The component provider's analyzer turns these into the schema other
// languages see, so they stay interfaces and enums: no unions, no functions. Enums are `as const` objects
// with a type of their values: other languages get an enum, TypeScript takes `Host.Ec2` or plain "ec2".
import type * as pulumi from "@pulumi/pulumi";

/** Where the shipping and presentation services run. */
export const Host = {
  /** Any Docker engine: the local one unless `DockerHostArgs.engine` names another (e.g. `ssh://user@host`). */
  Docker: "docker",
  /** One x86_64 EC2 instance running the same containers. */
  Ec2: "ec2",
  /** Any Kubernetes cluster reachable from a kubeconfig. */
  Kubernetes: "kubernetes",
} as const;
export type Host = (typeof Host)[keyof typeof Host];

/** Which store holds metrics and traces. */
export const Storage = {
  /** Promscale 0.17.0 on TimescaleDB (PromQL, Jaeger query API and SQL). Discontinued upstream; x86_64 only. */
  Promscale: "promscale",
  /** Prometheus (remote-write receiver) for metrics and Jaeger for traces, both maintained. */
  Prometheus: "prometheus",
  /** Stores you already run (`ExternalStorage`): Firefly deploys only the gateway and Grafana. */
  External: "external",
} as const;
export type Storage = (typeof Storage)[keyof typeof Storage];

/** Stores you run yourself, for `storage: external` (e.g. a VictoriaMetrics cluster, Jaeger on OpenSearch, a VictoriaLogs cluster). */
export interface ExternalStorage {
  /** Prometheus remote-write URL metrics are written to (https:// when an auth header is set). */
  readonly metricsWriteUrl: string;
  /** Prometheus-compatible query URL Grafana reads metrics from. */
  readonly metricsQueryUrl: string;
  /** OTLP/gRPC `host:port` traces are written to, over TLS. */
  readonly tracesEndpoint: string;
  /** Jaeger-query-compatible URL Grafana reads traces from. */
  readonly tracesQueryUrl: string;
  /**
   * OTLP/HTTP base URL logs are written to; `/v1/logs` is appended, as with `OTEL_EXPORTER_OTLP_ENDPOINT`
   * (VictoriaLogs: `https://vlinsert.example.com/insert/opentelemetry`). https:// when an auth header is set.
   */
  readonly logsEndpoint: string;
  /** VictoriaLogs-compatible (LogsQL) URL Grafana reads logs from. */
  readonly logsQueryUrl: string;
  /** Header carrying `externalMetricsAuth` on metric writes. Default: `Authorization`. */
  readonly metricsAuthHeader?: string;
  /** Header carrying `externalTracesAuth` on trace writes. Default: `Authorization`. */
  readonly tracesAuthHeader?: string;
  /** Header carrying `externalLogsAuth` on log writes. Default: `Authorization`. */
  readonly logsAuthHeader?: string;
  /** Send traces without TLS (a store on the host's private network only; refused with an auth header). Default: false. */
  readonly tracesInsecure?: boolean;
}

/** Settings for the `docker` host. */
export interface DockerHost {
  /** Docker engine address (`unix:///var/run/docker.sock`, `ssh://user@host`, `tcp://…`). Default: the local engine. */
  readonly engine?: string;
  /**
   * Public HTTPS base URL (port 443) that forwards to this host's ingest port, e.g. a reverse proxy or tunnel you run.
   * Needed for `metrics` (Firehose only delivers to HTTPS on 443) and for Lambda to reach the collector. Default: none.
   */
  readonly publicUrl?: string;
  /** Address the ingest and Grafana ports bind to on the Docker host: loopback or private, never public. Default: `127.0.0.1`. */
  readonly bindAddress?: string;
  /** Directory with the TLS client files (`ca.pem`, `cert.pem`, `key.pem`) for a `tcp://` engine; required with one. Default: none. */
  readonly certPath?: string;
}

/** Settings for the `ec2` host. */
export interface Ec2Host {
  /** Instance type (x86_64). Default: `t3.medium`. */
  readonly instanceType?: string;
  /** Subnet to launch into (must route to the internet). Default: a default-VPC subnet. */
  readonly subnetId?: string;
  /** CIDR blocks allowed to reach Grafana (HTTPS, port 3000). Default: none (reach it through SSM Session Manager port forwarding). */
  readonly adminCidrs?: string[];
  /** Acknowledges that an `adminCidrs` entry of `0.0.0.0/0` opens Grafana's login page to the whole internet; without it a /0 is refused. Default: false. */
  readonly adminCidrsOpenToInternet?: boolean;
  /** Your domain for the HTTPS front (a certificate is issued for it). Default: none: an API Gateway URL is used. */
  readonly domain?: string;
  /** Size of the data volume in GiB, kept across instance replacement. Default: 50. */
  readonly dataVolumeSizeGb?: number;
}

/** Settings for the `kubernetes` host. */
export interface KubernetesHost {
  /** Kubeconfig contents (a secret). Default: the ambient kubeconfig. */
  readonly kubeconfig?: pulumi.Input<string>;
  /** Kubeconfig context. Default: the current context. */
  readonly context?: string;
  /** Namespace to create and deploy into. Default: `firefly`. */
  readonly namespace?: string;
  /** Storage class for volume claims. Default: the cluster default. */
  readonly storageClass?: string;
  /** Hostname for an Ingress with TLS in front of the ingest endpoint. Default: none. */
  readonly ingressHost?: string;
  /** Ingress class for that Ingress. Default: the cluster default. */
  readonly ingressClass?: string;
  /** Secret holding the TLS certificate for `ingressHost`. Default: `firefly-ingest-tls` (e.g. filled by cert-manager). */
  readonly tlsSecretName?: string;
  /** A public HTTPS URL you already route to the ingest service. Default: none. */
  readonly publicUrl?: string;
  /** Gateway collector replicas, a fixed count (see docs/hosts.md for sizing). Default: 1. */
  readonly replicas?: number;
  /** Scale the gateway collectors on CPU instead of a fixed count; scale-down is slow. Default: none. */
  readonly autoscale?: KubernetesAutoscale;
}

/** Autoscaling bounds of the gateway collectors on Kubernetes. */
export interface KubernetesAutoscale {
  /** Fewest replicas. */
  readonly min: number;
  /** Most replicas. */
  readonly max: number;
  /** Average CPU use (percent of the request) the autoscaler aims for. Default: 70. */
  readonly cpuPercent?: number;
}

// The schema takes type names from the interfaces; SDKs add their own "Args" suffix (Python's
// `Ec2HostArgs`), so the interfaces are named without one and these aliases serve TypeScript callers.
export type DockerHostArgs = DockerHost;
export type Ec2HostArgs = Ec2Host;
export type KubernetesHostArgs = KubernetesHost;
export type KubernetesAutoscaleArgs = KubernetesAutoscale;
export type ExternalStorageArgs = ExternalStorage;
