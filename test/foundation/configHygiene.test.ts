// Config hygiene: settings that would open a door are refused before anything exists, and no error
// repeats a secret or anything that looks like one, typo hints included.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { ConfigError, validateConfig } from "../../components/config";
import { isPublicBindAddress, looksSecret } from "../../components/configHygiene";
import { validateFireflyArgs } from "../../components/firefly";
import { Host } from "../../components/types";

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.example.com"}}]
users: [{name: u, user: {token: kube-token-Zq8rT1vX0pL4mN7bW2yC}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`;
const TOKEN = "Zq8rT1vX0pL4mN7bW2yC5dF6gH9jK3sA";

function refusal(values: Record<string, string>, secretKeys: string[] = []): ConfigError | undefined {
  try {
    validateConfig({ values, secretKeys: new Set(secretKeys) });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
}
const refused = (values: Record<string, string>, secretKeys: string[] = []) => {
  const e = refusal(values, secretKeys);
  assert.ok(e, `expected ${JSON.stringify(values)} to be refused`);
  return e;
};
const shows = (e: ConfigError, s: string) =>
  e.message.includes(s) || JSON.stringify(e.problems).includes(JSON.stringify(s).slice(1, -1));

describe("config hygiene: kubeconfig only as a secret", () => {
  const k8s = (kubernetes: object) => ({
    host: "kubernetes",
    kubernetes: JSON.stringify({ ingressHost: "ingest.example.com", ...kubernetes }),
  });

  it("refuses a kubeconfig stored in plain text, names --secret in the fix and never shows it", () => {
    const e = refused(k8s({ kubeconfig: KUBECONFIG }));
    const p = e.problems.find((x) => x.key === "firefly:kubernetes.kubeconfig");
    assert.ok(p, e.message);
    assert.match(p.fix, /pulumi config set --path --secret firefly:kubernetes\.kubeconfig/);
    assert.ok(!shows(e, "kube-token-Zq8rT1vX0pL4mN7bW2yC"), e.message);
  });

  it("accepts it stored as a secret", () => {
    const c = validateConfig({
      values: k8s({ kubeconfig: KUBECONFIG }),
      secretKeys: new Set(["kubernetes"]),
    });
    assert.equal(c.kubernetes.kubeconfig, KUBECONFIG);
  });

  it("a misspelt kubeconfig key is refused without printing the kubeconfig, secret or not", () => {
    for (const secret of [[], ["kubernetes"]]) {
      const e = refused(k8s({ kubeconfg: KUBECONFIG }), secret);
      assert.match(e.message, /Did you mean kubeconfig\?/);
      assert.ok(!shows(e, "kube-token"), e.message);
      assert.ok(!shows(e, "k8s.example.com"), e.message);
    }
  });

  it("component args: a plain kubeconfig string is refused, pulumi.secret(...) accepted", () => {
    assert.throws(
      () => validateFireflyArgs({ host: Host.Kubernetes, kubernetes: { kubeconfig: KUBECONFIG } }),
      (e: ConfigError) => /args\.kubernetes\.kubeconfig/.test(e.message) && !e.message.includes("kube-token"),
    );
    validateFireflyArgs({
      host: Host.Kubernetes,
      kubernetes: { kubeconfig: pulumi.secret(KUBECONFIG), ingressHost: "ingest.example.com" },
    });
  });
});

describe("config hygiene: no secret in an error", () => {
  it("a misspelt secret setting does not echo its value in the fix", () => {
    for (const [typo, secret] of [
      ["otlpTokn", []],
      ["otlptoken", ["otlptoken"]],
      ["grafanaAdminPasword", []],
      ["databasePasswrd", []],
    ] as [string, string[]][]) {
      const e = refused({ [typo]: "correct horse battery staple" }, secret);
      assert.match(e.message, /Did you mean firefly:/);
      assert.ok(!shows(e, "correct horse battery staple"), e.message);
    }
  });

  it("a secret-looking value under an unknown key or field is not echoed", () => {
    for (const value of [
      TOKEN,
      "AKIAABCDEFGHIJKLMNOP",
      KUBECONFIG,
      "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n",
    ]) {
      const top = refused({ sessionThing: value });
      assert.ok(!shows(top, value), top.message);
      const nested = refused({ docker: JSON.stringify({ engin: value }) });
      assert.ok(!shows(nested, value), nested.message);
    }
  });

  it("plain values stay visible, so errors remain useful", () => {
    const e = refused({ host: "kubernets" });
    assert.equal(e.problems[0].value, '"kubernets"');
    const f = refused({ docker: JSON.stringify({ bindAdress: "127.0.0.1" }) });
    assert.match(f.problems[0].fix, /firefly:docker\.bindAddress 127\.0\.0\.1/);
  });

  it("fuzzed: a secret-looking value anywhere in the config never reaches the error", () => {
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !k.includes(":"));
    const secretish = fc
      .tuple(fc.stringMatching(/^[a-z]{8}$/), fc.stringMatching(/^[A-Z]{8}$/), fc.stringMatching(/^\d{8}$/))
      .map(([a, b, c]) => `${a}${b}${c}`);
    fc.assert(
      fc.property(
        fc.constantFrom("docker", "ec2", "kubernetes", "sampling", "alerts", "smtp", "host"),
        key,
        secretish,
        fc.boolean(),
        (setting, field, value, nested) => {
          assert.ok(looksSecret(value));
          const raw = nested ? JSON.stringify({ [field]: value }) : value;
          const e = refusal({ [setting]: raw, [`${field}x`]: value });
          if (!e) return;
          assert.ok(!shows(e, value), e.message);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("config hygiene: docker engine and bind address", () => {
  // A public URL, so the only problems left are the ones under test (not "functions reach nothing").
  const docker = (d: object) => ({
    docker: JSON.stringify({ publicUrl: "https://ingest.example.com", ...d }),
  });

  it("refuses a tcp:// engine without TLS client certificates", () => {
    const e = refused(docker({ engine: "tcp://10.0.0.5:2375" }));
    assert.equal(e.problems[0].key, "firefly:docker.engine");
    assert.match(e.problems[0].message, /without TLS/);
    assert.match(e.problems[0].fix, /firefly:docker\.certPath/);
  });

  it("refuses TLS certificates pointed at Docker's plain-text port", () => {
    const e = refused(docker({ engine: "tcp://10.0.0.5:2375", certPath: "/home/me/.docker/remote" }));
    assert.match(e.problems[0].message, /2375/);
    assert.match(e.problems[0].fix, /tcp:\/\/10\.0\.0\.5:2376/);
  });

  it("accepts tcp:// with certificates, ssh:// and unix:// as they are", () => {
    validateConfig({
      values: docker({ engine: "tcp://10.0.0.5:2376", certPath: "/home/me/.docker/remote" }),
    });
    validateConfig({ values: docker({ engine: "ssh://me@docker-host" }) });
    validateConfig({ values: docker({ engine: "unix:///var/run/docker.sock" }) });
    refused(docker({ engine: "ssh://me@docker-host", certPath: "/x" }));
  });

  it("refuses a public bind address and keeps loopback and private ones", () => {
    for (const a of ["0.0.0.0", "::", "203.0.113.7", "8.8.8.8", "2001:db8::1"]) {
      assert.ok(isPublicBindAddress(a), a);
      const e = refused(docker({ bindAddress: a }));
      assert.equal(e.problems[0].key, "firefly:docker.bindAddress");
      assert.match(e.problems[0].fix, /bindAddress 127\.0\.0\.1/);
    }
    for (const a of ["127.0.0.1", "127.0.0.53", "10.1.2.3", "172.16.0.9", "192.168.1.20", "::1", "fd00::5"]) {
      assert.ok(!isPublicBindAddress(a), a);
      validateConfig({ values: docker({ bindAddress: a }) });
    }
  });
});

describe("config hygiene: Grafana open to the internet only when acknowledged", () => {
  const ec2 = (e: object) => ({ host: "ec2", ec2: JSON.stringify(e) });

  it("refuses 0.0.0.0/0 without the acknowledgement, naming both ways out", () => {
    const e = refused(ec2({ adminCidrs: ["203.0.113.0/24", "0.0.0.0/0"] }));
    assert.equal(e.problems[0].key, "firefly:ec2.adminCidrs[1]");
    assert.match(e.problems[0].fix, /adminCidrsOpenToInternet true/);
  });

  it("accepts it with firefly:ec2.adminCidrsOpenToInternet, and a narrow range without", () => {
    validateConfig({ values: ec2({ adminCidrs: ["0.0.0.0/0"], adminCidrsOpenToInternet: true }) });
    validateConfig({ values: ec2({ adminCidrs: ["203.0.113.0/24"] }) });
    refused(ec2({ adminCidrs: ["0.0.0.0/0"], adminCidrsOpenToInternet: false }));
  });
});

describe("config hygiene: the TLS client certificates reach the Docker provider (Pulumi mocks)", () => {
  it("a tcp:// engine is driven with docker.certPath", async () => {
    const { installMocks, ofType, settle } = await import("../shipping/mocks");
    installMocks();
    const { ShippingPhase } = await import("../../components/shipping");
    new ShippingPhase("tls", {
      docker: { engine: "tcp://10.0.0.5:2376", certPath: "/home/me/.docker/remote" },
    });
    await settle();
    const providers = ofType("pulumi:providers:docker").map((p) => p.inputs);
    assert.equal(providers.length, 1, JSON.stringify(providers));
    assert.equal(providers[0].host, "tcp://10.0.0.5:2376");
    assert.equal(providers[0].certPath, "/home/me/.docker/remote");
  });
});
