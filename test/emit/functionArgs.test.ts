// Functions in the same program: instrumentFunctionArgs on a real aws.lambda.Function under mocks, and
// the stack transform's logic as a plain function (transforms do not run under mocks).
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { InstrumentationMode } from "../../components/config";
import type * as FunctionArgsModule from "../../components/emit/functionArgs";
import { FIREFLY_HANDLER } from "../../components/emit/instrument";
import { plain } from "./rpc";

const LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:firefly:4";
const USER_LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:2";
const FUNCTION_TYPE = "aws:lambda/function:Function";

const secretRpc = (value: unknown) => ({
  [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
  value,
});

describe("instrumenting functions in the same program", () => {
  const registered: { type: string; name: string; inputs: any }[] = [];
  let m: typeof FunctionArgsModule;
  let aws: typeof import("@pulumi/aws");
  const settings = () => ({
    layerArn: pulumi.output(LAYER),
    mode: InstrumentationMode.Handler,
    otlpEndpoint: pulumi.output("https://ingest.example.com"),
    otlpToken: pulumi.secret("tok"),
    flushTimeoutMs: 1000,
  });

  before(async () => {
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs });
          return { id: `${args.name}-id`, state: plain(args.inputs) };
        },
        call: () => ({}),
      },
      "firefly",
      "test",
      false,
    );
    m = await import("../../components/emit/functionArgs");
    aws = await import("@pulumi/aws");
  });

  it("merges into a function that already has env vars and layers, with the environment kept secret", async () => {
    const fn = new aws.lambda.Function(
      "orders",
      m.instrumentFunctionArgs(
        {
          runtime: "nodejs22.x",
          handler: "dist/orders.handler",
          role: "arn:aws:iam::123456789012:role/r",
          code: new pulumi.asset.AssetArchive({
            "index.js": new pulumi.asset.StringAsset("exports.handler=()=>1"),
          }),
          layers: [USER_LAYER],
          environment: { variables: { TABLE: pulumi.output("orders-table"), STAGE: "prod" } },
          memorySize: 256,
        },
        settings(),
        "orders",
      ),
    );
    await new Promise((resolve) => fn.urn.apply(resolve));
    const reg = registered.find((r) => r.name === "orders")!;
    assert.ok(
      pulumi.runtime.isRpcSecret(reg.inputs.environment),
      "the environment carries the token: secret",
    );
    const inputs = plain(reg.inputs);
    assert.equal(inputs.handler, FIREFLY_HANDLER);
    assert.deepEqual(inputs.layers, [USER_LAYER, LAYER]);
    assert.equal(inputs.memorySize, 256, "everything else passes through");
    assert.deepEqual(inputs.environment.variables, {
      TABLE: "orders-table",
      STAGE: "prod",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://ingest.example.com",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer tok",
      FIREFLY_HANDLER: "dist/orders.handler",
      FIREFLY_FLUSH_TIMEOUT_MS: "1000",
    });
  });

  it("refuses a function with 5 layers before creating anything, naming it", () => {
    assert.throws(
      () =>
        m.instrumentFunctionArgs(
          {
            runtime: "nodejs20.x",
            handler: "i.h",
            role: "r",
            layers: [1, 2, 3, 4, 5].map((n) => `${USER_LAYER}${n}`),
          },
          { ...settings(), layerArn: LAYER },
          "crowded",
        ),
      /Lambda function crowded: it already has 5 other layers/,
    );
  });

  it("returns image-based and Python functions untouched, with a warning saying why", () => {
    const warnings: string[] = [];
    const image = { packageType: "Image", imageUri: "repo/img:1", role: "r" };
    const python = { runtime: "python3.12", handler: "app.handler", role: "r" };
    assert.equal(
      m.instrumentFunctionArgs(image, settings(), "img", (w) => warnings.push(w)),
      image,
    );
    assert.equal(
      m.instrumentFunctionArgs(python, settings(), "py", (w) => warnings.push(w)),
      python,
    );
    assert.deepEqual(warnings, [
      "Firefly leaves Lambda function img uninstrumented: it is image-based (package type Image), and image-based functions take no layers.",
      "Firefly leaves Lambda function py uninstrumented: its runtime python3.12 is not Node.js, and the Firefly layer only instruments Node.js.",
    ]);
  });

  it('names a function without a plain name by its handler and runtime, not as "(unnamed)"', () => {
    const warnings: string[] = [];
    const python = { runtime: "python3.12", handler: "app.handler", role: "r" };
    m.instrumentFunctionArgs(python, settings(), undefined, (w) => warnings.push(w));
    assert.deepEqual(warnings, [
      'Firefly leaves Lambda function (a function with handler "app.handler" on python3.12: pass its resource name as instrumentFunctionArgs\' third argument to name it here) uninstrumented: its runtime python3.12 is not Node.js, and the Firefly layer only instruments Node.js.',
    ]);
    assert.equal(m.describeFunction({ ...python, name: "billing" }), "billing");
  });

  describe("the stack transform's logic", () => {
    // Props as the transform receives them: deserialized, secrets as RPC wrappers.
    const props = () => ({
      name: "checkout-fn",
      runtime: "nodejs22.x",
      handler: "index.handler",
      role: "r",
      layers: [USER_LAYER],
      environment: secretRpc({ variables: { API_KEY: "k3y" } }),
      tags: { team: "payments" },
    });

    it("instruments Lambda functions, and what it returns serializes with the merged env still secret", async () => {
      const out = m.transformFunctionProps(FUNCTION_TYPE, "checkout", props(), settings());
      assert.ok(out);
      const wire = await pulumi.runtime.serializeProperties("props", out);
      assert.ok(pulumi.runtime.isRpcSecret(wire.environment), "the function's own secret env stays secret");
      const back = plain(wire);
      assert.equal(back.handler, FIREFLY_HANDLER);
      assert.deepEqual(back.layers, [USER_LAYER, LAYER]);
      assert.equal(back.environment.variables.API_KEY, "k3y");
      assert.equal(back.environment.variables.FIREFLY_HANDLER, "index.handler");
      assert.deepEqual(back.tags, { team: "payments" });
    });

    it("leaves other resource types and opted-out functions alone", () => {
      assert.equal(
        m.transformFunctionProps("aws:s3/bucket:Bucket", "b", { bucket: "x" }, settings()),
        undefined,
      );
      const optedOut = { ...props(), tags: { "firefly:instrument": "false" } };
      assert.equal(m.transformFunctionProps(FUNCTION_TYPE, "checkout", optedOut, settings()), undefined);
      assert.ok(m.optedOut({ "firefly:instrument": "FALSE" }));
      assert.ok(!m.optedOut({ "firefly:instrument": "true" }));
      assert.ok(!m.optedOut(undefined));
    });

    it("names the function by its physical name when set, else by the resource name", () => {
      const five = [1, 2, 3, 4, 5].map((n) => `${USER_LAYER}${n}`);
      assert.throws(
        () => m.transformFunctionProps(FUNCTION_TYPE, "checkout", { ...props(), layers: five }, settings()),
        /function checkout-fn:/,
      );
      const { name: _n, ...unnamed } = props();
      assert.throws(
        () => m.transformFunctionProps(FUNCTION_TYPE, "checkout", { ...unnamed, layers: five }, settings()),
        /function checkout:/,
      );
    });

    it("fireflyTransform wraps it in the shape registerResourceTransform expects", async () => {
      const transform = m.fireflyTransform(settings());
      const opts = { protect: true };
      const result = await transform({
        custom: true,
        type: FUNCTION_TYPE,
        name: "checkout",
        props: props(),
        opts,
      });
      assert.ok(result);
      assert.equal(result.opts, opts);
      assert.equal(
        plain(await pulumi.runtime.serializeProperties("p", result.props)).handler,
        FIREFLY_HANDLER,
      );
      assert.equal(
        await transform({ custom: true, type: "aws:s3/bucket:Bucket", name: "b", props: {}, opts }),
        undefined,
      );
    });
  });
});
