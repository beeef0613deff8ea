// One program-scale sample, run in its own process so its memory figure is its own:
//   node --import tsx test/bench/programScaleChild.ts <functions> [plain]
// `plain` creates the same functions without instrumentFunctionArgs: the Pulumi SDK's own cost, for scale.
// Evaluates a Pulumi program under mocks: EmitPhase (layer, Metric Stream, Firehose) plus <functions>
// aws.lambda.Function resources instrumented with instrumentFunctionArgs, and waits until every
// function's outputs have resolved. Prints one JSON line. Mocks stand in for the engine and AWS only.
import { performance } from "node:perf_hooks";
import type * as awsTypes from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const count = Number(process.argv[2]);
const plain = process.argv[3] === "plain";
if (!Number.isInteger(count) || count < 1) {
  console.error("usage: programScaleChild.ts <number of functions ≥ 1> [plain]");
  process.exit(2);
}

let registered = 0;
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered++;
      return { id: `${args.name}-id`, state: { ...args.inputs, arn: `arn:aws:mock:::${args.name}` } };
    },
    call(args) {
      switch (args.token) {
        case "aws:index/getRegion:getRegion":
          return { region: "eu-west-1", name: "eu-west-1", id: "eu-west-1" };
        case "aws:index/getPartition:getPartition":
          return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:root", userId: "u", id: "a" };
        default:
          throw new Error(`unexpected invoke ${args.token}`);
      }
    },
  },
  "firefly",
  "bench",
  false,
);

async function main() {
  const t0 = performance.now();
  const aws = await import("@pulumi/aws");
  const { EmitPhase, instrumentFunctionArgs } = await import("../../components/emit");
  const { InstrumentationMode } = await import("../../components/config");
  const tImported = performance.now();

  const token = pulumi.secret("bench-token");
  const emit = new EmitPhase("firefly", {
    otlpEndpoint: "https://collector.example.com",
    otlpToken: token,
    metrics: true,
    firehoseUrl: "https://collector.example.com/firehose",
    firehoseAccessKey: pulumi.secret("bench-key"),
  });
  const settings = {
    layerArn: emit.layerArn,
    mode: InstrumentationMode.Handler,
    otlpEndpoint: "https://collector.example.com",
    otlpToken: token,
  };
  const role = new aws.iam.Role("fn-role", {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const functions: awsTypes.lambda.Function[] = [];
  for (let i = 0; i < count; i++) {
    const name = `fn-${i}`;
    const args: awsTypes.lambda.FunctionArgs = {
      name,
      runtime: "nodejs20.x",
      handler: "index.handler",
      role: role.arn,
      code: new pulumi.asset.AssetArchive({
        "index.js": new pulumi.asset.StringAsset("exports.handler=()=>1"),
      }),
      environment: { variables: { APP_SETTING: String(i) } },
    };
    functions.push(
      new aws.lambda.Function(name, plain ? args : instrumentFunctionArgs(args, settings, name)),
    );
  }
  const handlers = await new Promise<(string | undefined)[]>((resolve) =>
    pulumi.all(functions.map((f) => f.handler)).apply(resolve),
  );
  await new Promise((resolve) => pulumi.all([emit.layerArn, emit.deliveryStreamArn]).apply(resolve));
  const tDone = performance.now();
  // Proof the functions were really instrumented, not merely created.
  const redirected = handlers.filter((h) => h === "/opt/firefly/handler.handler").length;
  console.log(
    JSON.stringify({
      functions: count,
      instrumented: !plain,
      redirected,
      resources: registered,
      importMs: tImported - t0,
      programMs: tDone - tImported,
      // performance.now() counts from process start: this includes tsx compiling the program.
      processToDoneMs: tDone,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      heapUsedMiB: process.memoryUsage().heapUsed / 1024 / 1024,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
