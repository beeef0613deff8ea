import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { defaultStoreEndpoints } from "../../components/shipping/collectorConfig";
import {
  JAEGER_IMAGE,
  PROMETHEUS_IMAGE,
  PROMSCALE_IMAGE,
  READONLY_DB_USER,
  READONLY_ROLE_SCRIPT,
  renderJaegerConfig,
  renderPrometheusConfig,
  storageEndpoints,
  storageServices,
  TIMESCALEDB_IMAGE,
} from "../../components/shipping/storage";
import { Storage } from "../../components/types";
import { findTool, resolve } from "../hosts/helpers";

const byName = (storage: Storage) =>
  Object.fromEntries(
    storageServices({
      storage,
      databasePassword: pulumi.secret("db-pass-0123456789"),
      readonlyPassword: pulumi.secret("ro-pass-0123456789"),
      writerPassword: pulumi.secret("rw-pass-0123456789"),
    }).map((s) => [s.name, s]),
  );

describe("storage: promscale", () => {
  const s = byName(Storage.Promscale);

  it("pins Promscale 0.17.0 and the 2023 TimescaleDB image that still has the extension, amd64 only", () => {
    assert.equal(s.promscale.image, PROMSCALE_IMAGE);
    assert.equal(PROMSCALE_IMAGE, "timescale/promscale:0.17.0");
    assert.equal(s.timescaledb.image, TIMESCALEDB_IMAGE);
    assert.equal(TIMESCALEDB_IMAGE, "timescale/timescaledb-ha:pg14.6-ts2.9.1-p1");
    assert.ok(s.promscale.amd64Only && s.timescaledb.amd64Only);
  });

  it("keeps the database on a persistent volume and every password in secret env", async () => {
    assert.deepEqual(
      s.timescaledb.volumes?.map((v) => v.mountPath),
      ["/home/postgres/pgdata"],
    );
    assert.equal(s.timescaledb.stateful, true);
    assert.deepEqual(Object.keys(s.timescaledb.secretEnv ?? {}).sort(), [
      "FIREFLY_PROMSCALE_PASSWORD",
      "FIREFLY_READER_PASSWORD",
      "POSTGRES_PASSWORD",
    ]);
    assert.deepEqual(Object.keys(s.promscale.secretEnv ?? {}), ["PROMSCALE_DB_PASSWORD"]);
    const plain = JSON.stringify([s.timescaledb.env, s.promscale.env, s.timescaledb.files]);
    assert.ok(!plain.includes("pass-0123456789"));
    // The connector holds its own role's password, never the superuser's.
    assert.equal(await resolve(s.promscale.secretEnv!.PROMSCALE_DB_PASSWORD), "rw-pass-0123456789");
  });

  it("names the collector's write targets as services that exist", () => {
    const w = defaultStoreEndpoints(Storage.Promscale);
    assert.equal(new URL(w.metricsWriteUrl).hostname, "promscale");
    assert.ok(s.promscale.ports.some((p) => p.container === 9201));
    assert.equal(w.traceEndpoint, "promscale:9202");
    assert.ok(s.promscale.ports.some((p) => p.container === 9202));
    const q = storageEndpoints(Storage.Promscale);
    assert.deepEqual([q.prometheusUrl, q.jaegerUrl], ["http://promscale:9201", "http://promscale:9201"]);
    assert.deepEqual(q.postgres, { host: "timescaledb", port: 5432, database: "postgres" });
  });

  it("refuses to render without passwords", () => {
    assert.throws(
      () => storageServices({ storage: Storage.Promscale }),
      /databasePassword, readonlyPassword and writerPassword/,
    );
  });
});

describe("storage: prometheus + jaeger", () => {
  const s = byName(Storage.Prometheus);

  it("pins maintained images with the remote-write receiver on and persistent volumes", () => {
    assert.equal(s.prometheus.image, PROMETHEUS_IMAGE);
    assert.equal(s.jaeger.image, JAEGER_IMAGE);
    assert.ok(s.prometheus.args?.includes("--web.enable-remote-write-receiver"));
    assert.deepEqual(
      s.prometheus.volumes?.map((v) => v.mountPath),
      ["/prometheus"],
    );
    assert.deepEqual(
      s.jaeger.volumes?.map((v) => v.mountPath),
      ["/badger"],
    );
    assert.equal(s.jaeger.secretEnv, undefined);
  });

  it("names the collector's write targets as services that exist", () => {
    const w = defaultStoreEndpoints(Storage.Prometheus);
    assert.equal(new URL(w.metricsWriteUrl).host, "prometheus:9090");
    assert.equal(w.traceEndpoint, "jaeger:4317");
    assert.ok(s.jaeger.ports.some((p) => p.container === 4317));
    const q = storageEndpoints(Storage.Prometheus);
    assert.deepEqual(
      [q.prometheusUrl, q.jaegerUrl, q.postgres],
      ["http://prometheus:9090", "http://jaeger:16686", undefined],
    );
  });

  it("Jaeger keeps traces in badger on the volume, not in memory", () => {
    const c = parse(renderJaegerConfig(30));
    const badger = c.extensions.jaeger_storage.backends.badger_store.badger;
    assert.equal(badger.ephemeral, false);
    assert.ok(
      badger.directories.keys.startsWith("/badger/") && badger.directories.values.startsWith("/badger/"),
    );
    assert.equal(badger.ttl.spans, "720h");
    assert.equal(c.exporters.jaeger_storage_exporter.trace_storage, "badger_store");
  });

  it("promtool accepts the Prometheus config", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ff-prom-"));
    try {
      const file = path.join(dir, "prometheus.yml");
      writeFileSync(file, renderPrometheusConfig());
      const r = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Jaeger binary the local pipeline builds accepts the Jaeger config", function () {
    const bin = findTool("jaeger");
    if (!bin) {
      // Built by .ci/setup.d/30-jaeger.sh in CI; a fresh checkout without it skips, visibly.
      this.skip();
    }
    const dir = mkdtempSync(path.join(tmpdir(), "ff-jaeger-"));
    try {
      // Same config, with the volume paths moved somewhere writable.
      const file = path.join(dir, "config.yaml");
      writeFileSync(file, renderJaegerConfig(30).replaceAll("/badger/", `${dir}/`));
      const r = spawnSync(bin!, ["validate", `--config=${file}`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

describe("storage: read-only SQL role (real PostgreSQL)", () => {
  const bin = "/usr/lib/postgresql/15/bin";
  let dir: string;
  let port: number;
  const asPostgres = (cmd: string, args: string[], env: Record<string, string> = {}, input?: string) =>
    execFileSync(
      "runuser",
      ["-u", "postgres", "--", "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args],
      {
        encoding: "utf8",
        input,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
  const psqlAs = (user: string, password: string, sql: string) =>
    spawnSync(
      "psql",
      [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        user,
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        sql,
      ],
      {
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: password },
      },
    );

  before(async function () {
    if (!existsSync(`${bin}/initdb`)) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), "ff-pg-"));
    chownSync(
      dir,
      Number(execFileSync("id", ["-u", "postgres"]).toString()),
      Number(execFileSync("id", ["-g", "postgres"]).toString()),
    );
    port = await freePort();
    asPostgres(
      `${bin}/initdb`,
      ["-D", `${dir}/data`, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"],
      {},
    );
    asPostgres(`${bin}/pg_ctl`, [
      "-D",
      `${dir}/data`,
      "-w",
      "-l",
      `${dir}/log`,
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      "start",
    ]);
    asPostgres("psql", [
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-c",
      "ALTER ROLE postgres PASSWORD 'admin-pass-0123'; CREATE TABLE metrics(v int); INSERT INTO metrics VALUES (42);",
    ]);
    // The init script as the image's entrypoint runs a mounted (non-executable) script: sourced by a
    // shell with errexit, env from the container, socket to the server.
    const script = path.join(dir, "010-firefly-reader.sh");
    writeFileSync(script, READONLY_ROLE_SCRIPT, { mode: 0o644 });
    asPostgres("bash", ["-c", `set -Eeo pipefail; . ${script}`], {
      POSTGRES_USER: "postgres",
      POSTGRES_DB: "postgres",
      FIREFLY_READER_PASSWORD: "reader-pass-0123",
      PGHOST: dir,
      PGPORT: String(port),
    });
  });

  after(() => {
    if (!dir) return;
    spawnSync("runuser", [
      "-u",
      "postgres",
      "--",
      `${bin}/pg_ctl`,
      "-D",
      `${dir}/data`,
      "-m",
      "immediate",
      "stop",
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${READONLY_DB_USER} logs in with its password and reads`, () => {
    const r = psqlAs(READONLY_DB_USER, "reader-pass-0123", "SELECT v FROM metrics");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "42");
  });

  it(`${READONLY_DB_USER} cannot write or create`, () => {
    const insert = psqlAs(READONLY_DB_USER, "reader-pass-0123", "INSERT INTO metrics VALUES (1)");
    assert.notEqual(insert.status, 0);
    assert.match(insert.stderr, /permission denied/);
    const create = psqlAs(READONLY_DB_USER, "reader-pass-0123", "CREATE TABLE t(x int)");
    assert.notEqual(create.status, 0);
  });

  it("a wrong password is refused", () => {
    const r = psqlAs(READONLY_DB_USER, "wrong-password", "SELECT 1");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /password authentication failed/);
  });
});
