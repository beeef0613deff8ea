// EmitPhase under Pulumi mocks: every resource it creates and the properties that matter. The mocks stand
// in for the engine and AWS only; the layer zip is the real build when present.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EmitPhase as EmitPhaseType } from "../../components/emit";
import { makeZip } from "./moto";
import { hasSecret, plain } from "./rpc";

interface Registered {
  type: string;
  name: string;
  inputs: any;
}

const PARTITION = "aws-us-gov";
const REGION = "us-gov-west-1";
const ACCOUNT = "123456789012";
const BUILT_ZIP = path.join(__dirname, "..", "..", "layer", "dist", "firefly-layer.zip");

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("EmitPhase (Pulumi mocks)", () => {
  const registered: Registered[] = [];
  let zipPath: string;
  let EmitPhase: typeof EmitPhaseType;
  const warnings: string[] = [];
  let restoreWarn: () => void;

  const find = (type: string, nameSuffix?: string) => {
    const found = registered.filter((r) => r.type === type && (!nameSuffix || r.name.endsWith(nameSuffix)));
    assert.equal(
      found.length,
      1,
      `expected one ${type} ${nameSuffix ?? ""}, got ${found.map((r) => r.name)}`,
    );
    return { ...found[0], inputs: plain(found[0].inputs), raw: found[0].inputs };
  };

  before(async () => {
    if (fs.existsSync(BUILT_ZIP)) {
      zipPath = BUILT_ZIP;
    } else {
      zipPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "firefly-layer-")), "firefly-layer.zip");
      fs.writeFileSync(zipPath, makeZip({ "firefly/handler.js": "exports.handler = () => {};\n" }));
    }
    pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs });
          const inputs = plain(args.inputs);
          const state: Record<string, unknown> = { ...inputs, arn: `arn:${PARTITION}:mock:::${args.name}` };
          if (args.type === "aws:lambda/layerVersion:LayerVersion") {
            state.arn = `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:layer:${inputs.layerName}:3`;
          }
          if (args.type === "aws:cloudwatch/logGroup:LogGroup") state.name = `/mock/${args.name}`;
          if (args.type === "aws:cloudwatch/metricStream:MetricStream") state.name = `${args.name}-1234`;
          if (args.type.startsWith("pulumi-nodejs:dynamic")) {
            // What the provider reports for a Python function: skipped, with the reason.
            const fn = inputs.functionName as string;
            state.functionArn = fn.startsWith("arn:")
              ? fn
              : `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${fn}`;
            state.skipped = fn === "legacy-python" ? "its runtime python3.12 is not Node.js" : "";
          }
          return { id: `${args.name}-id`, state };
        },
        call(args) {
          switch (args.token) {
            case "aws:index/getPartition:getPartition":
              return { partition: PARTITION, dnsSuffix: "amazonaws.com", id: PARTITION };
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return {
                accountId: ACCOUNT,
                arn: `arn:${PARTITION}:iam::${ACCOUNT}:root`,
                userId: "u",
                id: ACCOUNT,
              };
            case "aws:index/getRegion:getRegion":
              return { region: REGION, name: REGION, id: REGION };
            default:
              throw new Error(`unexpected invoke ${args.token}`);
          }
        },
      },
      "firefly",
      "test",
      false,
    );
    const original = pulumi.log.warn;
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (msg: string) => {
      warnings.push(msg);
    };
    restoreWarn = () => {
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
    };
    ({ EmitPhase } = await import("../../components/emit"));
  });
  after(() => restoreWarn());

  describe("with metrics and existing functions", () => {
    let emit: EmitPhaseType;
    before(async () => {
      emit = new EmitPhase("emit", {
        layerZipPath: zipPath,
        otlpEndpoint: "https://ingest.example.com",
        otlpToken: "otlp-token-value",
        firehoseUrl: "https://abc.execute-api.us-gov-west-1.amazonaws.com/firehose",
        firehoseAccessKey: "firehose-key-value",
        functions: [
          "orders",
          `arn:${PARTITION}:lambda:us-gov-east-1:${ACCOUNT}:function:billing`,
          "legacy-python",
        ],
        metrics: true,
        metricNames: ["Invocations", "Errors", "Duration"],
        flushTimeoutMs: 1500,
        sampler: "parentbased_traceidratio",
        samplerArg: "0.5",
      });
      await value(emit.metricStreamName);
      await value(emit.instrumentedFunctions);
    });

    it("publishes the layer for Node.js 20/22 on both architectures, versioned by the zip's SHA-256", async () => {
      const layer = find("aws:lambda/layerVersion:LayerVersion");
      assert.equal(layer.inputs.layerName, "firefly");
      assert.deepEqual(layer.inputs.compatibleRuntimes, ["nodejs20.x", "nodejs22.x", "nodejs24.x"]);
      assert.deepEqual(layer.inputs.compatibleArchitectures, ["x86_64", "arm64"]);
      const { createHash } = await import("node:crypto");
      assert.equal(
        layer.inputs.sourceCodeHash,
        createHash("sha256").update(fs.readFileSync(zipPath)).digest("base64"),
      );
      assert.match(await value(emit.layerArn), /:layer:firefly:3$/);
    });

    it("instruments each existing function once, in its own region, with the token as a secret", async () => {
      const fns = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/firefly:InstrumentedFunction");
      assert.deepEqual(fns.map((f) => f.name).sort(), [
        "emit-fn-billing",
        "emit-fn-legacy-python",
        "emit-fn-orders",
      ]);
      const orders = find("pulumi-nodejs:dynamic/firefly:InstrumentedFunction", "-orders");
      assert.equal(orders.inputs.region, REGION);
      assert.equal(
        find("pulumi-nodejs:dynamic/firefly:InstrumentedFunction", "-billing").inputs.region,
        "us-gov-east-1",
      );
      assert.equal(orders.inputs.settings.mode, "handler");
      assert.equal(orders.inputs.settings.otlpEndpoint, "https://ingest.example.com");
      assert.equal(orders.inputs.settings.flushTimeoutMs, 1500);
      assert.equal(orders.inputs.settings.sampler, "parentbased_traceidratio");
      assert.equal(orders.inputs.settings.samplerArg, "0.5");
      assert.match(orders.inputs.settings.layerArn, /:layer:firefly:3$/);
      assert.ok(hasSecret(orders.raw.settings), "the OTLP token is registered as a secret");
      assert.equal(typeof orders.raw.__provider, "string", "the provider was serialized into the inputs");
    });

    it("reports instrumented functions and warns about the skipped one, saying why", async () => {
      assert.deepEqual(await value(emit.instrumentedFunctions), [
        `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:orders`,
        `arn:${PARTITION}:lambda:us-gov-east-1:${ACCOUNT}:function:billing`,
      ]);
      assert.ok(
        warnings.some((w) => /legacy-python uninstrumented: its runtime python3\.12 is not Node\.js/.test(w)),
        `warnings: ${warnings}`,
      );
      const skipped = await value(emit.skippedFunctions);
      assert.deepEqual(Object.keys(skipped), [
        `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:legacy-python`,
      ]);
      assert.match(Object.values(skipped)[0], /its runtime python3\.12 is not Node\.js/);
    });

    it("streams only the chosen AWS/Lambda metrics, with p50/p90/p99 for Duration, in the collector's format", async () => {
      const stream = find("aws:cloudwatch/metricStream:MetricStream");
      assert.deepEqual(stream.inputs.includeFilters, [
        { namespace: "AWS/Lambda", metricNames: ["Invocations", "Errors", "Duration"] },
      ]);
      assert.deepEqual(stream.inputs.statisticsConfigurations, [
        {
          additionalStatistics: ["p50", "p90", "p99"],
          includeMetrics: [{ namespace: "AWS/Lambda", metricName: "Duration" }],
        },
      ]);
      const { METRIC_STREAM_OUTPUT_FORMAT } = await import("../../components/shipping/collectorConfig");
      assert.equal(stream.inputs.outputFormat, METRIC_STREAM_OUTPUT_FORMAT);
      assert.equal(stream.inputs.firehoseArn, `arn:${PARTITION}:mock:::emit-firehose`);
      assert.equal(await value(emit.metricStreamName), "emit-metric-stream-1234");
    });

    it("delivers through Firehose to the HTTPS URL with a secret key, fresh buffers, longest retry, failed data to S3", async () => {
      const firehose = find("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
      const http = firehose.inputs.httpEndpointConfiguration;
      assert.equal(firehose.inputs.destination, "http_endpoint");
      assert.deepEqual(firehose.inputs.serverSideEncryption, { enabled: true, keyType: "AWS_OWNED_CMK" });
      assert.equal(http.url, "https://abc.execute-api.us-gov-west-1.amazonaws.com/firehose");
      assert.equal(http.accessKey, "firehose-key-value");
      assert.ok(hasSecret(firehose.raw.httpEndpointConfiguration), "the access key is a secret");
      assert.equal(http.bufferingInterval, 60);
      assert.equal(http.bufferingSize, 1, "1 MiB, far below the receiver's 20 MiB limit");
      assert.equal(http.retryDuration, 7200);
      assert.equal(http.s3BackupMode, "FailedDataOnly");
      assert.equal(http.s3Configuration.bucketArn, `arn:${PARTITION}:mock:::emit-backup`);
      assert.equal(http.roleArn, `arn:${PARTITION}:mock:::emit-firehose-role`);
      assert.equal(http.cloudwatchLoggingOptions.logGroupName, "/mock/emit-firehose-logs");
      assert.equal(await value(emit.deliveryStreamArn), `arn:${PARTITION}:mock:::emit-firehose`);
    });

    it("backs up to a bucket that is encrypted, private, TLS-only and expires old objects", () => {
      const bucketId = "emit-backup-id";
      const block = find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
      assert.deepEqual(block.inputs, {
        bucket: bucketId,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const sse = find(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      );
      assert.equal(sse.inputs.bucket, bucketId);
      assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
      const lifecycle = find("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
      assert.equal(lifecycle.inputs.rules[0].status, "Enabled");
      assert.equal(lifecycle.inputs.rules[0].expiration.days, 30);
      const policy = JSON.parse(find("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
      assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
      assert.equal(policy.Statement[0].Effect, "Deny");
    });

    it("lets the metric stream put records on that delivery stream only", () => {
      const role = find("aws:iam/role:Role", "-metric-stream-role");
      const trust = JSON.parse(role.inputs.assumeRolePolicy);
      assert.equal(trust.Statement[0].Principal.Service, "streams.metrics.cloudwatch.amazonaws.com");
      assert.equal(trust.Statement.length, 1);
      const policy = JSON.parse(find("aws:iam/rolePolicy:RolePolicy", "-metric-stream-policy").inputs.policy);
      assert.deepEqual(policy.Statement, [
        {
          Effect: "Allow",
          Action: ["firehose:PutRecord", "firehose:PutRecordBatch"],
          Resource: [`arn:${PARTITION}:mock:::emit-firehose`],
        },
      ]);
    });

    it("lets Firehose write to that bucket and its own log stream only, with partition-aware ARNs", () => {
      const role = find("aws:iam/role:Role", "-firehose-role");
      const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0];
      assert.equal(trust.Principal.Service, "firehose.amazonaws.com");
      assert.deepEqual(trust.Condition, { StringEquals: { "sts:ExternalId": ACCOUNT } });
      const policy = JSON.parse(find("aws:iam/rolePolicy:RolePolicy", "-firehose-policy").inputs.policy);
      const bucket = `arn:${PARTITION}:mock:::emit-backup`;
      assert.deepEqual(policy.Statement[0].Resource, [bucket, `${bucket}/*`]);
      assert.ok(policy.Statement[0].Action.every((a: string) => a.startsWith("s3:")));
      assert.ok(!policy.Statement[0].Action.includes("s3:*"));
      assert.deepEqual(policy.Statement[1], {
        Effect: "Allow",
        Action: ["logs:PutLogEvents"],
        Resource: [
          `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/mock/emit-firehose-logs:log-stream:DestinationDelivery`,
        ],
      });
      assert.equal(policy.Statement.length, 2);
    });
  });

  describe("resource names for existing functions", () => {
    it("uses the function's name, adding the region only for same-named functions in several regions", async () => {
      const { functionResourceNames } = await import("../../components/emit");
      const arn = (region: string, fn: string) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${fn}`;
      assert.deepEqual(
        functionResourceNames(["orders", arn("eu-west-1", "billing"), `${ACCOUNT}:function:x`]),
        ["orders", "billing", "x"],
      );
      assert.deepEqual(functionResourceNames([arn("eu-west-1", "api"), arn("us-east-1", "api")]), [
        "api-eu-west-1",
        "api-us-east-1",
      ]);
      assert.throws(
        () => functionResourceNames(["api", arn("us-east-1", "api")]),
        /lists the function api more than once/,
      );
    });
  });

  describe("qualified function ARNs", () => {
    it("instruments $LATEST and warns that the alias needs a new version", async () => {
      const arn = `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:billing`;
      const emit = new EmitPhase("qualified", {
        layerZipPath: zipPath,
        otlpEndpoint: "https://ingest.example.com",
        functions: [`${arn}:live`, `${arn}:$LATEST`],
      });
      assert.deepEqual(await value(emit.instrumentedFunctions), [arn]);
      const fn = find("pulumi-nodejs:dynamic/firefly:InstrumentedFunction", "qualified-fn-billing");
      assert.equal(fn.inputs.functionName, arn, "the qualifier is not sent to UpdateFunctionConfiguration");
      assert.ok(
        warnings.some((w) => /instruments .*:function:billing \(\$LATEST\), not its qualifier live/.test(w)),
        `warnings: ${warnings}`,
      );
      const { unqualified } = await import("../../components/emit");
      assert.deepEqual(unqualified("orders"), { fn: "orders" });
      assert.deepEqual(unqualified(`${ACCOUNT}:function:orders:7`), {
        fn: `${ACCOUNT}:function:orders`,
        qualifier: "7",
      });
    });
  });

  describe("without metrics", () => {
    it("creates the layer only, and its metric outputs are undefined", async () => {
      const before = registered.length;
      const emit = new EmitPhase("quiet", {
        layerZipPath: zipPath,
        otlpEndpoint: "https://ingest.example.com",
      });
      await value(emit.layerArn);
      assert.equal(await value(emit.deliveryStreamArn), undefined);
      assert.equal(await value(emit.metricStreamName), undefined);
      assert.deepEqual(await value(emit.instrumentedFunctions), []);
      assert.deepEqual(await value(emit.skippedFunctions), {});
      const created = registered.slice(before).map((r) => r.type);
      assert.deepEqual(created, ["firefly:index:EmitPhase", "aws:lambda/layerVersion:LayerVersion"]);
    });
  });

  describe("bad input stops before any resource exists", () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        "metrics without a Firehose URL",
        { metrics: true, firehoseAccessKey: "k" },
        /no public HTTPS URL for Firehose.*firefly:metrics false/,
      ],
      [
        "an http:// Firehose URL",
        { metrics: true, firehoseUrl: "http://x.example.com", firehoseAccessKey: "k" },
        /not an https:\/\/ URL on port 443/,
      ],
      [
        "metrics without an access key",
        { metrics: true, firehoseUrl: "https://x.example.com" },
        /no Firehose access key/,
      ],
      ["no metric names", { metricNames: [] }, /metricNames is empty/],
      [
        "a missing layer zip",
        { layerZipPath: "/nonexistent/firefly-layer.zip" },
        /cannot be read.*npm run build:layer/,
      ],
      ["an unknown sampler", { sampler: "ratio" }, /sampler "ratio" is not one of always_on/],
      [
        "a sampler ratio above 1",
        { sampler: "parentbased_traceidratio", samplerArg: "25" },
        /samplerArg "25" must be a ratio from 0 to 1/,
      ],
      ["a ratio without a ratio sampler", { samplerArg: "0.5" }, /only applies to the traceidratio samplers/],
      ["a negative flush budget", { flushTimeoutMs: -1 }, /flushTimeoutMs -1 must be a whole number/],
      ["a bad layer name", { layerName: "fire fly" }, /not a valid Lambda layer name/],
      [
        "a function listed twice",
        { functions: ["orders", `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders`] },
        /lists the function orders more than once \(orders, arn:aws:lambda:eu-west-1:123456789012:function:orders\)/,
      ],
    ];
    for (const [i, [label, extra, message]] of cases.entries()) {
      it(label, () => {
        // Children join their parent's child set synchronously in the Resource constructor, so nesting the
        // component under a probe shows exactly what it constructed before throwing, without waiting for
        // the (asynchronous) registrations.
        const probe = new pulumi.ComponentResource("test:index:Probe", `probe-${i}`);
        assert.throws(
          () =>
            new EmitPhase(
              `bad-${i}`,
              { layerZipPath: zipPath, otlpEndpoint: "https://i", ...extra },
              { parent: probe },
            ),
          message,
        );
        const children = (r: pulumi.Resource): pulumi.Resource[] => [
          ...((r as unknown as { __childResources?: Set<pulumi.Resource> }).__childResources ?? []),
        ];
        const [emit] = children(probe);
        assert.ok(emit instanceof EmitPhase);
        assert.deepEqual(children(emit), [], "no child resource was created");
      });
    }
  });
});
