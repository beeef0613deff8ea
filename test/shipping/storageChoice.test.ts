// The default store is the maintained one; Promscale, still selectable, warns at every update and its
// connector never logs in as the database superuser.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { SETTINGS } from "../../components/config";
import type * as shippingModule from "../../components/shipping";
import {
  PROMSCALE_ROLE_SCRIPT,
  PROMSCALE_WRITER_GRANT,
  PROMSCALE_WRITER_USER,
} from "../../components/shipping/promscaleRoles";
import { storageServices } from "../../components/shipping/storage";
import {
  DEFAULT_STORAGE,
  PROMSCALE_END_OF_LIFE_WARNING,
  storageWarnings,
} from "../../components/storageChoice";
import { Storage } from "../../components/types";
import { installMocks, ofType, settle } from "./mocks";

describe("storage choice", () => {
  it("defaults to Prometheus + Jaeger, in the settings table as in the components", () => {
    assert.equal(DEFAULT_STORAGE, Storage.Prometheus);
    assert.equal(SETTINGS.storage.default, Storage.Prometheus);
    assert.deepEqual(storageWarnings(Storage.Prometheus), []);
  });

  it("names Promscale's end of life, the unpatched PostgreSQL and the way out", () => {
    const [w] = storageWarnings(Storage.Promscale);
    assert.equal(w, PROMSCALE_END_OF_LIFE_WARNING);
    assert.match(w, /end of life/);
    assert.match(w, /February 2023/);
    assert.match(w, /PostgreSQL 14\.6/);
    assert.match(w, /pulumi config set firefly:storage prometheus/);
  });

  describe("ShippingPhase under mocks", () => {
    let shipping: typeof shippingModule;
    const warnings: string[] = [];
    const original = pulumi.log.warn;
    before(async () => {
      installMocks();
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (msg: string) => {
        warnings.push(msg);
      };
      shipping = await import("../../components/shipping");
    });
    after(() => {
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
    });
    beforeEach(() => {
      warnings.length = 0;
    });

    it("deploys Prometheus + Jaeger when storage is not given, without a warning", async () => {
      installMocks();
      new shipping.ShippingPhase("plain", {});
      await settle();
      const containers = ofType("docker:index/container:Container").map((c) => c.name);
      assert.ok(
        containers.some((n) => n.includes("prometheus")),
        JSON.stringify(containers),
      );
      assert.ok(
        containers.some((n) => n.includes("jaeger")),
        JSON.stringify(containers),
      );
      assert.ok(!containers.some((n) => n.includes("promscale")), JSON.stringify(containers));
      assert.deepEqual(warnings, []);
    });

    it("warns at every deployment that runs Promscale", async () => {
      installMocks();
      new shipping.ShippingPhase("old", { storage: Storage.Promscale });
      await settle();
      assert.deepEqual(warnings, [PROMSCALE_END_OF_LIFE_WARNING]);
    });
  });
});

describe("Promscale's database roles", () => {
  const byName = Object.fromEntries(
    storageServices({
      storage: Storage.Promscale,
      databasePassword: "superuser-0123456789",
      readonlyPassword: "reader-0123456789",
      writerPassword: "writer-0123456789",
    }).map((s) => [s.name, s]),
  );
  const promscale = byName.promscale;
  const timescaledb = byName.timescaledb;

  it("the connector logs in as its prom_writer role with the superuser's password nowhere near it", () => {
    assert.equal(promscale.env?.PROMSCALE_DB_USER, PROMSCALE_WRITER_USER);
    assert.notEqual(PROMSCALE_WRITER_USER, timescaledb.env?.POSTGRES_USER);
    assert.equal(promscale.secretEnv?.PROMSCALE_DB_PASSWORD, "writer-0123456789");
    assert.ok(!JSON.stringify(promscale).includes("superuser-0123456789"));
  });

  it("the connector never installs, upgrades or migrates (a prom_writer cannot; the init step did)", () => {
    assert.equal(promscale.env?.PROMSCALE_STARTUP_INSTALL_EXTENSIONS, "false");
    assert.equal(promscale.env?.PROMSCALE_STARTUP_UPGRADE_EXTENSIONS, "false");
    assert.equal(promscale.env?.PROMSCALE_STARTUP_SKIP_MIGRATE, "true");
  });

  it("the init step creates both extensions before the role, and grants prom_writer only", () => {
    const file = timescaledb.files?.find((f) => f.content === PROMSCALE_ROLE_SCRIPT);
    assert.ok(file, "the role script is mounted");
    assert.match(file.path, /^\/docker-entrypoint-initdb\.d\/020-/);
    const sql = PROMSCALE_ROLE_SCRIPT;
    const at = (s: string) => sql.indexOf(s);
    assert.ok(at("CREATE EXTENSION IF NOT EXISTS timescaledb") >= 0);
    assert.ok(
      at("CREATE EXTENSION IF NOT EXISTS promscale") > at("CREATE EXTENSION IF NOT EXISTS timescaledb"),
    );
    assert.ok(at(`CREATE ROLE ${PROMSCALE_WRITER_USER}`) > at("CREATE EXTENSION IF NOT EXISTS promscale"));
    assert.match(sql, /NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION/);
    assert.deepEqual(sql.match(/GRANT \S+ TO/g), [`GRANT ${PROMSCALE_WRITER_GRANT} TO`]);
    assert.equal(PROMSCALE_WRITER_GRANT, "prom_writer");
    assert.ok(!sql.includes("writer-0123456789"), "the password comes from the environment");
    assert.equal(timescaledb.secretEnv?.FIREFLY_PROMSCALE_PASSWORD, "writer-0123456789");
  });
});
