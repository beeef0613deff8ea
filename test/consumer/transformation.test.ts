// fireflyTransformation: the stack transform's instrumentation in the form Pulumi's mocks run, so a user's
// unit tests see their functions instrumented. Shown on a real aws.lambda.Function under mocks, next to
// registerResourceTransform, which the mocks leave alone (why the helper exists).
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fireflyTransformation, InstrumentationMode } from "../../components";
import { SETTINGS } from "../../components/config";
import { FIREFLY_HANDLER } from "../../components/emit/instrument";
import { plain } from "../emit/rpc";

const LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:firefly:4";

class App extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:App", name, {}, opts);
    new aws.lambda.Function(
      `${name}-orders`,
      {
        runtime: "nodejs22.x",
        handler: "index.handler",
        role: "arn:aws:iam::123456789012:role/orders",
        code: new pulumi.asset.AssetArchive({}),
      },
      { parent: this },
    );
  }
}

describe("fireflyTransformation under Pulumi's mocks", () => {
  const functions: Record<string, any> = {};

  before(async () => {
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          if (args.type === "aws:lambda/function:Function") functions[args.name] = plain(args.inputs);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "consumer",
      "test",
      false,
    );
    const settings = {
      layerArn: LAYER,
      mode: InstrumentationMode.Handler,
      otlpEndpoint: "https://otel.example.com",
    };
    new App("with", { transformations: [fireflyTransformation(settings)] });
    new App("without");
    await new Promise((r) => setTimeout(r, 500));
  });

  it("instruments the functions of the resource it is given to", () => {
    const f = functions["with-orders"];
    assert.ok(f, "the function was not registered");
    assert.equal(f.handler, FIREFLY_HANDLER);
    assert.deepEqual(f.layers, [LAYER]);
    assert.equal(f.environment.variables.FIREFLY_HANDLER, "index.handler");
    assert.equal(f.environment.variables.OTEL_EXPORTER_OTLP_ENDPOINT, "https://otel.example.com");
  });

  it("gives them the same flush budget as firefly:flushTimeoutMs's default, not the layer's 1000 ms", () => {
    const env = functions["with-orders"].environment.variables;
    assert.equal(env.FIREFLY_FLUSH_TIMEOUT_MS, String(SETTINGS.flushTimeoutMs.default));
    assert.equal(env.FIREFLY_FLUSH_TIMEOUT_MS, "500");
  });

  it("leaves other functions alone", () => {
    assert.equal(functions["without-orders"].handler, "index.handler");
    assert.equal(functions["without-orders"].layers, undefined);
  });
});
