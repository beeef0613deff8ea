// Fault 5 (Grafana part), at configuration level because Grafana cannot run here: a stranger without
// credentials is denied. The rendered service lets nobody in anonymously, lets nobody sign up, turns on
// no login bypass (auth proxy, disabled login form), and the only way in, the admin's basic auth, needs
// the generated secret, which travels only as a secret (never in plain env or files). The stack config
// refuses a guessable admin password.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, validateConfig } from "../../components/config";
import { grafanaService } from "../../components/presentation/grafana";
import { PROMSCALE_WRITER_USER } from "../../components/shipping/promscaleRoles";
import { READONLY_DB_USER } from "../../components/shipping/storage";
import { renderProgram } from "../hosts/programUnderMocks";
import { record } from "./ledger";

/** GF_* settings that would let someone in without the admin secret, with the value that does it. */
const BYPASSES: [string, (v: string) => boolean][] = [
  ["GF_AUTH_ANONYMOUS_ENABLED", (v) => v.toLowerCase() !== "false"],
  ["GF_USERS_ALLOW_SIGN_UP", (v) => v.toLowerCase() !== "false"],
  ["GF_AUTH_PROXY_ENABLED", (v) => v.toLowerCase() === "true"],
  ["GF_AUTH_DISABLE_LOGIN_FORM", (v) => v.toLowerCase() === "true"],
  ["GF_AUTH_ANONYMOUS_ORG_ROLE", () => true],
  ["GF_SECURITY_ADMIN_PASSWORD", () => true], // in plain env it would sit in specs, logs and state
];
/** Settings whose absence means Grafana's own default, which is open. */
const MUST_BE_SET = ["GF_AUTH_ANONYMOUS_ENABLED", "GF_USERS_ALLOW_SIGN_UP"];

const service = (adminPassword: string) =>
  grafanaService({
    datasources: "apiVersion: 1\n",
    alerting: "apiVersion: 1\n",
    dashboards: { overview: "{}" },
    adminPassword,
    secretKey: "k".repeat(40),
  });

describe("fault: Grafana without credentials (configuration level)", () => {
  let checked = 0;

  it("renders no anonymous access, no sign-up and no login bypass", () => {
    for (const tls of [false, true]) {
      const spec = tls
        ? grafanaService({
            datasources: "",
            alerting: "",
            dashboards: {},
            adminPassword: "p".repeat(32),
            secretKey: "k".repeat(40),
            tls: { certificate: "CERT", privateKey: "KEY" },
          })
        : service("p".repeat(32));
      const env = spec.env as Record<string, string>;
      for (const key of MUST_BE_SET)
        assert.ok(key in env, `${key} is not set: Grafana's default would apply`);
      for (const [key, opens] of BYPASSES) {
        if (key in env) assert.ok(!opens(String(env[key])), `${key}=${env[key]} lets strangers in`);
      }
      checked++;
    }
  });

  it("carries the admin password only as a secret, exactly as given", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 16, maxLength: 64 }).map((s) => `pw-${s}`),
        (password) => {
          const spec = service(password);
          checked++;
          assert.equal(
            spec.secretEnv?.GF_SECURITY_ADMIN_PASSWORD,
            password,
            "the admin password is not the secret given",
          );
          const plain = JSON.stringify({ env: spec.env, files: (spec.files ?? []).filter((f) => !f.secret) });
          assert.ok(!plain.includes(password), "the admin password appears outside the secrets");
        },
      ),
      { numRuns: 100 },
    );
  });

  it("refuses guessable admin passwords in the stack config", () => {
    for (const weak of ["admin", "password", "", "short-pass"]) {
      assert.throws(
        () =>
          validateConfig({
            values: { grafanaAdminPassword: weak },
            secretKeys: new Set(["grafanaAdminPassword"]),
          }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.some((p) => p.key === "firefly:grafanaAdminPassword"),
        `grafanaAdminPassword="${weak}" was accepted`,
      );
      checked++;
    }
    record({
      fault: "grafana-stranger",
      injected: `${checked} rendered Grafana configurations and weak admin passwords`,
      notes: "anonymous off, sign-up off, no bypass, admin password only as a secret; weak passwords refused",
    });
  });

  it("a stranger who gets Grafana's SQL login gets a read-only role: never the superuser or Promscale's writer", async function () {
    this.timeout(60_000);
    for (const host of ["docker", "kubernetes"]) {
      const front: Record<string, string> =
        host === "docker"
          ? { docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) }
          : { kubernetes: JSON.stringify({ ingressHost: "ingest.example.com" }) };
      const resources = await renderProgram({ host, storage: "promscale", ...front });
      const grafana = JSON.stringify(resources.filter((r) => /grafana/.test(r.name)).map((r) => r.inputs));
      assert.ok(
        grafana.includes(READONLY_DB_USER),
        `${host}: Grafana's SQL datasource does not use ${READONLY_DB_USER}`,
      );
      assert.ok(!grafana.includes(PROMSCALE_WRITER_USER), `${host}: Grafana holds Promscale's writer role`);
      assert.ok(
        !/user:\s*postgres\b|"user":"postgres"/.test(grafana),
        `${host}: Grafana logs in as the superuser`,
      );
      const promscale = JSON.stringify(
        resources.filter((r) => /promscale/.test(r.name)).map((r) => r.inputs),
      );
      assert.ok(
        promscale.includes(PROMSCALE_WRITER_USER),
        `${host}: Promscale does not log in as ${PROMSCALE_WRITER_USER}`,
      );
      assert.ok(
        !/"PROMSCALE_DB_USER","value":"postgres"|PROMSCALE_DB_USER=postgres\b/.test(promscale),
        `${host}: Promscale logs in as the superuser`,
      );
      checked++;
    }
  });
});
