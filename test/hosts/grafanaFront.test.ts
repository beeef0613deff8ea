// Grafana on ec2 behind the trusted certificate: with `ec2.domain` and admin CIDRs, Caddy serves Grafana
// on the domain at port 3000 (the certificate it obtains for the domain), Grafana itself is published on
// no host port, and the security group still admits port 3000 from the admin CIDRs only. Without a
// domain, or through SSM, nothing changes. The whole program under mocks; caddy.test.ts runs the
// rendered Caddyfile in the real Caddy.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { validatePresentationArgs } from "../../components/presentation/args";
import { Host } from "../../components/types";
import { programOutput, type Rendered, renderProgram } from "./programUnderMocks";

const DOMAIN = "firefly.example.com";
const ADMIN = "203.0.113.0/24";

/** The files one project's apply script writes, by path relative to the project directory. */
function projectFiles(resources: Rendered[], project: string): Record<string, string> {
  const script = resources
    .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2")
    .map((r) => String(r.inputs.content))
    .find((s) => s.includes(`docker compose -p ${project} `));
  assert.ok(script, `no apply script for project ${project}`);
  const out: Record<string, string> = {};
  for (const m of script.matchAll(/<<'FIREFLY_B64' \| gunzip > "\$dir\/([^"]+)"\n([\s\S]*?)\nFIREFLY_B64/g))
    out[m[1]] = gunzipSync(Buffer.from(m[2].replace(/\s/g, ""), "base64")).toString("utf8");
  return out;
}

const composeOf = (resources: Rendered[], project: string) =>
  parse(projectFiles(resources, project)["compose.yaml"]).services;
const presentationProject = (resources: Rendered[]) => {
  const s = resources
    .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2")
    .map((r) => String(r.inputs.content))
    .find((c) => /docker compose -p \S*grafana /.test(c));
  return s?.match(/docker compose -p (\S+) /)?.[1] ?? assert.fail("no Grafana apply script");
};
const ingress = (resources: Rendered[]) =>
  resources
    .filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .map((r) => `${r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId}:${r.inputs.fromPort}`)
    .sort();
const selfSigned = (resources: Rendered[]) =>
  resources.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert").length;

describe("Grafana's certificate on ec2 (the program under mocks)", function () {
  this.timeout(120_000);

  describe("with a domain and admin CIDRs", () => {
    const config = { host: "ec2", ec2: JSON.stringify({ domain: DOMAIN, adminCidrs: [ADMIN] }) };
    let resources: Rendered[];
    before(async () => {
      resources = await renderProgram(config);
    });

    it("Caddy serves Grafana on the domain at port 3000 with the domain's certificate", () => {
      const caddyfile = projectFiles(resources, "shipping")["files/caddy/etc__caddy__Caddyfile"];
      assert.ok(caddyfile, "no Caddyfile");
      assert.match(
        caddyfile,
        new RegExp(`^${DOMAIN.replaceAll(".", "\\.")}:3000 \\{\\n  reverse_proxy grafana:3000\\n\\}$`, "m"),
      );
      // No `tls` directive anywhere: Caddy's automatic HTTPS (ACME) issues the certificate for the name.
      assert.doesNotMatch(caddyfile, /\btls\b/);
      assert.deepEqual(composeOf(resources, "shipping").caddy.ports, [
        "0.0.0.0:80:80",
        "0.0.0.0:443:443",
        "0.0.0.0:3000:3000",
      ]);
    });

    it("Grafana is published on no host port, so nothing reaches it around Caddy, and has no certificate of its own", () => {
      const grafana = composeOf(resources, presentationProject(resources)).grafana;
      assert.ok(grafana, "no grafana service");
      assert.equal(grafana.ports, undefined);
      assert.deepEqual(grafana.networks, ["firefly"]);
      assert.equal(grafana.environment.GF_SERVER_PROTOCOL, "http");
      // The browser sees HTTPS: cookies stay Secure, links in emails use the domain.
      assert.equal(grafana.environment.GF_SECURITY_COOKIE_SECURE, "true");
      assert.equal(grafana.environment.GF_SERVER_ROOT_URL, `https://${DOMAIN}:3000`);
      assert.equal(selfSigned(resources), 0);
    });

    it("port 3000 stays open to the admin CIDRs only; 80 and 443 to all for ingest and ACME", () => {
      assert.deepEqual(ingress(resources), [`0.0.0.0/0:443`, `0.0.0.0/0:80`, `${ADMIN}:3000`].sort());
    });

    it("grafanaUrl is the domain at port 3000", async () => {
      assert.equal(await programOutput(config, "grafanaUrl"), `https://${DOMAIN}:3000`);
    });
  });

  it("with a domain but no admin CIDRs: Grafana stays on SSM port forwarding, Caddy serves no port 3000", async () => {
    const config = { host: "ec2", ec2: JSON.stringify({ domain: DOMAIN }) };
    const resources = await renderProgram(config);
    assert.doesNotMatch(projectFiles(resources, "shipping")["files/caddy/etc__caddy__Caddyfile"], /:3000/);
    assert.deepEqual(composeOf(resources, "shipping").caddy.ports, ["0.0.0.0:80:80", "0.0.0.0:443:443"]);
    assert.deepEqual(ingress(resources), [`0.0.0.0/0:443`, `0.0.0.0/0:80`]);
    assert.equal(await programOutput(config, "grafanaUrl"), "http://localhost:3000");
  });

  it("without a domain: Grafana serves its own self-signed certificate on the instance's address, as before", async () => {
    const config = { host: "ec2", ec2: JSON.stringify({ adminCidrs: [ADMIN] }) };
    const resources = await renderProgram(config);
    const grafana = composeOf(resources, presentationProject(resources)).grafana;
    assert.deepEqual(grafana.ports, ["0.0.0.0:3000:3000"]);
    assert.equal(grafana.environment.GF_SERVER_PROTOCOL, "https");
    assert.equal(selfSigned(resources), 1);
    assert.ok(ingress(resources).includes(`${ADMIN}:3000`));
    assert.ok(!ingress(resources).some((r) => r.startsWith("0.0.0.0/0")));
    assert.equal(await programOutput(config, "grafanaUrl"), "https://203.0.113.9:3000");
  });

  it("refuses a certificate of Grafana's own where Caddy serves it, naming the setting", () => {
    const args = {
      host: Host.Ec2,
      ec2: { domain: DOMAIN, adminCidrs: [ADMIN] },
      instanceId: "i-0123456789abcdef0",
      prometheusUrl: "http://prometheus:9090",
      jaegerUrl: "http://jaeger:16686",
      certificate: { certificate: "CERT", privateKey: "KEY" },
    };
    assert.ok(validatePresentationArgs(args).some((p) => p.startsWith("certificate: ")));
    // Without the domain Grafana serves the given certificate itself, as before.
    assert.deepEqual(validatePresentationArgs({ ...args, ec2: { adminCidrs: [ADMIN] } }), []);
  });
});
