// Kubernetes NetworkPolicies for Firefly's namespace: default deny (ingress and egress), then only the
// flows the pipeline needs. Pure: services in, manifests out. Every pod Firefly renders gets its own
// policy, so even a service missing from FLOWS is isolated (only its public ports and DNS), never open;
// test/hosts/networkPolicies.test.ts checks FLOWS against the connections the rendered configuration
// really makes, so a new service or connection cannot land without its flow here.
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSpec } from "./spec";

/** One allowed connection: pods of `from` may open `port` (a container port name) on pods of `to`. */
export interface Flow {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  /** Why the connection exists (shown in docs and test failures). */
  readonly why: string;
}

/** Every connection between Firefly's services, whichever store runs. */
export const FLOWS: readonly Flow[] = [
  { from: "collector", to: "prometheus", port: "http", why: "remote write of metrics" },
  { from: "collector", to: "jaeger", port: "otlp-grpc", why: "spans over OTLP/gRPC" },
  { from: "collector", to: "promscale", port: "http", why: "remote write of metrics" },
  { from: "collector", to: "promscale", port: "otlp-grpc", why: "spans over OTLP/gRPC" },
  { from: "collector", to: "victorialogs", port: "http", why: "log records over OTLP/HTTP" },
  { from: "promscale", to: "timescaledb", port: "postgres", why: "Promscale's database" },
  { from: "grafana", to: "prometheus", port: "http", why: "PromQL datasource" },
  { from: "grafana", to: "jaeger", port: "query", why: "Jaeger datasource" },
  { from: "grafana", to: "promscale", port: "http", why: "PromQL and Jaeger datasources" },
  { from: "grafana", to: "timescaledb", port: "postgres", why: "SQL datasource (read-only role)" },
  { from: "grafana", to: "victorialogs", port: "http", why: "LogsQL datasource" },
];

/**
 * Replicas of these services reach each other on this port when load-balancing traces by trace id;
 * rendered only for a service that can run more than one replica (its `maxReplicas`).
 */
export const PEER_PORTS: Readonly<Record<string, string>> = { collector: "otlp-grpc" };

/** The policy that isolates every pod in the namespace; rendered with the collector's set (the shipping phase). */
export const DEFAULT_DENY = "firefly-default-deny";
const NAME_LABEL = "app.kubernetes.io/name";

const pods = (service: string) => ({ podSelector: { matchLabels: { [NAME_LABEL]: service } } });
const ANYWHERE = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];

/** The SMTP port Grafana's mail relay needs, from its env (`GF_SMTP_HOST=host:port`). */
function smtpPort(spec: ServiceSpec): number | undefined {
  const host = spec.env?.GF_SMTP_HOST;
  if (typeof host !== "string") return undefined;
  const port = Number(host.split(":").pop());
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/**
 * Grafana installs the plugins named in GF_PLUGINS_PREINSTALL_SYNC (the log store's datasource) from
 * its plugin catalogue, over HTTPS, before it serves: without this port it starts with no logs
 * datasource. The catalogue's addresses are not Firefly's to know, so the port, to any address.
 */
function pluginCataloguePort(spec: ServiceSpec): number | undefined {
  const sync = spec.env?.GF_PLUGINS_PREINSTALL_SYNC;
  return typeof sync === "string" && sync !== "" ? 443 : undefined;
}

/** The TCP port of each address (`https://host[:port]/…`, `http://…`, or `host:port`), each once. */
export function portsOf(addresses: readonly string[]): number[] {
  const ports = addresses.map((a) => {
    if (!/^https?:\/\//.test(a)) return Number(a.split(":").pop());
    const url = new URL(a);
    return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}

type Manifest = { apiVersion: string; kind: string; metadata: Record<string, any> } & Record<string, any>;

export function renderNetworkPolicies(services: ServiceSpec[], namespace: unknown): Manifest[] {
  const meta = (name: string) => ({
    name,
    namespace,
    labels: { "app.kubernetes.io/part-of": "firefly" },
  });
  const out: Manifest[] = [];
  if (services.some((s) => s.name === "collector")) {
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(DEFAULT_DENY),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
  }
  for (const spec of services) {
    const names = new Set(spec.ports.map((p) => p.name));
    const ingress: Record<string, any>[] = [];
    const publicPorts = spec.ports.filter((p) => p.public);
    // Public ports are the authenticated front (ingest, Grafana's login): a LoadBalancer's traffic
    // comes from outside the cluster and an ingress controller from any namespace.
    if (publicPorts.length > 0)
      ingress.push({ ports: publicPorts.map((p) => ({ protocol: "TCP", port: p.name })) });
    for (const f of FLOWS.filter((f) => f.to === spec.name && names.has(f.port)))
      ingress.push({ from: [pods(f.from)], ports: [{ protocol: "TCP", port: f.port }] });
    const scales = (spec.maxReplicas ?? spec.replicas ?? 1) > 1;
    const peer = scales ? PEER_PORTS[spec.name] : undefined;
    if (peer !== undefined && names.has(peer))
      ingress.push({ from: [pods(spec.name)], ports: [{ protocol: "TCP", port: peer }] });

    const egress: Record<string, any>[] = [
      // Name resolution, wherever the cluster runs its DNS.
      {
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ];
    for (const f of FLOWS.filter((f) => f.from === spec.name))
      egress.push({ to: [pods(f.to)], ports: [{ protocol: "TCP", port: f.port }] });
    if (peer !== undefined && names.has(peer))
      egress.push({ to: [pods(spec.name)], ports: [{ protocol: "TCP", port: peer }] });
    // Ports open to any address, each once: the mail relay, the plugin catalogue, and stores you run
    // (outside the namespace, under DNS names a policy cannot select). One rule per port: a rule with an
    // empty port list would open every port.
    const known = [smtpPort(spec), pluginCataloguePort(spec)].filter((p): p is number => p !== undefined);
    const outside = (ports: readonly number[]) => [
      ...egress,
      ...[...new Set([...known, ...ports])].map((port) => ({
        to: ANYWHERE,
        ports: [{ protocol: "TCP", port }],
      })),
    ];
    const external = spec.externalEgressPorts;
    const allEgress =
      external === undefined || Array.isArray(external)
        ? outside(external ?? [])
        : pulumi.output(external).apply(outside);

    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(spec.name),
      spec: { ...pods(spec.name), policyTypes: ["Ingress", "Egress"], ingress, egress: allEgress },
    });
  }
  return out;
}
