// The Firefly program (index.ts) end to end under Pulumi mocks: stack config in, resource graph out.
// Mocks stand in for the engine and the cloud providers only; config validation, the components and
// their renderers are the real code.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { hasSecret, plain } from "../emit/rpc";
import { loadProgram } from "../hosts/programUnderMocks";
import { API_ENDPOINT, ofType, recorded, scanSecrets, settle } from "../shipping/mocks";

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const isSecretOutput = (o: pulumi.Output<unknown>) =>
  (o as unknown as { isSecret: Promise<boolean> }).isSecret;

/** Run index.ts with this stack config, as `pulumi up` would. */
const runProgram = (config: Record<string, string>, secretKeys: string[] = []) =>
  loadProgram(config, secretKeys);

describe("the Firefly program (index.ts) under mocks", function () {
  this.timeout(120_000);

  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it("with the README's docker config (a public HTTPS URL) builds all three phases on the local docker engine", async () => {
    const stack = runProgram({ docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) });
    assert.equal(await value(stack.otlpEndpoint), "https://ingest.example.com");
    assert.match(String(await value(stack.grafanaUrl)), /^https?:\/\//);
    await settle();
    assert.ok(
      ofType("docker:index/container:Container").length >= 3,
      "collector, storage and Grafana containers",
    );
    assert.equal(ofType("aws:lambda/layerVersion:LayerVersion").length, 1);
    assert.equal(
      ofType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").length,
      0,
      "metrics off",
    );
    assert.ok(await isSecretOutput(stack.otlpToken), "otlpToken output is secret");
    assert.ok(await isSecretOutput(stack.grafanaAdminPassword), "grafana password output is secret");
  });

  it("with ec2, prometheus, metrics and an existing function wires Firehose to the HTTPS front", async () => {
    const stack = runProgram({
      host: "ec2",
      storage: "prometheus",
      metrics: "true",
      functions: JSON.stringify(["orders"]),
      ec2: JSON.stringify({ instanceType: "t3.large" }),
    });
    assert.ok((await value(stack.firehoseUrl as pulumi.Output<string>)).startsWith(API_ENDPOINT));
    await value(stack.metricStreamName);
    await settle();
    const firehose = ofType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
    assert.equal(firehose.length, 1);
    const endpoint = plain(firehose[0].inputs).httpEndpointConfiguration;
    assert.ok(
      endpoint.url.startsWith(`${API_ENDPOINT}/`),
      `Firehose posts to the API Gateway front, got ${endpoint.url}`,
    );
    assert.ok(
      hasSecret(firehose[0].inputs.httpEndpointConfiguration),
      "the Firehose access key stays secret",
    );
    assert.equal(ofType("aws:ec2/instance:Instance").length, 1);
    assert.equal(plain(ofType("aws:ec2/instance:Instance")[0].inputs).instanceType, "t3.large");
    assert.equal(ofType("aws:cloudwatch/metricStream:MetricStream").length, 1);
    assert.deepEqual(await value(stack.instrumentedFunctions), [
      "arn:aws:lambda:eu-west-1:123456789012:function:orders",
    ]);
  });

  it("never writes a configured secret in plain text into any resource", async () => {
    const token = "user-supplied-otlp-token-0123456789abcdef";
    const stack = runProgram({ host: "ec2", otlpToken: token }, ["otlpToken"]);
    await value(stack.grafanaUrl);
    await settle();
    const { plain: leaks, wrapped } = scanSecrets([token]);
    assert.deepEqual(leaks, [], "resources holding the token without a secret marker");
    assert.ok(wrapped > 0, "the token is used somewhere, inside secret markers");
  });

  it("refuses bad config before creating any resource, with the fix", () => {
    assert.throws(
      () => runProgram({ host: "lambda", functions: "orders" }),
      (err: Error) => {
        assert.ok(err instanceof pulumi.RunError, "a RunError prints without a stack trace");
        assert.match(
          err.message,
          /firefly:host = "lambda": is not allowed\. Allowed: docker, ec2, kubernetes\./,
        );
        assert.match(err.message, /fix: pulumi config set firefly:host docker/);
        assert.match(
          err.message,
          /fix: pulumi config rm firefly:functions && pulumi config set --path 'firefly:functions\[0\]' orders/,
        );
        return true;
      },
    );
    assert.deepEqual(recorded, [], "nothing was created");
  });

  it("refuses the bare defaults before creating anything: functions would export to their own loopback", () => {
    assert.throws(
      () => runProgram({ functions: JSON.stringify(["orders"]) }),
      (err: Error) => {
        assert.ok(err instanceof pulumi.RunError);
        assert.match(
          err.message,
          /firefly:docker\.publicUrl: instrumented functions would export to http:\/\/127\.0\.0\.1:4318/,
        );
        assert.match(
          err.message,
          /fix: pulumi config set --path firefly:docker\.publicUrl https:\/\/ingest\.example\.com/,
        );
        return true;
      },
    );
    assert.deepEqual(recorded, [], "nothing was created");
  });

  it("refuses a plain-text secret", () => {
    assert.throws(
      () => runProgram({ otlpToken: "plain-text-token-0123456789abcdef0123" }),
      /must be a Pulumi secret/,
    );
    assert.deepEqual(recorded, []);
  });
});
