import * as assert from "node:assert/strict";
import { ConfigError, type ConfigProblem, validateConfig } from "../../components/config";
import { Host, Storage } from "../../components/types";

const json = (v: unknown) => JSON.stringify(v);
const SECRET = new Set(["otlpToken", "firehoseAccessKey", "grafanaAdminPassword", "databasePassword"]);

function problems(values: Record<string, string>, secretKeys: Set<string> = SECRET): ConfigProblem[] {
  try {
    validateConfig({ values, secretKeys });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail(`expected ${json(values)} to be refused`);
}

/** The smallest docker setting Lambda can reach: the tests about other settings start from it. */
const REACHABLE = { docker: json({ publicUrl: "https://ingest.example.com" }) };

/** The one problem about where functions and Firehose send (other rules may add their own). */
function reachability(values: Record<string, string>): ConfigProblem {
  const found = problems(values).filter((p) => /publicUrl|ingressHost|privateEndpoint/.test(p.key));
  assert.equal(found.length, 1, `expected one reachability problem, got ${json(found)}`);
  return found[0];
}

function only(values: Record<string, string>, secretKeys?: Set<string>): ConfigProblem {
  const found = problems(values, secretKeys);
  assert.equal(found.length, 1, `expected one problem, got ${json(found)}`);
  return found[0];
}

describe("stack config validation", () => {
  it("defaults to docker + prometheus with no functions, no metrics and the dashboard metric set", () => {
    const config = validateConfig({ values: REACHABLE });
    assert.equal(config.host, Host.Docker);
    assert.equal(config.storage, Storage.Prometheus);
    assert.deepEqual(config.functions, []);
    assert.equal(config.metrics, false);
    assert.deepEqual(config.metricNames, [
      "Invocations",
      "Errors",
      "Throttles",
      "Duration",
      "ConcurrentExecutions",
    ]);
    assert.equal(config.otlpToken, undefined, "secrets are never defaulted to a fixed value");
  });

  it("accepts a full, valid configuration", () => {
    const config = validateConfig({
      values: {
        host: "ec2",
        storage: "prometheus",
        functions: json(["orders", "arn:aws:lambda:eu-west-1:123456789012:function:billing:live"]),
        metrics: "true",
        metricNames: json(["Invocations", "Duration"]),
        ec2: json({ instanceType: "m6i.large", adminCidrs: ["203.0.113.0/24"], domain: "o11y.example.com" }),
        sampling: json({ percent: 25, slowMs: 2000 }),
        otlpToken: "t".repeat(40),
      },
      secretKeys: SECRET,
    });
    assert.equal(config.host, Host.Ec2);
    assert.equal(config.ec2.instanceType, "m6i.large");
    assert.equal(config.sampling.percent, 25);
    assert.equal(config.functions.length, 2);
  });

  it("refuses an unknown host, shows the value, the allowed ones and the fix", () => {
    const p = only({ host: "lambda" });
    assert.equal(p.key, "firefly:host");
    assert.equal(p.value, '"lambda"');
    assert.match(p.message, /Allowed: docker, ec2, kubernetes/);
    assert.equal(p.fix, "pulumi config set firefly:host docker");
  });

  it("suggests the closest allowed value for a typo", () => {
    assert.equal(only({ host: "kubernets" }).fix, "pulumi config set firefly:host kubernetes");
    assert.equal(only({ storage: "prometeus" }).fix, "pulumi config set firefly:storage prometheus");
  });

  it("refuses an unknown storage", () => {
    const p = only({ storage: "timescale" });
    assert.match(p.message, /Allowed: promscale, prometheus/);
    assert.equal(p.fix, "pulumi config set firefly:storage prometheus");
  });

  it("refuses unknown settings and guesses the intended one", () => {
    const p = only({ hots: "ec2" });
    assert.equal(p.key, "firefly:hots");
    assert.match(p.message, /Did you mean firefly:host\?/);
    assert.equal(p.fix, "pulumi config rm firefly:hots && pulumi config set firefly:host ec2");
  });

  it("refuses unknown fields inside a host group", () => {
    const p = only({ ec2: json({ instanceTyp: "t3.large" }) });
    assert.equal(p.key, "firefly:ec2.instanceTyp");
    assert.match(p.message, /Did you mean instanceType\?/);
    assert.match(p.fix, /pulumi config set --path firefly:ec2\.instanceType t3\.large$/);
  });

  it("refuses functions given as a bare string and shows the list form", () => {
    const p = only({ functions: "orders" });
    assert.equal(p.message, "must be a list");
    assert.equal(
      p.fix,
      "pulumi config rm firefly:functions && pulumi config set --path 'firefly:functions[0]' orders",
    );
  });

  it("refuses malformed function names and ARNs, naming the index", () => {
    const found = problems({ functions: json(["ok", "bad name!", "arn:aws:s3:::bucket"]) });
    assert.deepEqual(
      found.map((p) => p.key),
      ["firefly:functions[1]", "firefly:functions[2]"],
    );
    assert.match(found[0].fix, /^pulumi config set --path 'firefly:functions\[1\]' /);
  });

  it("accepts names, full ARNs in any partition and partial ARNs", () => {
    const config = validateConfig({
      values: {
        ...REACHABLE,
        functions: json([
          "a_b-c",
          "arn:aws-cn:lambda:cn-north-1:123456789012:function:x",
          "arn:aws:lambda:us-east-1:123456789012:function:y:$LATEST",
          "123456789012:function:z",
        ]),
      },
    });
    assert.equal(config.functions.length, 4);
  });

  it("refuses the same function twice, by name or ARN", () => {
    const p = only({
      ...REACHABLE,
      functions: json(["orders", "arn:aws:lambda:us-east-1:123456789012:function:orders"]),
    });
    assert.equal(p.key, "firefly:functions[1]");
    assert.equal(p.fix, "pulumi config rm --path 'firefly:functions[1]'");
  });

  it("refuses a non-boolean metrics value", () => {
    const p = only({ metrics: "yes" });
    assert.equal(p.message, "must be a boolean");
    assert.equal(p.fix, "pulumi config set firefly:metrics true");
  });

  it("refuses metrics on a host with no public HTTPS endpoint, saying what to configure", () => {
    const docker = problems({ metrics: "true" }).find((p) => p.key === "firefly:metrics")!;
    assert.ok(docker);
    assert.match(docker.message, /public HTTPS endpoint on port 443/);
    assert.match(docker.fix, /firefly:docker\.publicUrl/);
    const k8s = problems({ metrics: "true", host: "kubernetes" }).find((p) => p.key === "firefly:metrics")!;
    assert.match(k8s.fix, /firefly:kubernetes\.ingressHost/);
  });

  it("refuses logs on a host with no public HTTPS endpoint, and accepts them on ec2", () => {
    // (The bare docker host is also refused for the functions' loopback endpoint: a problem of its own.)
    const docker = problems({ logs: "true" }).find((p) => p.key === "firefly:logs");
    assert.ok(docker, "logs refused on docker without a public URL");
    assert.match(docker.message, /public HTTPS endpoint on port 443/);
    assert.match(docker.fix, /pulumi config set firefly:logs false/);
    const config = validateConfig({ values: { logs: "true", logsForwardAll: "true", host: "ec2" } });
    assert.equal(config.logs, true);
    assert.equal(config.logsForwardAll, true);
  });

  it("accepts metrics where the host has a public HTTPS endpoint", () => {
    for (const values of [
      { metrics: "true", host: "ec2" },
      { metrics: "true", docker: json({ publicUrl: "https://ingest.example.com" }) },
      { metrics: "true", host: "kubernetes", kubernetes: json({ ingressHost: "ingest.example.com" }) },
    ]) {
      assert.equal(validateConfig({ values }).metrics, true);
    }
  });

  it("refuses a public URL that Firehose cannot deliver to", () => {
    for (const url of ["http://ingest.example.com", "https://ingest.example.com:8443"]) {
      const p = only({ docker: json({ publicUrl: url }) });
      assert.equal(p.key, "firefly:docker.publicUrl");
      assert.match(p.message, /port 443/);
      assert.equal(p.fix, "pulumi config set --path firefly:docker.publicUrl https://ingest.example.com");
    }
  });

  it("refuses an unknown CloudWatch metric name", () => {
    const p = only({ metricNames: json(["Invocatons"]) });
    assert.equal(p.key, "firefly:metricNames[0]");
    assert.equal(p.fix, "pulumi config set --path 'firefly:metricNames[0]' Invocations");
  });

  it("refuses an empty metric list", () => {
    assert.equal(only({ metricNames: "[]" }).key, "firefly:metricNames");
  });

  it("refuses Graviton instance types (the storage images are amd64 only)", () => {
    const p = only({ ec2: json({ instanceType: "t4g.medium" }) });
    assert.equal(p.key, "firefly:ec2.instanceType");
    assert.match(p.message, /x86_64/);
    assert.equal(p.fix, "pulumi config set --path firefly:ec2.instanceType t3.medium");
  });

  it("refuses malformed CIDRs, subnet ids and domains", () => {
    const found = problems({
      ec2: json({ adminCidrs: ["10.0.0.1"], subnetId: "sn-1", domain: "Not A Domain" }),
    });
    assert.deepEqual(found.map((p) => p.key).sort(), [
      "firefly:ec2.adminCidrs[0]",
      "firefly:ec2.domain",
      "firefly:ec2.subnetId",
    ]);
    const cidr = found.find((p) => p.key === "firefly:ec2.adminCidrs[0]")!;
    assert.equal(cidr.fix, "pulumi config set --path 'firefly:ec2.adminCidrs[0]' 203.0.113.0/24");
  });

  it("refuses out-of-range sampling and flush budgets", () => {
    assert.equal(only({ sampling: json({ percent: 150 }) }).key, "firefly:sampling.percent");
    assert.equal(only({ flushTimeoutMs: "0" }).key, "firefly:flushTimeoutMs");
    const p = only({ flushTimeoutMs: "fast" });
    assert.equal(p.message, "must be an integer");
    assert.equal(p.fix, "pulumi config set firefly:flushTimeoutMs 500");
  });

  it("refuses a structured setting that is not JSON", () => {
    const p = only({ ec2: "t3.large" });
    assert.equal(p.key, "firefly:ec2");
    assert.equal(
      p.fix,
      "pulumi config rm firefly:ec2 && pulumi config set --path firefly:ec2.instanceType t3.medium",
    );
  });

  it("refuses an invalid kubernetes namespace and an ingress class without a host", () => {
    assert.equal(only({ kubernetes: json({ namespace: "Firefly_NS" }) }).key, "firefly:kubernetes.namespace");
    const p = only({
      host: "kubernetes",
      kubernetes: json({ ingressClass: "nginx", publicUrl: "https://ingest.example.com" }),
    });
    assert.equal(p.key, "firefly:kubernetes.ingressClass");
  });

  it("refuses secrets stored in plain text, without echoing them", () => {
    const p = only({ grafanaAdminPassword: "correct-horse-battery" }, new Set());
    assert.equal(p.key, "firefly:grafanaAdminPassword");
    assert.equal(p.value, undefined);
    assert.match(p.fix, /^pulumi config set --secret firefly:grafanaAdminPassword/);
    assert.doesNotMatch(JSON.stringify(p), /correct-horse/);
  });

  it("refuses short secrets and offers generation instead", () => {
    const p = only({ otlpToken: "short" });
    assert.equal(p.key, "firefly:otlpToken");
    assert.equal(p.value, undefined);
    assert.match(p.message, /at least 32 characters/);
    assert.match(p.fix, /pulumi config rm firefly:otlpToken to have one generated/);
  });

  it("refuses a malformed alert email", () => {
    const p = only({ alerts: json({ emails: ["not-an-email"] }) });
    assert.equal(p.key, "firefly:alerts.emails[0]");
    assert.equal(p.fix, "pulumi config set --path 'firefly:alerts.emails[0]' oncall@example.com");
  });

  it("reports every problem at once, each on its own line with its fix", () => {
    try {
      validateConfig({ values: { host: "x", storage: "y", metrics: "maybe" } });
      assert.fail("expected an error");
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /^Invalid Firefly stack configuration \(3 problems\):/);
      assert.equal((err.message.match(/ {4}fix: pulumi config /g) ?? []).length, 3);
    }
  });
});

describe("stack config cross-checks", () => {
  it("refuses settings for a host other than the chosen one", () => {
    const p = only({ host: "ec2", docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) });
    assert.equal(p.key, "firefly:docker");
    assert.match(p.message, /firefly:host is ec2/);
    assert.equal(p.fix, "pulumi config rm firefly:docker  (or: pulumi config set firefly:host docker)");
  });

  it("refuses alert emails without a mail relay", () => {
    const p = only({ ...REACHABLE, alerts: JSON.stringify({ emails: ["oncall@example.com"] }) });
    assert.equal(p.key, "firefly:alerts.emails");
    assert.match(p.fix, /firefly:smtp\.host/);
    const ok = validateConfig({
      values: {
        ...REACHABLE,
        alerts: JSON.stringify({ emails: ["oncall@example.com"] }),
        smtp: JSON.stringify({ host: "smtp.example.com:587", fromAddress: "grafana@example.com" }),
      },
    });
    assert.equal(ok.smtp?.host, "smtp.example.com:587");
  });
});

describe("stack config: keys that collide with object internals", () => {
  it("refuses constructor, toString and __proto__ as unknown settings", () => {
    for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const p = only({ [key]: "x" });
      assert.equal(p.key, `firefly:${key}`);
      assert.match(p.message, /unknown setting/);
    }
  });
});

describe("stack config: functions and Firehose must be able to reach the collector", () => {
  const docker = (d: Record<string, string>) => ({ docker: json(d) });

  it("refuses the bare defaults: functions would export to their own loopback inside Lambda", () => {
    const p = only({});
    assert.equal(p.key, "firefly:docker.publicUrl");
    assert.match(p.message, /http:\/\/127\.0\.0\.1:4318: inside Lambda that is the function's own sandbox/);
    assert.equal(
      p.fix,
      "pulumi config set --path firefly:docker.publicUrl https://ingest.example.com  (an HTTPS tunnel or reverse proxy on 443 in front of the collector, see docs/hosts.md), or pulumi config set firefly:host ec2",
    );
  });

  it("refuses loopback, link-local and bind-all addresses, in bindAddress or publicUrl", () => {
    for (const [values, why] of [
      [docker({ bindAddress: "0.0.0.0" }), /bind-all address/],
      [docker({ bindAddress: "::" }), /bind-all address/],
      [docker({ bindAddress: "169.254.10.1" }), /link-local/],
      [docker({ bindAddress: "::1" }), /loopback/],
      [docker({ publicUrl: "https://localhost" }), /loopback/],
      [docker({ publicUrl: "https://127.1.2.3" }), /loopback/],
      [{ host: "kubernetes", kubernetes: json({ publicUrl: "https://169.254.169.254" }) }, /link-local/],
    ] as const) {
      // A public bind address (0.0.0.0, ::) is also refused on its own by the config hygiene rule.
      const p = reachability(values as Record<string, string>);
      assert.match(p.message, why, json(values));
      assert.match(p.fix, /^pulumi config set --path firefly:(docker\.publicUrl|kubernetes\.ingressHost) /);
    }
  });

  it("refuses a private address unless firefly:privateEndpoint says the functions' VPC routes there", () => {
    const p = only(docker({ bindAddress: "10.0.0.5" }));
    assert.match(p.message, /http:\/\/10\.0\.0\.5:4318, a private address only functions in a VPC/);
    assert.match(p.fix, /^pulumi config set firefly:privateEndpoint true /);
    for (const address of ["10.0.0.5", "172.20.1.1", "192.168.1.10", "100.64.0.1", "fd00::5"]) {
      const config = validateConfig({
        values: { ...docker({ bindAddress: address }), privateEndpoint: "true" },
      });
      assert.equal(config.privateEndpoint, true);
    }
  });

  it("refuses the token over plain HTTP across the internet, on docker and on a Kubernetes LoadBalancer", () => {
    const found = problems(docker({ bindAddress: "203.0.113.5" }));
    const p = reachability(docker({ bindAddress: "203.0.113.5" }));
    assert.match(
      p.message,
      /bearer token to http:\/\/203\.0\.113\.5:4318 over plain HTTP across the internet/,
    );
    assert.ok(
      found.some((q) => q.key === "firefly:docker.bindAddress" && /public address/.test(q.message)),
      "the public bind address is refused in its own right too",
    );
    const k8s = only({ host: "kubernetes" });
    assert.equal(k8s.key, "firefly:kubernetes.ingressHost");
    assert.match(k8s.message, /plain-HTTP LoadBalancer/);
    assert.equal(
      k8s.fix,
      "pulumi config set --path firefly:kubernetes.ingressHost ingest.example.com  (an Ingress with TLS), or pulumi config set --path firefly:kubernetes.publicUrl https://ingest.example.com",
    );
    // privateEndpoint does not make a public address private.
    reachability({ ...docker({ bindAddress: "203.0.113.5" }), privateEndpoint: "true" });
  });

  it("refuses a private public URL for Firehose even with privateEndpoint (Firehose is outside every VPC)", () => {
    const p = only({
      ...docker({ publicUrl: "https://10.1.2.3" }),
      metrics: "true",
      privateEndpoint: "true",
    });
    assert.equal(p.key, "firefly:docker.publicUrl");
    assert.match(p.message, /Firehose reaches only public HTTPS endpoints/);
    assert.match(p.fix, /or pulumi config set firefly:metrics false$/);
  });

  it("accepts every host once it has a public HTTPS URL; ec2 always has one", () => {
    for (const values of [
      docker({ publicUrl: "https://ingest.example.com" }),
      { host: "ec2" },
      { host: "ec2", ec2: json({ domain: "firefly.example.com" }) },
      { host: "kubernetes", kubernetes: json({ ingressHost: "ingest.example.com" }) },
      { host: "kubernetes", kubernetes: json({ publicUrl: "https://ingest.example.com" }) },
    ]) {
      validateConfig({ values });
    }
  });
});
