// The Firefly program (index.ts) end to end under Pulumi mocks: stack config in, resource graph out.
// Mocks stand in for the engine and the cloud providers only; config validation, the components and
// their renderers are the real code.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hasSecret, plain } from "../emit/rpc";

interface Registered {
  type: string;
  name: string;
  inputs: any;
  parent?: string;
}

const PROGRAM = path.join(__dirname, "..", "..", "index.ts");
const API = "https://abc123.execute-api.eu-west-1.amazonaws.com";
const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
// Registrations finish asynchronously; this drains the SDK's RPC queue (internal, but what disconnect uses).
const settled = () =>
  (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> }).waitForRPCs();

let registered: Registered[] = [];

function installMocks() {
  registered = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const inputs = plain(args.inputs);
        const state: Record<string, unknown> = {
          ...inputs,
          arn: `arn:aws:mock:eu-west-1:123456789012:${args.name}`,
        };
        switch (args.type) {
          case "random:index/randomPassword:RandomPassword":
            state.result = `generated-${args.name}-0123456789abcdef0123456789`;
            break;
          case "aws:apigatewayv2/api:Api":
            state.apiEndpoint = API;
            break;
          case "aws:lambda/layerVersion:LayerVersion":
            state.arn = `arn:aws:lambda:eu-west-1:123456789012:layer:${inputs.layerName}:1`;
            break;
          case "aws:ec2/instance:Instance":
            state.privateIp = "10.0.1.23";
            break;
          case "aws:cloudwatch/metricStream:MetricStream":
            state.name = inputs.name ?? `${args.name}-stream`;
            break;
        }
        if (args.type.startsWith("pulumi-nodejs:dynamic")) {
          state.functionArn = `arn:aws:lambda:eu-west-1:123456789012:function:${inputs.functionName}`;
          state.skipped = "";
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { region: "eu-west-1", name: "eu-west-1" };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/ci", userId: "x" };
          case "aws:ec2/getAmi:getAmi":
            return { id: "ami-0al2023", architecture: "x86_64", name: "al2023-ami-2023.9-x86_64" };
          case "aws:ec2/getVpc:getVpc":
            return { id: "vpc-default", cidrBlock: "172.31.0.0/16" };
          case "aws:ec2/getSubnets:getSubnets":
            return { ids: ["subnet-aaaa"] };
          case "aws:lambda/getFunction:getFunction":
            return {
              functionName: args.inputs.functionName,
              timeout: 30,
              arn: `arn:aws:lambda:eu-west-1:123456789012:function:${args.inputs.functionName}`,
            };
          case "aws:ec2/getSubnet:getSubnet":
          case "aws:ec2/getInstance:getInstance":
            return {
              id: args.inputs.id,
              availabilityZone: "eu-west-1a",
              vpcId: "vpc-default",
              privateIp: "10.0.1.23",
            };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    "firefly",
    "test",
    false,
  );
}

/** Run index.ts with this stack config, as `pulumi up` would. */
function runProgram(config: Record<string, string>, secretKeys: string[] = []) {
  installMocks();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`firefly:${k}`, v])),
    secretKeys.map((k) => `firefly:${k}`),
  );
  delete require.cache[require.resolve(PROGRAM)];
  return require(PROGRAM) as Record<string, pulumi.Output<unknown>>;
}

const isSecretOutput = (o: pulumi.Output<unknown>) =>
  (o as unknown as { isSecret: Promise<boolean> }).isSecret;
const ofType = (type: string) => registered.filter((r) => r.type === type);

describe("the Firefly program (index.ts) under mocks", function () {
  this.timeout(120_000);

  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it("with default config builds all three phases on the local docker engine", async () => {
    const stack = runProgram({});
    assert.match(String(await value(stack.grafanaUrl)), /^https?:\/\//);
    await settled();
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
    assert.ok((await value(stack.firehoseUrl as pulumi.Output<string>)).startsWith(API));
    await value(stack.metricStreamName);
    await settled();
    const firehose = ofType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
    assert.equal(firehose.length, 1);
    const endpoint = plain(firehose[0].inputs).httpEndpointConfiguration;
    assert.ok(
      endpoint.url.startsWith(`${API}/`),
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
    const stack = runProgram({ otlpToken: token }, ["otlpToken"]);
    await value(stack.grafanaUrl);
    await settled();
    const leaks = registered.filter(
      (r) => JSON.stringify(plain(r.inputs)).includes(token) && !hasSecret(r.inputs),
    );
    assert.deepEqual(
      leaks.map((r) => `${r.type} ${r.name}`),
      [],
      "resources holding the token without a secret marker",
    );
    assert.ok(
      registered.some((r) => JSON.stringify(plain(r.inputs)).includes(token)),
      "the token is used somewhere",
    );
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
    assert.deepEqual(registered, [], "nothing was created");
  });

  it("refuses a plain-text secret", () => {
    assert.throws(
      () => runProgram({ otlpToken: "plain-text-token-0123456789abcdef0123" }),
      /must be a Pulumi secret/,
    );
    assert.deepEqual(registered, []);
  });
});
