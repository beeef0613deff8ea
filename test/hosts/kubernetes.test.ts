import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { fileKey, type Manifest, renderManifests } from "../../components/hosts/kubernetes";
import { resolve, SECRET_PASSWORD, sampleServices } from "./helpers";

const find = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `${kind}/${name} rendered`);
  return m;
};

describe("kubernetes host renderer", () => {
  const base = { namespace: "obs", storageClass: "gp3" };

  it("renders stateful services as StatefulSets with claims, others as Deployments with HPA and PDB", () => {
    const ms = renderManifests(sampleServices(), base);
    const sts = find(ms, "StatefulSet", "store");
    assert.deepEqual(sts.spec.volumeClaimTemplates, [
      {
        metadata: { name: "store-data" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "gp3",
          resources: { requests: { storage: "7Gi" } },
        },
      },
    ]);
    assert.deepEqual(sts.spec.template.spec.nodeSelector, { "kubernetes.io/arch": "amd64" });
    assert.equal(sts.spec.template.spec.securityContext.fsGroup, 1000);
    assert.equal(sts.spec.template.spec.securityContext.runAsNonRoot, true);
    const dep = find(ms, "Deployment", "ingest");
    assert.equal(dep.spec.replicas, 2);
    const hpa = find(ms, "HorizontalPodAutoscaler", "ingest");
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 8]);
    assert.equal(find(ms, "PodDisruptionBudget", "ingest").spec.maxUnavailable, 1);
    assert.ok(!ms.some((m) => m.kind === "HorizontalPodAutoscaler" && m.metadata.name === "store"));
    const [, ingest] = sampleServices();
    const capped = renderManifests([{ ...ingest, maxReplicas: 3 }], base);
    assert.equal(find(capped, "HorizontalPodAutoscaler", "ingest").spec.maxReplicas, 3);
    for (const m of ms) assert.equal(m.metadata.namespace, "obs");
  });

  it("puts plain files in a ConfigMap and secrets only in a Secret, referenced by key", async () => {
    const ms = renderManifests(sampleServices(), base);
    const cm = find(ms, "ConfigMap", "store-files");
    assert.deepEqual(Object.keys(cm.data), [fileKey("/etc/store/store.conf")]);
    const secret = find(ms, "Secret", "store-secrets");
    assert.equal(await pulumi.isSecret(pulumi.output(secret.stringData.STORE_PASSWORD)), true);
    assert.equal(await resolve(secret.stringData.STORE_PASSWORD), SECRET_PASSWORD);
    assert.equal(
      await pulumi.isSecret(pulumi.output(secret.stringData[fileKey("/etc/store/tls.key")])),
      true,
    );
    const container = find(ms, "StatefulSet", "store").spec.template.spec.containers[0];
    assert.deepEqual(container.env, [
      { name: "MODE", value: "single" },
      {
        name: "STORE_PASSWORD",
        valueFrom: { secretKeyRef: { name: "store-secrets", key: "STORE_PASSWORD" } },
      },
    ]);
    const plainText = JSON.stringify(ms.filter((m) => m.kind !== "Secret"));
    assert.ok(!plainText.includes(SECRET_PASSWORD) && !plainText.includes("-----KEY-----"));
  });

  it("probes the health endpoint and mounts each file by subPath", () => {
    const c = find(renderManifests(sampleServices(), base), "StatefulSet", "store").spec.template.spec
      .containers[0];
    assert.deepEqual(c.readinessProbe.httpGet, { path: "/ready", port: 5432 });
    assert.deepEqual(
      c.volumeMounts.map((v: { mountPath: string }) => v.mountPath),
      ["/etc/store/store.conf", "/etc/store/tls.key", "/data"],
    );
  });

  it("exposes only the routed paths through a TLS Ingress", () => {
    const ms = renderManifests(sampleServices(), {
      ...base,
      ingress: {
        host: "ingest.example.com",
        className: "nginx",
        tlsSecretName: "tls",
        routes: [{ path: "/v1/traces", service: "ingest", port: 4318 }],
      },
    });
    const ing = find(ms, "Ingress", "ingest");
    assert.deepEqual(ing.spec.tls, [{ hosts: ["ingest.example.com"], secretName: "tls" }]);
    assert.deepEqual(ing.spec.rules[0].http.paths, [
      {
        path: "/v1/traces",
        pathType: "Exact",
        backend: { service: { name: "ingest", port: { number: 4318 } } },
      },
    ]);
    assert.ok(!ms.some((m) => m.spec?.type === "LoadBalancer"));
  });

  it("a LoadBalancer carries only public ports", () => {
    const ms = renderManifests(sampleServices(), { ...base, loadBalancers: ["ingest"] });
    const lb = find(ms, "Service", "ingest-public");
    assert.equal(lb.spec.type, "LoadBalancer");
    assert.deepEqual(lb.spec.ports, [{ name: "http", port: 4318, targetPort: "http" }]);
  });
});
