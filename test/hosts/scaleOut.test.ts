// The gateway on Kubernetes under Pulumi mocks: a StatefulSet whose replicas each keep their trace queue
// on their own claim, pods that roll when their config changes, a headless Service for trace routing
// when sampling, and an autoscaler that scales down slowly.
import * as assert from "node:assert/strict";
import { parse } from "yaml";
import type * as shippingModule from "../../components/shipping";
import { Host } from "../../components/types";
import { installMocks, ofType, recorded, settle } from "../shipping/mocks";

let shipping: typeof shippingModule;

// What the tls provider would fill in, so the peer certificate's files show up in the manifests.
const tlsOutputs = (a: { type: string }) =>
  a.type === "tls:index/selfSignedCert:SelfSignedCert"
    ? { certPem: "-----BEGIN CERTIFICATE-----" }
    : a.type === "tls:index/privateKey:PrivateKey"
      ? { privateKeyPem: "-----BEGIN PRIVATE KEY-----" }
      : undefined;

async function deploy(args: shippingModule.ShippingPhaseArgs) {
  installMocks({ state: tlsOutputs });
  new shipping.ShippingPhase("ks", { host: Host.Kubernetes, ...args });
  await settle();
  const named = (type: string, name: string) =>
    ofType(type).find((r) => r.inputs.metadata.name === name)?.inputs ?? assert.fail(`${type} ${name}`);
  const sts = named("kubernetes:apps/v1:StatefulSet", "collector");
  const config = parse(
    Object.values(named("kubernetes:core/v1:ConfigMap", "collector-files").data)[0] as string,
  );
  const hpa = named("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "collector");
  const peers = ofType("kubernetes:core/v1:Service").find(
    (r) => r.inputs.metadata.name === "collector-peers",
  );
  return { sts, config, hpa, peers: peers?.inputs };
}

describe("gateway scale-out on kubernetes (Pulumi mocks)", () => {
  before(async () => {
    installMocks();
    shipping = await import("../../components/shipping");
  });

  it("by default one replica whose trace queue is a claim that follows it when rescheduled", async () => {
    const { sts, hpa, peers, config } = await deploy({});
    assert.equal(sts.spec.replicas, 1);
    assert.deepEqual(
      sts.spec.volumeClaimTemplates.map((v: any) => [v.metadata.name, v.spec.resources.requests.storage]),
      [["collector-queue", "5Gi"]],
    );
    const mounts = sts.spec.template.spec.containers[0].volumeMounts.map((m: any) => m.name);
    assert.ok(mounts.includes("collector-queue"));
    assert.ok(!sts.spec.template.spec.volumes.some((v: any) => v.emptyDir), "no emptyDir queue");
    assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [1, 1]);
    assert.equal(hpa.spec.scaleTargetRef.kind, "StatefulSet");
    assert.equal(peers, undefined, "no peers without sampling");
    assert.ok(!("loadbalancing" in config.exporters));
  });

  it("pods roll when their config changes: a config hash on the pod template", async () => {
    const hash = async (args: shippingModule.ShippingPhaseArgs) =>
      (await deploy(args)).sts.spec.template.metadata.annotations["firefly.dev/config-hash"];
    const a = await hash({ samplingPercent: 100 });
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.equal(await hash({ samplingPercent: 100 }), a, "stable when nothing changed");
    assert.notEqual(await hash({ samplingPercent: 50 }), a, "config file changed");
    assert.notEqual(
      await hash({ otlpToken: "another-token-0123456789abcdef" }),
      a,
      "a secret changed (read once at start)",
    );
    // The stores' pods too: a config change must reach every service.
    const db = ofType("kubernetes:apps/v1:StatefulSet").find((r) => r.inputs.metadata.name === "prometheus");
    assert.match(db?.inputs.spec.template.metadata.annotations["firefly.dev/config-hash"], /^[0-9a-f]{32}$/);
  });

  it("replicas with sampling: traces routed by trace id over a headless Service, peers authenticated", async () => {
    const { sts, hpa, peers, config } = await deploy({ kubernetes: { replicas: 3 }, samplingPercent: 10 });
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.serviceName, "collector-peers");
    assert.equal(sts.spec.podManagementPolicy, "Parallel");
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 3]);
    assert.equal(peers.spec.clusterIP, "None");
    assert.deepEqual(peers.spec.ports, [{ name: "otlp-peers", port: 4319, targetPort: "otlp-peers" }]);
    const env = sts.spec.template.spec.containers[0].env;
    assert.deepEqual(
      env.find((e: any) => e.name === "FIREFLY_COLLECTOR_REPLICA"),
      { name: "FIREFLY_COLLECTOR_REPLICA", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    );
    const lb = config.exporters.loadbalancing;
    assert.equal(lb.routing_key, "traceID");
    assert.deepEqual(lb.resolver, { dns: { hostname: "collector-peers", port: "4319" } });
    assert.equal(lb.sending_queue.storage, "file_storage");
    assert.equal(lb.protocol.otlp.sending_queue.enabled, false);
    assert.deepEqual(lb.protocol.otlp.auth, { authenticator: "bearertokenauth/otlp" });
    assert.deepEqual(config.receivers["otlp/peers"].protocols.grpc.auth, {
      authenticator: "bearertokenauth/otlp",
    });
    // The token crosses the cluster network: peers speak TLS with a certificate named after the Service.
    assert.deepEqual(config.receivers["otlp/peers"].protocols.grpc.tls, {
      cert_file: "/etc/firefly/peers/tls.crt",
      key_file: "/etc/firefly/peers/tls.key",
    });
    assert.deepEqual(lb.protocol.otlp.tls, {
      ca_file: "/etc/firefly/peers/tls.crt",
      server_name_override: "collector-peers",
    });
    const [cert] = ofType("tls:index/selfSignedCert:SelfSignedCert");
    assert.deepEqual(cert.inputs.dnsNames, ["collector-peers"]);
    const files = ofType("kubernetes:core/v1:ConfigMap").find(
      (r) => r.inputs.metadata.name === "collector-files",
    );
    assert.equal(files?.inputs.data["etc_firefly_peers_tls.crt"], "-----BEGIN CERTIFICATE-----");
    // The key only in the Secret (a secret value there), never in the ConfigMap.
    assert.ok(!JSON.stringify(files?.inputs).includes("PRIVATE KEY"));
    const secret = ofType("kubernetes:core/v1:Secret").find(
      (r) => r.inputs.metadata.name === "collector-secrets",
    );
    assert.match(JSON.stringify(secret?.inputs.stringData), /BEGIN PRIVATE KEY/);
    assert.deepEqual(config.service.pipelines.traces.exporters, ["loadbalancing"]);
    assert.deepEqual(config.service.pipelines["traces/sampled"].processors, [
      "memory_limiter",
      "tail_sampling",
    ]);
  });

  it("replicas without sampling need no routing: any replica takes any span", async () => {
    const { sts, peers, config } = await deploy({ kubernetes: { replicas: 2 } });
    assert.equal(sts.spec.replicas, 2);
    assert.equal(peers, undefined);
    assert.deepEqual(config.service.pipelines.traces.exporters, ["otlp_grpc/traces"]);
  });

  it("autoscale: floor, ceiling and CPU target from the settings; scale-down one pod per 10 minutes", async () => {
    const { sts, hpa } = await deploy({ kubernetes: { autoscale: { min: 2, max: 6, cpuPercent: 60 } } });
    assert.equal(sts.spec.replicas, undefined, "the HPA owns the count; pulumi up never resets it");
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 6]);
    assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 60);
    assert.deepEqual(hpa.spec.behavior.scaleDown, {
      stabilizationWindowSeconds: 900,
      policies: [{ type: "Pods", value: 1, periodSeconds: 600 }],
    });
  });

  it("refuses replicas and autoscale together, and bad bounds, before anything exists", async () => {
    installMocks();
    assert.throws(
      () =>
        new shipping.ShippingPhase("bad", {
          host: Host.Kubernetes,
          kubernetes: { replicas: 0, autoscale: { min: 4, max: 2, cpuPercent: 5 } },
        }),
      (e: Error) =>
        /kubernetes.replicas: 0 must be a whole number/.test(e.message) &&
        /autoscale.max: 2 must be at least autoscale.min \(4\)/.test(e.message) &&
        /cpuPercent: 5/.test(e.message) &&
        /either replicas .* or autoscale, not both/.test(e.message),
    );
    await settle(50);
    assert.deepEqual(
      recorded.filter((r) => r.type !== "firefly:index:ShippingPhase"),
      [],
    );
  });
});
