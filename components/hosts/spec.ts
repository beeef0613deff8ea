// The host-neutral description of one service. Shipping and presentation describe their services with
// these; the docker, ec2 and kubernetes renderers turn the same list into containers, a compose file
// for cloud-init, or manifests, so the three hosts cannot drift apart. Internal (not analyzer-facing).
import type * as pulumi from "@pulumi/pulumi";

export interface ServicePort {
  /** Short name, also the Kubernetes port name (≤ 15 chars). */
  name: string;
  /** Port inside the container. */
  container: number;
  /** True when the port must be reachable from outside the host (ingest, Grafana). */
  public?: boolean;
  /** Application protocol, used for probes and ingress. */
  protocol?: "http" | "grpc" | "tcp";
}

export interface ServiceFile {
  /** Absolute path inside the container. */
  path: string;
  content: pulumi.Input<string>;
  /** True when the content holds secrets (rendered as a Kubernetes Secret, mode 0600, never logged). */
  secret?: boolean;
}

export interface ServiceVolume {
  /** Volume name, unique per host. */
  name: string;
  mountPath: string;
  /** Size for volume claims. */
  sizeGb: number;
  /**
   * Numeric `uid:gid` that must own the volume when the image does not already carry the mount path
   * with that owner (a fresh Docker volume or host directory is root-owned; the process is not root).
   */
  owner?: string;
}

export interface ServiceSpec {
  /** DNS-safe name; also the hostname other services use to reach it. */
  name: string;
  /** Pinned image reference. */
  image: string;
  /** Arguments passed to the image's entrypoint. */
  args?: string[];
  env?: Record<string, pulumi.Input<string>>;
  /** Env vars whose values are secrets. */
  secretEnv?: Record<string, pulumi.Input<string>>;
  ports: ServicePort[];
  files?: ServiceFile[];
  volumes?: ServiceVolume[];
  /** HTTP health check on one of the ports. */
  health?: { port: number; path: string };
  resources: { cpu: number; memoryMb: number };
  /** Numeric uid:gid the process runs as. */
  user?: string;
  /**
   * Paths the image writes outside its volumes (sockets, temporary files, logs). Hosts that make the
   * root filesystem read-only mount an empty scratch directory at each (an emptyDir on Kubernetes, a
   * tmpfs in Compose); its content does not survive a restart. Default: none.
   */
  scratch?: string[];
  /** Services that must be started first. */
  dependsOn?: string[];
  /** Whether the service is stateful (StatefulSet on Kubernetes). */
  stateful?: boolean;
  /** Replicas on hosts that can run more than one (Kubernetes); set, it also gets an autoscaler and a disruption budget. */
  replicas?: number;
  /** Autoscaler ceiling. Default: `replicas` × HPA_MAX_FACTOR. */
  maxReplicas?: number;
  /** Autoscaler target: average CPU use of the requests, in percent. Default: HPA_CPU_PERCENT. */
  cpuPercent?: number;
  /**
   * Env var that carries a name stable per replica across restarts (the pod name on Kubernetes, the
   * service name on single-replica hosts), for labels that must not collide between replicas.
   */
  replicaNameEnv?: string;
  /**
   * Ports (by name) peers reach on each replica directly, by a headless Service `<name>-peers` on
   * Kubernetes (one DNS record per ready pod). Default: none.
   */
  peerPorts?: string[];
  /** Only x86_64 images exist (Promscale's stack): hosts must not schedule it on arm64. */
  amd64Only?: boolean;
  /**
   * TCP ports the service opens to addresses outside Firefly's services (the stores you run, with
   * storage external). Where a host fences egress (Kubernetes NetworkPolicies) these ports are opened
   * to any address: a policy cannot name a DNS name. Default: none.
   */
  externalEgressPorts?: pulumi.Input<number[]>;
}

/** A path the public HTTPS front forwards to one service port (nothing else is routed). */
export interface HttpRoute {
  /** Exact request path, e.g. `/v1/traces`. */
  path: string;
  /** Service name. */
  service: string;
  /** Container port. */
  port: number;
}
