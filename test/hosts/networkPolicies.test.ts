// Kubernetes network policies, read off what the program renders for the kubernetes host: default
// deny, then exactly the connections the rendered configuration makes (collector config, Promscale's
// env, Grafana's datasources) and the public ports. The allowed flows are compared with the service
// graph in both directions, so a new service or connection cannot land without its policy, and a
// policy cannot allow more than the pipeline uses. Then the policies pass the strict schema check.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { DEFAULT_DENY, FLOWS, portsOf, renderNetworkPolicies } from "../../components/hosts/networkPolicies";
import type { ServiceSpec } from "../../components/hosts/spec";
import { Storage } from "../../components/types";
import { requireTool, shippingServices } from "./helpers";
import { CONFIGURATIONS, type Rendered, renderProgram } from "./programUnderMocks";

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const NAME = "app.kubernetes.io/name";

interface Workload {
  readonly name: string;
  readonly ports: Map<string, number>;
  /** Everything that configures where it connects: env values and its config files. */
  readonly config: string;
  readonly env: Record<string, string>;
}

/** A source of traffic: one of Firefly's pods, a stranger's pod in the cluster, or the internet. */
type Source = { pod: string } | { strangerPod: true } | { internet: true };

function workloads(resources: Rendered[]): Workload[] {
  const files = new Map<string, string>();
  for (const r of resources.filter((r) => /:ConfigMap$/.test(r.type)))
    files.set(r.inputs.metadata.name, Object.values(r.inputs.data ?? {}).join("\n"));
  return resources
    .filter((r) => /:(Deployment|StatefulSet)$/.test(r.type))
    .map((r) => {
      const c = r.inputs.spec.template.spec.containers[0];
      const env = Object.fromEntries(
        (c.env ?? []).filter((e: any) => typeof e.value === "string").map((e: any) => [e.name, e.value]),
      );
      return {
        name: r.inputs.metadata.name,
        ports: new Map((c.ports ?? []).map((p: any) => [p.name, p.containerPort])),
        config: [...Object.values(env), files.get(`${r.inputs.metadata.name}-files`) ?? ""].join("\n"),
        env,
      } as Workload;
    });
}

/** Connections the rendered configuration makes: `from→to:port-name`. */
function connections(all: Workload[]): Set<string> {
  const out = new Set<string>();
  for (const w of all) {
    for (const t of all) {
      if (t === w) continue;
      for (const [portName, port] of t.ports) {
        const inText = new RegExp(`\\b${t.name}:${port}\\b`).test(w.config);
        const inEnv = Object.entries(w.env).some(
          ([k, v]) =>
            k.endsWith("_HOST") && v === t.name && w.env[k.replace(/_HOST$/, "_PORT")] === String(port),
        );
        if (inText || inEnv) out.add(`${w.name}→${t.name}:${portName}`);
      }
    }
  }
  return out;
}

const matchesPod = (selector: any, pod: string) =>
  selector && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => k === NAME && v === pod);

function peerMatches(peer: any, src: Source): boolean {
  if ("pod" in src)
    return (
      peer.podSelector !== undefined &&
      peer.namespaceSelector === undefined &&
      matchesPod(peer.podSelector, src.pod)
    );
  if ("internet" in src) return peer.ipBlock !== undefined;
  return false; // a stranger's pod is in another namespace or has other labels
}

const portMatches = (rule: any, portName: string, port: number) =>
  rule.ports === undefined || rule.ports.some((p: any) => p.port === portName || p.port === port);

/** Whether NetworkPolicy semantics let `src` open `portName` on pods of `dst`. */
function allowed(policies: any[], src: Source, dst: Workload, portName: string): boolean {
  const port = dst.ports.get(portName)!;
  const selecting = (pod: string, type: string) =>
    policies.filter(
      (p) =>
        (p.spec.podSelector.matchLabels === undefined || matchesPod(p.spec.podSelector, pod)) &&
        p.spec.policyTypes.includes(type),
    );
  const inbound = selecting(dst.name, "Ingress");
  const ingressOk =
    inbound.length === 0 ||
    inbound.some((p) =>
      (p.spec.ingress ?? []).some(
        (r: any) =>
          portMatches(r, portName, port) &&
          (r.from === undefined || r.from.some((peer: any) => peerMatches(peer, src))),
      ),
    );
  if (!("pod" in src)) return ingressOk;
  const outbound = selecting(src.pod, "Egress");
  const egressOk =
    outbound.length === 0 ||
    outbound.some((p) =>
      (p.spec.egress ?? []).some(
        (r: any) =>
          portMatches(r, portName, port) &&
          (r.to === undefined || r.to.some((peer: any) => matchesPod(peer.podSelector, dst.name))),
      ),
    );
  return ingressOk && egressOk;
}

const kubernetesConfigs = CONFIGURATIONS.filter((c) => c.config.host === "kubernetes");

describe("kubernetes network policies (the program under mocks)", function () {
  this.timeout(300_000);
  const rendered = new Map<string, Rendered[]>();
  before(async () => {
    for (const c of kubernetesConfigs) rendered.set(c.name, await renderProgram(c.config, c.secretKeys));
  });

  it("denies by default once per namespace, and gives every pod Firefly runs its own policy", () => {
    for (const [name, resources] of rendered) {
      const policies = resources.filter((r) => r.type === NP).map((r) => r.inputs);
      const deny = policies.filter((p) => p.metadata.name === DEFAULT_DENY);
      assert.equal(deny.length, 1, `${name}: default deny`);
      assert.deepEqual(deny[0].spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      for (const w of workloads(resources))
        assert.ok(
          policies.some((p) => matchesPod(p.spec.podSelector, w.name)),
          `${name}: ${w.name} has no policy`,
        );
    }
  });

  it("allows exactly the connections the rendered configuration makes (the service graph), no more", () => {
    const everyFlowUsed = new Set<string>();
    for (const [name, resources] of rendered) {
      const all = workloads(resources);
      const policies = resources.filter((r) => r.type === NP).map((r) => r.inputs);
      const needed = connections(all);
      // With storage external the only services are the collector and Grafana, which never talk.
      if (name !== "kubernetes storage external")
        assert.ok(needed.size >= 3, `${name}: found only ${[...needed].join(", ")}`);
      const granted = new Set<string>();
      for (const src of all)
        for (const dst of all)
          for (const portName of dst.ports.keys()) {
            const publicPort = allowed(policies, { internet: true }, dst, portName);
            if (src !== dst && !publicPort && allowed(policies, { pod: src.name }, dst, portName))
              granted.add(`${src.name}→${dst.name}:${portName}`);
          }
      assert.deepEqual(
        [...granted].sort(),
        [...needed].sort(),
        `${name}: allowed flows vs the service graph`,
      );
      for (const c of needed) everyFlowUsed.add(c);
    }
    const declared = FLOWS.map((f) => `${f.from}→${f.to}:${f.port}`);
    assert.deepEqual(
      declared.filter((d) => !everyFlowUsed.has(d)),
      [],
      "FLOWS lists a connection no configuration makes",
    );
  });

  it("a pod outside the allowed flows is denied: strangers reach only the public ports, nothing else", () => {
    for (const [name, resources] of rendered) {
      const all = workloads(resources);
      const policies = resources.filter((r) => r.type === NP).map((r) => r.inputs);
      for (const dst of all)
        for (const portName of dst.ports.keys()) {
          const stranger = allowed(policies, { strangerPod: true }, dst, portName);
          const internet = allowed(policies, { internet: true }, dst, portName);
          const isPublic =
            (dst.name === "collector" && ["otlp-http", "firehose", "firehose-logs"].includes(portName)) ||
            (dst.name === "grafana" && portName === "http");
          assert.equal(stranger, isPublic, `${name}: a stranger's pod → ${dst.name}:${portName}`);
          assert.equal(internet, isPublic, `${name}: the internet → ${dst.name}:${portName}`);
        }
      const store = all.find((w) => w.name === "prometheus" || w.name === "timescaledb");
      const collector = all.find((w) => w.name === "collector")!;
      // Grafana reads the stores but cannot reach the collector's non-public ports; the collector cannot reach the database.
      assert.equal(allowed(policies, { pod: "grafana" }, collector, "otlp-grpc"), false);
      if (store?.name === "timescaledb")
        assert.equal(allowed(policies, { pod: "collector" }, store, "postgres"), false);
    }
  });

  it("opens egress to the stores you run (storage external) on their ports only, and to nothing outside otherwise", () => {
    const outside = (policy: any) =>
      policy.spec.egress
        .filter((r: any) => r.to?.some((peer: any) => peer.ipBlock?.cidr === "0.0.0.0/0"))
        .flatMap((r: any) => r.ports.map((p: any) => p.port))
        .sort((a: number, b: number) => a - b);
    for (const [name, resources] of rendered) {
      const policies = resources.filter((r) => r.type === NP).map((r) => r.inputs);
      const policy = (pod: string) => policies.find((p) => p.metadata.name === pod);
      const workloadNames = workloads(resources).map((w) => w.name);
      if (name === "kubernetes storage external") {
        assert.deepEqual(workloadNames.sort(), ["collector", "grafana"], "no store runs in the namespace");
        // remote write and the log endpoint over 443 and 9481, OTLP/gRPC on 4317.
        assert.deepEqual(outside(policy("collector")), [443, 4317, 9481]);
        // PromQL, Jaeger query and LogsQL on the query URLs' ports, and HTTPS for the plugin catalogue.
        assert.deepEqual(outside(policy("grafana")), [443, 8481, 9471, 16686]);
        for (const rule of [...policy("collector").spec.egress, ...policy("grafana").spec.egress])
          assert.ok(rule.ports?.length > 0, "every egress rule names its ports (none would mean all)");
      } else {
        assert.ok(workloadNames.includes("victorialogs"), `${name}: Firefly's own log store runs`);
        assert.deepEqual(outside(policy("collector")), [], `${name}: the collector reaches nothing outside`);
        if (policy("grafana"))
          assert.ok(
            outside(policy("grafana")).includes(443),
            `${name}: Grafana cannot reach the plugin catalogue for its logs datasource`,
          );
      }
    }
  });

  it("every policy decodes strictly into the Kubernetes API types, and the checker refuses a misplaced field", () => {
    const bin = requireTool("manifest-check", "56-manifest-check.sh");
    const policies = [...rendered.values()]
      .flat()
      .filter((r) => r.type === NP)
      .map((r) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", ...r.inputs }));
    assert.ok(policies.length >= 12);
    const ok = spawnSync(bin, { input: JSON.stringify(policies), encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stdout);
    const typo = spawnSync(bin, {
      input: JSON.stringify([{ ...policies[0], spec: { ...policies[0].spec, podSelectr: {} } }]),
      encoding: "utf8",
    });
    assert.equal(typo.status, 1);
    assert.match(typo.stdout, /unknown field "podSelectr"/);
  });
});

describe("network policy renderer (pure)", () => {
  it("lets load-balancing replicas reach each other's peer port, and only when more than one can run", () => {
    const services = shippingServices(Storage.Prometheus).map((s) =>
      s.name === "collector" ? { ...s, replicas: undefined, maxReplicas: undefined } : s,
    );
    const single = renderNetworkPolicies(services, "ns").find((m) => m.metadata.name === "collector")!;
    const peerRule = (m: any) =>
      m.spec.ingress.find((r: any) => r.from?.some((p: any) => matchesPod(p.podSelector, "collector")));
    assert.equal(peerRule(single), undefined);
    const scaled: ServiceSpec[] = services.map((s) =>
      s.name === "collector" ? { ...s, replicas: 1, maxReplicas: 4 } : s,
    );
    const many = renderNetworkPolicies(scaled, "ns").find((m) => m.metadata.name === "collector")!;
    assert.deepEqual(peerRule(many).ports, [{ protocol: "TCP", port: "otlp-grpc" }]);
  });

  it("reads each store's port from its address (scheme defaults included), each port once", () => {
    assert.deepEqual(
      portsOf([
        "https://vminsert.example.com/api/v1/write",
        "http://vmselect.monitoring.svc/select/0/prometheus",
        "jaeger.example.com:4317",
        "https://vlinsert.example.com:443/insert/opentelemetry",
      ]),
      [80, 443, 4317],
    );
  });

  it("isolates a service it has no flows for: public ports and DNS only", () => {
    const unknown: ServiceSpec = {
      name: "newcomer",
      image: "x",
      ports: [{ name: "admin", container: 9000 }],
      resources: { cpu: 1, memoryMb: 64 },
    };
    const [policy] = renderNetworkPolicies([unknown], "ns");
    assert.deepEqual(policy.spec.ingress, []);
    assert.equal(policy.spec.egress.length, 1);
  });

  it("lets Grafana reach its mail relay's port only when SMTP is set, and HTTPS only for plugins it must install", () => {
    const grafana = (env: Record<string, string>): ServiceSpec => ({
      name: "grafana",
      image: "g",
      env,
      ports: [{ name: "http", container: 3000, public: true }],
      resources: { cpu: 1, memoryMb: 64 },
    });
    const egress = (env: Record<string, string>) =>
      renderNetworkPolicies([grafana(env)], "ns")[0].spec.egress;
    const relay = (rules: any[]) => rules.find((r) => r.to?.some((p: any) => p.ipBlock));
    assert.equal(relay(egress({})), undefined);
    assert.deepEqual(relay(egress({ GF_PLUGINS_PREINSTALL_SYNC: "victoriametrics-logs-datasource" })).ports, [
      { protocol: "TCP", port: 443 },
    ]);
    assert.deepEqual(relay(egress({ GF_SMTP_HOST: "email-smtp.eu-west-1.amazonaws.com:587" })).ports, [
      { protocol: "TCP", port: 587 },
    ]);
  });
});
