// The kubernetes manifests, decoded strictly into the Kubernetes API's own Go types by manifest-check
// (built by .ci/setup.d/56-manifest-check.sh): a misspelt, misplaced or mistyped field fails here.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { type Manifest, renderManifests } from "../../components/hosts/kubernetes";
import { collectorRoutes } from "../../components/shipping";
import { collectorService } from "../../components/shipping/collector";
import { Storage } from "../../components/types";
import { requireTool, resolve, sampleServices, shippingServices } from "./helpers";

function manifestCheck(manifests: unknown[]): { status: number | null; stdout: string } {
  const bin = requireTool("manifest-check", "56-manifest-check.sh");
  return spawnSync(bin, { input: JSON.stringify(manifests), encoding: "utf8" });
}

const placement = {
  namespace: "firefly",
  storageClass: "gp3",
  ingress: {
    host: "ingest.example.com",
    className: "nginx",
    tlsSecretName: "tls",
    routes: collectorRoutes(),
  },
  loadBalancers: ["collector", "ingest"],
};

describe("kubernetes manifests, decoded by the Kubernetes API types", () => {
  for (const storage of [Storage.Promscale, Storage.Prometheus]) {
    it(`the shipping manifests (${storage}) decode strictly`, async () => {
      const services = shippingServices(storage);
      const manifests = (await resolve(renderManifests(services, placement))) as Manifest[];
      const r = manifestCheck(manifests);
      assert.equal(r.status, 0, r.stdout);
      assert.ok(
        manifests.some((m) => m.kind === "Ingress") && manifests.some((m) => m.kind === "StatefulSet"),
      );
    });
  }

  it("the scaled-out gateway (StatefulSet, ingest and headless Services, HPA, PDB) decodes strictly", async () => {
    const collector = collectorService({
      config: {
        storage: Storage.Prometheus,
        samplingPercent: 10,
        peers: {
          dns: { hostname: "collector-peers", port: 4319 },
          tls: {
            certFile: "/etc/firefly/peers/tls.crt",
            keyFile: "/etc/firefly/peers/tls.key",
            serverName: "collector-peers",
          },
        },
      },
      otlpToken: "t".repeat(40),
      firehoseAccessKey: "k".repeat(40),
      scale: { replicas: 2, maxReplicas: 6, cpuPercent: 60 },
      peerTls: { certificate: "-----BEGIN CERTIFICATE-----", privateKey: "-----BEGIN PRIVATE KEY-----" },
    });
    const manifests = (await resolve(renderManifests([collector], placement))) as Manifest[];
    const r = manifestCheck(manifests);
    assert.equal(r.status, 0, r.stdout);
    assert.deepEqual(
      manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      [
        "ConfigMap/collector-files",
        "Secret/collector-secrets",
        "StatefulSet/collector",
        "HorizontalPodAutoscaler/collector",
        "PodDisruptionBudget/collector",
        "Service/collector-peers",
        "Service/collector",
        "Service/collector-public",
        "Ingress/ingest",
        "NetworkPolicy/firefly-default-deny",
        "NetworkPolicy/collector",
      ],
    );
  });

  it("the sample services (secret files, replicas, HPA, PDB, LoadBalancer) decode strictly", async () => {
    const r = manifestCheck((await resolve(renderManifests(sampleServices(), placement))) as Manifest[]);
    assert.equal(r.status, 0, r.stdout);
  });

  it("the checker refuses a misplaced field", () => {
    const r = manifestCheck([
      { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { port: 80 } },
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /unknown field "port"/);
  });
});
