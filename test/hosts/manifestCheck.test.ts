// The kubernetes manifests, decoded strictly into the Kubernetes API's own Go types by manifest-check
// (built by .ci/setup.d/56-manifest-check.sh): a misspelt, misplaced or mistyped field fails here.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { type Manifest, renderManifests } from "../../components/hosts/kubernetes";
import { collectorRoutes } from "../../components/shipping";
import { collectorService } from "../../components/shipping/collector";
import { storageServices } from "../../components/shipping/storage";
import { Storage } from "../../components/types";
import { resolve, sampleServices } from "./helpers";

function manifestCheck(manifests: unknown[]): { status: number | null; stdout: string } {
  const tools = path.resolve(".firefly/tools");
  const bin = existsSync(tools) ? readdirSync(tools).find((f) => f.startsWith("manifest-check-")) : undefined;
  if (!bin) throw new Error("manifest-check is not built: run .ci/setup.d/56-manifest-check.sh");
  return spawnSync(path.join(tools, bin), { input: JSON.stringify(manifests), encoding: "utf8" });
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
      const services = [
        ...storageServices({
          storage,
          databasePassword: "db-0123456789abcdef",
          readonlyPassword: "ro-0123456789abcdef",
        }),
        collectorService({
          config: { storage },
          otlpToken: "t".repeat(40),
          firehoseAccessKey: "k".repeat(40),
        }),
      ];
      const manifests = (await resolve(renderManifests(services, placement))) as Manifest[];
      const r = manifestCheck(manifests);
      assert.equal(r.status, 0, r.stdout);
      assert.ok(
        manifests.some((m) => m.kind === "Ingress") && manifests.some((m) => m.kind === "StatefulSet"),
      );
    });
  }

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
