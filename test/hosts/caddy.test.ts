// The ec2 host's Caddy front, with the real Caddy (built by .ci/setup.d/57-caddy.sh at CADDY_IMAGE's
// version): the rendered Caddyfile validates, and run on loopback it forwards exactly the routed paths.
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CADDY_IMAGE, renderCaddyfile } from "../../components/hosts/caddy";
import { collectorRoutes } from "../../components/shipping";
import { requireTool } from "./helpers";

const caddyBinary = () => requireTool("caddy", "57-caddy.sh");

const listen = (server: Server) =>
  new Promise<number>((done) =>
    server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port)),
  );

describe("Caddy front (real Caddy)", () => {
  let dir: string;
  const env = () => ({ ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir });

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "ff-caddy-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is the version the host runs", () => {
    assert.equal(`caddy-v${CADDY_IMAGE.split(":")[1]}`, path.basename(caddyBinary()));
  });

  it("validates the Caddyfile rendered for a domain", () => {
    const file = path.join(dir, "Caddyfile");
    writeFileSync(file, renderCaddyfile("firefly.example.com", collectorRoutes()));
    const r = spawnSync(caddyBinary(), ["validate", "--config", file, "--adapter", "caddyfile"], {
      encoding: "utf8",
      env: env(),
    });
    assert.equal(r.status, 0, r.stderr);
    const bad = path.join(dir, "Bad");
    writeFileSync(
      bad,
      renderCaddyfile("firefly.example.com", collectorRoutes()).replace("handle ", "handel "),
    );
    assert.notEqual(
      spawnSync(caddyBinary(), ["validate", "--config", bad, "--adapter", "caddyfile"], { env: env() })
        .status,
      0,
    );
  });

  describe("running on loopback", () => {
    const seen: string[] = [];
    const backends: Server[] = [];
    let caddy: ChildProcess;
    let base: string;

    before(async () => {
      // Two stand-in upstreams where the collector's OTLP and Firehose ports would be.
      const ports: number[] = [];
      for (const label of ["otlp", "firehose"]) {
        const s = createServer((req, res) => {
          seen.push(`${label} ${req.method} ${req.url}`);
          res.end(label);
        });
        backends.push(s);
        ports.push(await listen(s));
      }
      const free = createServer();
      const port = await listen(free);
      await new Promise((r) => free.close(r));
      base = `http://127.0.0.1:${port}`;
      // The routes in use without CloudWatch Logs: OTLP traces and logs, and Firehose metrics.
      const routes = collectorRoutes(true, false).map((r) => ({
        ...r,
        service: "127.0.0.1",
        port: r.path === "/firehose" ? ports[1] : ports[0],
      }));
      const file = path.join(dir, "Caddyfile.local");
      writeFileSync(file, renderCaddyfile(base, routes));
      caddy = spawn(caddyBinary(), ["run", "--config", file, "--adapter", "caddyfile"], {
        env: env(),
        stdio: "ignore",
      });
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`${base}/`).then(
            () => true,
            () => false,
          )
        )
          return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("caddy did not start");
    });

    after(() => {
      caddy?.kill();
      for (const s of backends) s.close();
    });

    it("forwards each collector path to its port, path intact", async () => {
      for (const p of ["/v1/traces", "/v1/logs", "/firehose"]) {
        const r = await fetch(`${base}${p}`, { method: "POST", body: "x" });
        assert.equal(r.status, 200, p);
      }
      assert.deepEqual(seen, ["otlp POST /v1/traces", "otlp POST /v1/logs", "firehose POST /firehose"]);
    });

    it("answers 404 to everything else, without reaching a backend", async () => {
      seen.length = 0;
      for (const p of [
        "/",
        "/v1/traces/x",
        "/v1/metrics",
        "/firehose/logs",
        "/metrics",
        "/api/v1/query",
        "/firehose/../admin",
      ]) {
        assert.equal((await fetch(`${base}${p}`, { method: "POST", body: "x" })).status, 404, p);
      }
      assert.deepEqual(seen, []);
    });
  });
});
