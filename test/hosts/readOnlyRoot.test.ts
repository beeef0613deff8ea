// Read-only root filesystems: every Kubernetes container Firefly renders sets readOnlyRootFilesystem,
// and every ec2 Compose service `read_only`, with each path its image is known to write mounted
// writable (a volume, or a scratch emptyDir / tmpfs). No container runtime runs here, so the paths are
// the images' documented ones (see each service's `scratch` comment), checked against what renders.
// The docker host keeps writable roots: it delivers config files by copying them into the container,
// which the engine refuses on a read-only root filesystem.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { caddyService } from "../../components/hosts/caddy";
import type { ServiceSpec } from "../../components/hosts/spec";
import { grafanaService } from "../../components/presentation/grafana";
import { collectorRoutes } from "../../components/shipping";
import { logStoreService } from "../../components/shipping/logStore";
import { Storage } from "../../components/types";
import { shippingServices } from "./helpers";
import { CONFIGURATIONS, type Rendered, renderProgram } from "./programUnderMocks";

/** Paths each image writes, by service: its data volume and what its Dockerfile or chart makes writable. */
const WRITES: Record<string, string[]> = {
  grafana: ["/var/lib/grafana", "/var/log/grafana", "/tmp"],
  timescaledb: ["/home/postgres/pgdata", "/var/run/postgresql", "/tmp"],
  promscale: ["/tmp"],
  prometheus: ["/prometheus"],
  jaeger: ["/badger", "/tmp"],
  victorialogs: ["/victoria-logs-data"],
  collector: ["/var/lib/firefly/queue"],
  caddy: ["/data"],
};

const grafana = () =>
  grafanaService({
    datasources: "",
    alerting: "",
    dashboards: {},
    adminPassword: "p".repeat(32),
    secretKey: "k".repeat(40),
  });
const everyService = (): ServiceSpec[] => [
  ...shippingServices(Storage.Prometheus),
  ...shippingServices(Storage.Promscale).filter((s) => /timescaledb|promscale/.test(s.name)),
  logStoreService(),
  grafana(),
  caddyService("firefly.example.com", collectorRoutes()),
];

describe("read-only root filesystems", function () {
  this.timeout(300_000);

  it("every service Firefly describes says what it writes outside its volumes (a new one must decide)", () => {
    const services = everyService();
    assert.deepEqual(services.map((s) => s.name).sort(), Object.keys(WRITES).sort());
    for (const s of services) {
      assert.ok(Array.isArray(s.scratch), `${s.name} declares no scratch paths`);
      const writable = [...(s.volumes ?? []).map((v) => v.mountPath), ...(s.scratch ?? [])];
      assert.deepEqual(writable.sort(), [...WRITES[s.name]].sort(), s.name);
    }
  });

  describe("kubernetes (the program under mocks)", () => {
    const rendered: Rendered[] = [];
    before(async () => {
      for (const c of CONFIGURATIONS.filter((c) => c.config.host === "kubernetes"))
        rendered.push(...(await renderProgram(c.config, c.secretKeys)));
    });

    it("every container's root filesystem is read-only, and each path its image writes is mounted", () => {
      const seen = new Set<string>();
      for (const r of rendered.filter((r) => /:(Deployment|StatefulSet)$/.test(r.type))) {
        const pod = r.inputs.spec.template.spec;
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          seen.add(c.name);
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${r.name}/${c.name}`);
          const mounted = (c.volumeMounts ?? []).filter((m: any) => !m.readOnly).map((m: any) => m.mountPath);
          assert.ok(WRITES[c.name], `${c.name}: no known writable paths; add them to WRITES`);
          for (const p of WRITES[c.name])
            assert.ok(mounted.includes(p), `${r.name}/${c.name}: ${p} not mounted`);
          // Each scratch mount is an emptyDir of the pod, not a path on the node.
          for (const m of c.volumeMounts.filter((m: any) => m.name.startsWith("scratch-"))) {
            const v = pod.volumes.find((v: any) => v.name === m.name);
            assert.deepEqual(v, { name: m.name, emptyDir: {} }, `${r.name}: ${m.name}`);
          }
        }
      }
      // Both stores, the log store, the collector and Grafana were among them.
      for (const name of Object.keys(WRITES).filter((n) => n !== "caddy"))
        assert.ok(seen.has(name), `no ${name} pod rendered`);
    });
  });

  describe("ec2 Compose projects (the program under mocks)", () => {
    const composeFiles = (resources: Rendered[]) =>
      resources
        .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2")
        .flatMap((r) =>
          [
            ...String(r.inputs.content).matchAll(
              /<<'FIREFLY_B64' \| gunzip > "\$dir\/compose\.yaml"\n([\s\S]*?)\nFIREFLY_B64/g,
            ),
          ].map(
            (m) =>
              parse(gunzipSync(Buffer.from(m[1].replace(/\s/g, ""), "base64")).toString("utf8")).services,
          ),
        );

    it("every service runs read_only, with tmpfs or a volume at each path its image writes", async () => {
      const seen = new Set<string>();
      for (const c of CONFIGURATIONS.filter((c) => c.config.host === "ec2")) {
        const projects = composeFiles(await renderProgram(c.config, c.secretKeys));
        assert.ok(projects.length >= 2, `${c.name}: expected the shipping and Grafana projects`);
        for (const services of projects)
          for (const [name, s] of Object.entries<any>(services)) {
            seen.add(name);
            assert.equal(s.read_only, true, `${c.name}: ${name}`);
            const writable = [
              ...(s.tmpfs ?? []),
              ...(s.volumes ?? [])
                .filter((v: string) => !v.endsWith(":ro"))
                .map((v: string) => v.split(":")[1]),
            ];
            for (const p of WRITES[name] ?? assert.fail(`${name}: no known writable paths`))
              assert.ok(writable.includes(p), `${c.name}: ${name}: ${p} not writable`);
          }
      }
      for (const name of Object.keys(WRITES)) assert.ok(seen.has(name), `no ${name} service rendered`);
    });
  });
});
