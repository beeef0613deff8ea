// The CloudWatch Logs path of EmitPhase under Pulumi mocks: subscription filters on every instrumented
// function's log group (default and custom LoggingConfig.LogGroup, existing and in-stack), one Firehose
// stream per architecture to the collector's logs route, the subscription role's IAM documents, and the
// refusals that come before any resource exists.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EmitPhase as EmitPhaseType } from "../../components/emit";
import { PLATFORM_FILTER_PATTERN } from "../../components/shipping/logsConfig";
import { makeZip } from "./moto";
import { hasSecret, plain } from "./rpc";

const PARTITION = "aws-cn";
const REGION = "cn-north-1";
const ACCOUNT = "210987654321";
const LOGS_URL = "https://abc.execute-api.cn-north-1.amazonaws.com.cn/firehose/logs";

/** What the mocked GetFunction answers, per function name. */
const FUNCTIONS: Record<string, { architectures: string[]; logGroup?: string }> = {
  orders: { architectures: ["x86_64"] },
  thumbnails: { architectures: ["arm64"] },
  payments: { architectures: ["x86_64"], logGroup: "/shared/payments-and-refunds" },
  "stack-api": { architectures: ["arm64"] },
};

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("EmitPhase logs (Pulumi mocks)", () => {
  const registered: { type: string; name: string; inputs: any }[] = [];
  let EmitPhase: typeof EmitPhaseType;
  let zipPath: string;

  const all = (type: string) =>
    registered.filter((r) => r.type === type).map((r) => ({ ...r, inputs: plain(r.inputs), raw: r.inputs }));
  const one = (type: string, name: string) => {
    const found = all(type).filter((r) => r.name === name);
    assert.equal(found.length, 1, `expected ${type} ${name}, got ${all(type).map((r) => r.name)}`);
    return found[0];
  };

  before(async () => {
    zipPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "firefly-layer-")), "firefly-layer.zip");
    fs.writeFileSync(zipPath, makeZip({ "firefly/handler.js": "exports.handler = () => {};\n" }));
    pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs });
          const state: Record<string, unknown> = {
            ...plain(args.inputs),
            arn: `arn:${PARTITION}:mock:::${args.name}`,
          };
          if (args.type === "aws:cloudwatch/logGroup:LogGroup") state.name = `/mock/${args.name}`;
          if (args.type.startsWith("pulumi-nodejs:dynamic")) {
            state.functionArn = `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${args.inputs.functionName}`;
            state.skipped = "";
          }
          return { id: `${args.name}-id`, state };
        },
        call(args) {
          switch (args.token) {
            case "aws:index/getPartition:getPartition":
              return { partition: PARTITION, dnsSuffix: "amazonaws.com.cn", id: PARTITION };
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return {
                accountId: ACCOUNT,
                arn: `arn:${PARTITION}:iam::${ACCOUNT}:root`,
                userId: "u",
                id: ACCOUNT,
              };
            case "aws:index/getRegion:getRegion":
              return { region: REGION, name: REGION, id: REGION };
            case "aws:lambda/getFunction:getFunction": {
              const name = String(args.inputs.functionName);
              const fn = FUNCTIONS[name];
              if (!fn) throw new Error(`GetFunction: no function ${name}`);
              return {
                functionName: name,
                arn: `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}`,
                architectures: fn.architectures,
                loggingConfigs: [
                  {
                    logFormat: "Text",
                    logGroup: fn.logGroup ?? "",
                    applicationLogLevel: "",
                    systemLogLevel: "",
                  },
                ],
                id: name,
              };
            }
            default:
              throw new Error(`unexpected invoke ${args.token}`);
          }
        },
      },
      "firefly",
      "logs",
      false,
    );
    ({ EmitPhase } = await import("../../components/emit"));
  });

  describe("with logs on for existing and in-stack functions", () => {
    let emit: EmitPhaseType;
    before(async () => {
      registered.length = 0;
      emit = new EmitPhase("emit", {
        layerZipPath: zipPath,
        otlpEndpoint: "https://ingest.example.com",
        firehoseAccessKey: "firehose-key-value",
        firehoseLogsUrl: LOGS_URL,
        functions: ["orders", "thumbnails", "payments"],
        logFunctions: [pulumi.output("stack-api")],
        logs: true,
      });
      await value(emit.logDeliveryStreamArns);
      await value(emit.instrumentedFunctions);
      for (
        let i = 0;
        i < 100 && all("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").length < 4;
        i++
      )
        await new Promise((r) => setTimeout(r, 20));
    });

    it("creates one Firehose stream per architecture to the logs route, with a secret key and its architecture as a common attribute", async () => {
      const streams = all("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
      assert.deepEqual(streams.map((s) => s.name).sort(), [
        "emit-logs-firehose-arm64",
        "emit-logs-firehose-x86_64",
      ]);
      for (const arch of ["x86_64", "arm64"]) {
        const s = one(
          "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
          `emit-logs-firehose-${arch}`,
        );
        const http = s.inputs.httpEndpointConfiguration;
        assert.equal(http.url, LOGS_URL);
        assert.equal(http.accessKey, "firehose-key-value");
        assert.ok(hasSecret(s.raw.httpEndpointConfiguration), "the access key is a secret");
        assert.deepEqual(http.requestConfiguration.commonAttributes, [{ name: "faas.arch", value: arch }]);
        assert.equal(http.s3BackupMode, "FailedDataOnly");
        assert.equal(http.s3Configuration.bucketArn, `arn:${PARTITION}:mock:::emit-logs-backup`);
        assert.equal(http.s3Configuration.prefix, `${arch}/`);
        assert.ok(http.bufferingSize < 20, "below the receiver's 20 MiB body limit");
      }
      assert.deepEqual(await value(emit.logDeliveryStreamArns), [
        `arn:${PARTITION}:mock:::emit-logs-firehose-x86_64`,
        `arn:${PARTITION}:mock:::emit-logs-firehose-arm64`,
      ]);
      // One backup bucket for both streams, reusing the metrics stream's bucket shape.
      assert.deepEqual(
        all("aws:s3/bucket:Bucket").map((b) => b.name),
        ["emit-logs-backup"],
      );
      assert.equal(all("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").length, 1);
    });

    it("subscribes every function's log group, the custom LoggingConfig.LogGroup included, to its architecture's stream", () => {
      const filters = all("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter");
      const byGroup = Object.fromEntries(filters.map((f) => [f.inputs.logGroup, f.inputs.destinationArn]));
      assert.deepEqual(byGroup, {
        "/aws/lambda/orders": `arn:${PARTITION}:mock:::emit-logs-firehose-x86_64`,
        "/aws/lambda/thumbnails": `arn:${PARTITION}:mock:::emit-logs-firehose-arm64`,
        "/shared/payments-and-refunds": `arn:${PARTITION}:mock:::emit-logs-firehose-x86_64`,
        "/aws/lambda/stack-api": `arn:${PARTITION}:mock:::emit-logs-firehose-arm64`,
      });
      for (const f of filters) {
        assert.equal(f.inputs.filterPattern, PLATFORM_FILTER_PATTERN, "only Lambda's own lines by default");
        assert.equal(f.inputs.roleArn, `arn:${PARTITION}:mock:::emit-logs-subscription-role`);
      }
    });

    it("owns no function log group, so destroy removes the subscriptions and leaves the groups", () => {
      // The only log group Firefly creates is Firehose's own error log.
      assert.deepEqual(
        all("aws:cloudwatch/logGroup:LogGroup").map((g) => g.name),
        ["emit-logs-firehose-logs"],
      );
    });

    it("lets CloudWatch Logs of this account and region put records on the two log streams only", () => {
      const role = one("aws:iam/role:Role", "emit-logs-subscription-role");
      assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "logs.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringLike: { "aws:SourceArn": `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:*` } },
        },
      ]);
      const policy = JSON.parse(
        one("aws:iam/rolePolicy:RolePolicy", "emit-logs-subscription-policy").inputs.policy,
      );
      assert.deepEqual(policy.Statement, [
        {
          Effect: "Allow",
          Action: ["firehose:PutRecord", "firehose:PutRecordBatch"],
          Resource: [
            `arn:${PARTITION}:mock:::emit-logs-firehose-x86_64`,
            `arn:${PARTITION}:mock:::emit-logs-firehose-arm64`,
          ],
        },
      ]);
    });

    it("lets Firehose write only to the logs backup bucket and its own error log", () => {
      const trust = JSON.parse(one("aws:iam/role:Role", "emit-logs-firehose-role").inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement[0].Condition, { StringEquals: { "sts:ExternalId": ACCOUNT } });
      const policy = JSON.parse(
        one("aws:iam/rolePolicy:RolePolicy", "emit-logs-firehose-policy").inputs.policy,
      );
      const bucket = `arn:${PARTITION}:mock:::emit-logs-backup`;
      assert.deepEqual(policy.Statement[0].Resource, [bucket, `${bucket}/*`]);
      assert.deepEqual(policy.Statement[1].Resource, [
        `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/mock/emit-logs-firehose-logs:log-stream:DestinationDelivery`,
      ]);
      assert.equal(policy.Statement.length, 2);
    });
  });

  it("forwards every line when logsForwardAll is set", async () => {
    registered.length = 0;
    const emit = new EmitPhase("all", {
      layerZipPath: zipPath,
      otlpEndpoint: "https://ingest.example.com",
      firehoseAccessKey: "k",
      firehoseLogsUrl: LOGS_URL,
      functions: ["orders"],
      logs: true,
      logsForwardAll: true,
    });
    await value(emit.logDeliveryStreamArns);
    // The filter registers once GetFunction has answered.
    for (
      let i = 0;
      i < 100 && all("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").length === 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const [filter] = all("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter");
    assert.equal(filter.inputs.filterPattern, "");
  });

  it("creates no logs resources when logs are off", async () => {
    registered.length = 0;
    const emit = new EmitPhase("off", {
      layerZipPath: zipPath,
      otlpEndpoint: "https://ingest.example.com",
      functions: ["orders"],
    });
    assert.deepEqual(await value(emit.logDeliveryStreamArns), []);
    assert.equal(all("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").length, 0);
    assert.equal(all("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").length, 0);
  });

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ["no logs URL", { firehoseAccessKey: "k" }, /firehoseLogsUrl is not set/],
    [
      "plain http",
      { firehoseAccessKey: "k", firehoseLogsUrl: "http://collector:4434/firehose/logs" },
      /not an https:\/\/ URL on port 443/,
    ],
    [
      "another port",
      { firehoseAccessKey: "k", firehoseLogsUrl: "https://collector:8443/firehose/logs" },
      /port 443/,
    ],
    ["no access key", { firehoseLogsUrl: LOGS_URL }, /no firehoseAccessKey is set/],
  ];
  for (const [what, extra, message] of refusals) {
    it(`refuses logs with ${what}, naming the setting, before creating anything`, () => {
      registered.length = 0;
      assert.throws(
        () =>
          new EmitPhase("bad", { layerZipPath: zipPath, otlpEndpoint: "https://x", logs: true, ...extra }),
        message,
      );
      assert.deepEqual(
        registered.filter((r) => r.type !== "firefly:index:EmitPhase").map((r) => r.type),
        [],
      );
    });
  }
});
