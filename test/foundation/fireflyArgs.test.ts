// The Firefly component validates its args with the stack-config rules, worded for args.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components/config";
import { validateFireflyArgs } from "../../components/firefly";
import { Host } from "../../components/types";

describe("Firefly component args", () => {
  it("accepts values only known at deployment (Outputs) and the mail relay password inside smtp", () => {
    validateFireflyArgs({
      host: Host.Kubernetes,
      kubernetes: {
        kubeconfig: pulumi.output("apiVersion: v1"),
        namespace: "obs",
        ingressHost: "ingest.example.com",
      },
      alerts: { emails: ["oncall@example.com"] },
      smtp: {
        host: "smtp.example.com:587",
        fromAddress: "grafana@example.com",
        password: pulumi.secret("pw"),
      },
      otlpToken: pulumi.secret("a-token-that-is-only-known-later"),
    });
  });

  it("refuses bad args with the stack-config rules, the fix worded for args", () => {
    assert.throws(
      () => validateFireflyArgs({ host: "lambda" as Host, ec2: { instanceType: "t4g.small" } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const byKey = Object.fromEntries(err.problems.map((p) => [p.key, p.fix]));
        assert.equal(byKey["args.host"], "set args.host to docker");
        assert.equal(byKey["args.ec2.instanceType"], "set args.ec2.instanceType to t3.medium");
        return true;
      },
    );
  });

  it("refuses args whose functions could not reach the collector, the fix worded for args", () => {
    assert.throws(
      () => validateFireflyArgs({ host: Host.Docker, docker: { bindAddress: "10.0.0.5" } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].key, "args.docker.publicUrl");
        assert.match(err.problems[0].message, /private address/);
        assert.equal(
          err.problems[0].fix,
          "set args.privateEndpoint to true (every instrumented function runs in a VPC that routes there), or set args.docker.publicUrl to https://ingest.example.com (an HTTPS tunnel or reverse proxy on 443 in front of the collector, see docs/hosts.md), or set args.host to ec2",
        );
        return true;
      },
    );
    validateFireflyArgs({ host: Host.Docker, docker: { bindAddress: "10.0.0.5" }, privateEndpoint: true });
    assert.throws(() => validateFireflyArgs({}), /args\.docker\.publicUrl: .*loopback/);
    assert.throws(() => validateFireflyArgs({ host: Host.Kubernetes }), /plain-HTTP LoadBalancer/);
  });

  it("checks secrets given as plain strings like stack secrets", () => {
    assert.throws(
      () => validateFireflyArgs({ otlpToken: "short" }),
      /args\.otlpToken: must be at least 32 characters/,
    );
  });
});
