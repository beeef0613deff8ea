// Hosts as adapters: one registry maps each host to its adapter, the phases ask it instead of
// switching on the host, the config validator stays free of cloud SDKs, and the package's public
// surface is the components and their arg types.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { hostProfile, hostProfiles } from "../../components/hosts/profiles";
import { hostAdapter } from "../../components/hosts/registry";
import { Host } from "../../components/types";

const ROOT = path.resolve(__dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Modules a fresh Node process has loaded after requiring `file` (through tsx, as the program runs). */
function loadedModules(file: string): string[] {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      `require(${JSON.stringify(file)}); console.log(JSON.stringify(Object.keys(require.cache)))`,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("hosts as adapters", () => {
  it("every host has one profile and one adapter, and they agree", () => {
    assert.deepEqual(
      hostProfiles().map((p) => p.host),
      Object.values(Host),
    );
    for (const host of Object.values(Host)) {
      const adapter = hostAdapter(host);
      assert.equal(adapter.host, host);
      assert.equal(adapter.settingsKey, hostProfile(host).settingsKey);
      assert.deepEqual(adapter.placementFact, hostProfile(host).placementFact);
      for (const method of ["place", "placeBeside", "operatorUrl", "exposes"] as const) {
        assert.equal(typeof adapter[method], "function", `${host}.${method}`);
      }
    }
  });

  it("an unknown host is refused, naming the allowed ones", () => {
    assert.throws(() => hostAdapter("lambda" as Host), /"lambda" is not one of docker, ec2, kubernetes/);
  });

  it("reports what each host exposes from its settings alone", () => {
    const exposes = (host: Host, settings: object) => hostProfile(host).exposes(settings);
    assert.equal(exposes(Host.Docker, {}).operatorPortsOffHost, false);
    assert.equal(exposes(Host.Docker, { docker: { bindAddress: "10.0.0.5" } }).operatorPortsOffHost, true);
    assert.equal(exposes(Host.Ec2, {}).operatorPortsOffHost, false);
    assert.equal(exposes(Host.Ec2, { ec2: { adminCidrs: ["203.0.113.0/24"] } }).operatorPortsOffHost, true);
    assert.equal(
      exposes(Host.Kubernetes, { kubernetes: { ingressHost: "i.example.com" } }).operatorPortsOffHost,
      false,
    );
  });

  it("no phase switches on the host: only components/hosts knows the hosts apart", () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(ROOT, "components"))) {
      const rel = path.relative(ROOT, file);
      // The hosts themselves, the shared enum, and the settings table (which names each host's settings).
      if (rel.startsWith(`components${path.sep}hosts`) || /components.(types|config)\.ts$/.test(rel))
        continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (/case Host\.|[!=]==? ?Host\.|Host\.\w+ ?[!=]==|switch \(.*host/.test(line)) {
            offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    assert.deepEqual(offenders, []);
  });

  it("the config validator loads no cloud SDK and no Pulumi module", () => {
    const loaded = loadedModules("./components/config.ts");
    assert.ok(
      loaded.some((m) => m.includes(`components${path.sep}config.ts`)),
      "config.ts was loaded",
    );
    assert.deepEqual(
      loaded.filter((m) => /@pulumi|@aws-sdk/.test(m)),
      [],
    );
  });

  it("the package's public surface is the four components, their arg types and the documented emit helpers", async () => {
    const api = await import("../../components");
    assert.deepEqual(Object.keys(api).sort(), [
      "EmitPhase",
      "Firefly",
      "Host",
      "InstrumentationMode",
      "PROVIDER_COMPONENTS",
      "PROVIDER_NAME",
      "PresentationPhase",
      "ShippingPhase",
      "Storage",
      "fireflyTransform",
      "fireflyTransformation",
      "instrumentFunctionArgs",
      "validateMetricsDelivery",
    ]);
  });
});
