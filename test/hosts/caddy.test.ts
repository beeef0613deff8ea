// The ec2 host's Caddy front, with the real Caddy (built by .ci/setup.d/57-caddy.sh at CADDY_IMAGE's
// version): the rendered Caddyfile validates, and run on loopback it forwards exactly the routed paths,
// and serves Grafana's port with a certificate for the domain (Caddy's internal CA standing in for ACME).
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CADDY_IMAGE, CADDY_VERSION, renderCaddyfile } from "../../components/hosts/caddy";
import { frontedAdminPorts } from "../../components/hosts/ec2";
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
    assert.equal(`caddy-v${CADDY_VERSION}`, path.basename(caddyBinary()));
    assert.match(
      CADDY_IMAGE,
      new RegExp(`^caddy:${CADDY_VERSION.replaceAll(".", "\\.")}@sha256:[0-9a-f]{64}$`),
    );
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

  it("validates the Caddyfile rendered for a domain with admin CIDRs (Grafana on port 3000)", () => {
    const portRoutes = frontedAdminPorts({ domain: "firefly.example.com", adminCidrs: ["203.0.113.0/24"] });
    assert.deepEqual(portRoutes, [{ listen: 3000, service: "grafana", port: 3000 }]);
    const file = path.join(dir, "Caddyfile.grafana");
    writeFileSync(file, renderCaddyfile("firefly.example.com", collectorRoutes(), portRoutes));
    const r = spawnSync(caddyBinary(), ["adapt", "--config", file, "--adapter", "caddyfile"], {
      encoding: "utf8",
      env: env(),
    });
    assert.equal(r.status, 0, r.stderr);
    const servers = Object.values(JSON.parse(r.stdout).apps.http.servers) as any[];
    const listeners = servers.flatMap((s) => s.listen).sort();
    assert.deepEqual(listeners, [":3000", ":443"]);
    const grafana = servers.find((s) => s.listen.includes(":3000"));
    // Only the domain is served there, and only to Grafana.
    assert.deepEqual(grafana.routes[0].match, [{ host: ["firefly.example.com"] }]);
    assert.match(JSON.stringify(grafana.routes), /"dial":"grafana:3000"/);
  });

  describe("serving Grafana's port with the domain's certificate, on loopback", () => {
    const DOMAIN = "grafana.firefly.test";
    const seen: string[] = [];
    let grafana: Server;
    let caddy: ChildProcess;
    let port: number;
    let root: string;

    const get = (servername: string, ca?: string) =>
      new Promise<{ status: number; body: string }>((done, fail) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/api/health",
            servername,
            ca,
            headers: { host: `${DOMAIN}:${port}` },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => {
              body += c;
            });
            res.on("end", () => done({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", fail);
        req.end();
      });

    before(async function () {
      this.timeout(30_000);
      // Where Grafana would answer on the Docker network.
      grafana = createServer((req, res) => {
        seen.push(
          `${req.method} ${req.url} host=${req.headers.host} proto=${req.headers["x-forwarded-proto"]}`,
        );
        res.setHeader("content-type", "application/json");
        res.end('{"database":"ok"}');
      });
      const grafanaPort = await listen(grafana);
      const free = async () => {
        const s = createServer();
        const p = await listen(s);
        await new Promise((r) => s.close(r));
        return p;
      };
      port = await free();
      const [httpPort, httpsPort] = [await free(), await free()];
      const rendered = renderCaddyfile(DOMAIN, collectorRoutes(), [
        { listen: port, service: "127.0.0.1", port: grafanaPort },
      ]);
      // The only change from production: certificates from Caddy's own CA instead of ACME (no internet
      // here), and unprivileged ports for its HTTP redirects and the collector site.
      const global = "{\n  admin off\n}";
      assert.ok(rendered.startsWith(global), rendered);
      const local = rendered.replace(
        global,
        `{\n  admin off\n  local_certs\n  skip_install_trust\n  http_port ${httpPort}\n  https_port ${httpsPort}\n}`,
      );
      const file = path.join(dir, "Caddyfile.tls");
      writeFileSync(file, local);
      caddy = spawn(caddyBinary(), ["run", "--config", file, "--adapter", "caddyfile"], {
        env: env(),
        stdio: "ignore",
      });
      const rootFile = path.join(dir, "caddy", "pki", "authorities", "local", "root.crt");
      for (let i = 0; i < 200; i++) {
        if (existsSync(rootFile)) {
          root = readFileSync(rootFile, "utf8");
          if (
            await get(DOMAIN, root).then(
              () => true,
              () => false,
            )
          )
            return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("caddy did not serve the domain with a certificate");
    });

    after(() => {
      caddy?.kill();
      grafana?.close();
    });

    it("forwards Grafana's port to Grafana over a certificate valid for the domain", async () => {
      seen.length = 0;
      const r = await get(DOMAIN, root);
      assert.equal(r.status, 200);
      assert.equal(r.body, '{"database":"ok"}');
      // Grafana sees the name the browser used (its root URL) and that the browser spoke HTTPS.
      assert.deepEqual(seen, [`GET /api/health host=${DOMAIN}:${port} proto=https`]);
    });

    it("the certificate is the domain's: refused for another name, and by a client that does not trust the CA", async () => {
      await assert.rejects(get("other.firefly.test", root));
      await assert.rejects(get(DOMAIN), /self[- ]signed|unable to (get|verify)/i);
    });
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
