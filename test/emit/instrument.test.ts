// The merge rule itself: keeps what the function had, adds Firefly, refuses what Lambda would reject.
import * as assert from "node:assert/strict";
import { parseKeyPairsIntoRecord } from "@opentelemetry/core";
import fc from "fast-check";
import { InstrumentationMode } from "../../components/config";
import {
  envBytes,
  FIREFLY_HANDLER,
  FIREFLY_WRAPPER,
  type FunctionConfig,
  type InstrumentationSettings,
  instrumentedBy,
  isInstrumented,
  mergeConfiguration,
  restoreConfiguration,
  skipReason,
} from "../../components/emit/instrument";

const LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:firefly:7";
const settings: InstrumentationSettings = {
  layerArn: LAYER,
  mode: InstrumentationMode.Handler,
  otlpEndpoint: "https://ingest.example.com",
  otlpToken: "s3cr3t",
  sampler: "parentbased_traceidratio",
  samplerArg: "0.5",
  flushTimeoutMs: 1500,
};
const userLayer = (n: number) => `arn:aws:lambda:eu-west-1:123456789012:layer:deps-${n}:1`;
const fn: FunctionConfig = {
  handler: "src/index.handler",
  env: { DB_HOST: "db", OTEL_SERVICE_NAME: "orders", OTEL_TRACES_SAMPLER: "always_on" },
  layers: [userLayer(1), userLayer(2)],
};

describe("mergeConfiguration", () => {
  it("keeps every env var and layer, adds the layer, the handler redirection and Firefly's variables", () => {
    const merged = mergeConfiguration("orders", fn, settings);
    assert.equal(merged.handler, FIREFLY_HANDLER);
    assert.deepEqual(merged.layers, [userLayer(1), userLayer(2), LAYER]);
    assert.deepEqual(merged.env, {
      DB_HOST: "db",
      OTEL_SERVICE_NAME: "orders",
      // The function's own sampler wins over Firefly's preference.
      OTEL_TRACES_SAMPLER: "always_on",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://ingest.example.com",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer s3cr3t",
      FIREFLY_HANDLER: "src/index.handler",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
      FIREFLY_FLUSH_TIMEOUT_MS: "1500",
    });
  });

  it("in wrapper mode leaves the handler and sets AWS_LAMBDA_EXEC_WRAPPER", () => {
    const merged = mergeConfiguration("orders", fn, { ...settings, mode: InstrumentationMode.Wrapper });
    assert.equal(merged.handler, "src/index.handler");
    assert.equal(merged.env.AWS_LAMBDA_EXEC_WRAPPER, FIREFLY_WRAPPER);
    assert.equal(merged.env.FIREFLY_HANDLER, undefined);
  });

  it("encodes the token so the layer's header parser reads back exactly `Bearer <token>`", () => {
    for (const token of ["s3cr3t", "a,b;c=d%e f", "eyJh==.x+/y"]) {
      const merged = mergeConfiguration("orders", fn, { ...settings, otlpToken: token });
      assert.deepEqual(parseKeyPairsIntoRecord(merged.env.OTEL_EXPORTER_OTLP_HEADERS), {
        authorization: `Bearer ${token}`,
      });
    }
  });

  it("sends no auth header without a token", () => {
    const merged = mergeConfiguration("orders", fn, { ...settings, otlpToken: undefined });
    assert.equal(merged.env.OTEL_EXPORTER_OTLP_HEADERS, undefined);
  });

  it("replaces an older version of the Firefly layer instead of stacking a second copy", () => {
    const old = "arn:aws:lambda:eu-west-1:123456789012:layer:firefly:6";
    const merged = mergeConfiguration("orders", { ...fn, layers: [old, userLayer(1)] }, settings);
    assert.deepEqual(merged.layers, [userLayer(1), LAYER]);
  });

  it("refuses a sixth layer, naming the function, the limit and the fix", () => {
    const five = { ...fn, layers: [1, 2, 3, 4, 5].map(userLayer) };
    assert.throws(
      () => mergeConfiguration("orders", five, settings),
      /Cannot instrument Lambda function orders: it already has 5 other layers and Lambda allows 5 in all.*firefly:instrument=false/,
    );
    assert.doesNotThrow(() =>
      mergeConfiguration("orders", { ...fn, layers: [1, 2, 3, 4].map(userLayer) }, settings),
    );
  });

  it("measures the environment the way Lambda does: as compact JSON", () => {
    assert.equal(envBytes({ A: "b" }), '{"A":"b"}'.length);
    assert.equal(envBytes({}), 2);
    assert.equal(envBytes({ K: "é" }), 10, "UTF-8 bytes, not characters");
  });

  it("refuses an environment over 4 KB once Firefly's variables are in", () => {
    const big = { ...fn, env: { BLOB: "x".repeat(4096 - 4 - 200) } };
    assert.ok(envBytes(big.env) <= 4096, "the function alone is within the limit");
    assert.throws(
      () => mergeConfiguration("orders", big, settings),
      /environment would be \d+ bytes \(as JSON\) with Firefly's variables, over Lambda's 4096-byte limit/,
    );
  });

  it("refuses to overwrite a wiring variable the function sets differently, without echoing a secret", () => {
    assert.throws(
      () =>
        mergeConfiguration(
          "orders",
          { ...fn, env: { OTEL_EXPORTER_OTLP_ENDPOINT: "https://vendor" } },
          settings,
        ),
      /already sets OTEL_EXPORTER_OTLP_ENDPOINT to "https:\/\/vendor"/,
    );
    assert.throws(
      () =>
        mergeConfiguration(
          "orders",
          { ...fn, env: { OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=hunter2" } },
          settings,
        ),
      (err: Error) =>
        /OTEL_EXPORTER_OTLP_HEADERS to another value/.test(err.message) && !err.message.includes("hunter2"),
    );
    assert.throws(
      () =>
        mergeConfiguration(
          "orders",
          { ...fn, env: { AWS_LAMBDA_EXEC_WRAPPER: "/opt/otel-handler" } },
          { ...settings, mode: InstrumentationMode.Wrapper },
        ),
      /already sets AWS_LAMBDA_EXEC_WRAPPER to "\/opt\/otel-handler"/,
    );
  });

  const arbEnv = fc.dictionary(
    fc
      .stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/)
      .filter((k) => !k.startsWith("OTEL_") && !k.startsWith("FIREFLY") && !k.startsWith("AWS_")),
    fc.string({ maxLength: 40 }),
    { maxKeys: 8 },
  );
  const arbConfig = fc.record({
    handler: fc.stringMatching(/^[a-z]{1,8}\.[a-z]{1,8}$/),
    env: arbEnv,
    layers: fc.uniqueArray(fc.integer({ min: 1, max: 50 }).map(userLayer), { maxLength: 4 }),
  });
  const arbMode = fc.constantFrom(InstrumentationMode.Handler, InstrumentationMode.Wrapper);

  it("is idempotent, and restore(merge(f)) gives f back exactly (property)", () => {
    fc.assert(
      fc.property(arbConfig, arbMode, (generated, mode) => {
        // fast-check builds null-prototype objects; the function sees plain ones.
        const config = { ...generated, env: { ...generated.env } };
        const s = { ...settings, mode };
        const merged = mergeConfiguration("f", config, s);
        assert.deepEqual(mergeConfiguration("f", merged, s), merged);
        assert.ok(isInstrumented(merged, merged));
        assert.deepEqual(restoreConfiguration(merged, merged, config), config);
        // Key order too: Lambda stores the map as given, and "byte for byte" includes it.
        assert.equal(JSON.stringify(restoreConfiguration(merged, merged, config)), JSON.stringify(config));
      }),
    );
  });

  it("restore keeps what others changed meanwhile and removes only Firefly's additions", () => {
    const merged = mergeConfiguration("orders", fn, settings);
    const meanwhile = {
      ...merged,
      env: { ...merged.env, ADDED: "1", DB_HOST: "db2" },
      layers: [...merged.layers, userLayer(9)],
    };
    const restored = restoreConfiguration(meanwhile, merged, fn);
    assert.deepEqual(restored, {
      handler: "src/index.handler",
      env: { DB_HOST: "db2", OTEL_SERVICE_NAME: "orders", OTEL_TRACES_SAMPLER: "always_on", ADDED: "1" },
      layers: [userLayer(1), userLayer(2), userLayer(9)],
    });
    assert.equal(
      isInstrumented(meanwhile, merged),
      false,
      "DB_HOST moved on, so not everything applied is in place",
    );
  });

  it("recognises a function Firefly already instrumented", () => {
    assert.equal(instrumentedBy(fn, LAYER), undefined);
    assert.match(instrumentedBy(mergeConfiguration("orders", fn, settings), LAYER)!, /handler is/);
    assert.match(
      instrumentedBy({ ...fn, layers: ["arn:aws:lambda:eu-west-1:123456789012:layer:firefly:1"] }, LAYER)!,
      /has the layer/,
    );
  });
});

describe("skipReason", () => {
  it("instruments the Node.js runtimes the layer is built for", () => {
    assert.equal(skipReason("nodejs20.x", "Zip"), undefined);
    assert.equal(skipReason("nodejs22.x", undefined), undefined);
  });
  it("says why it skips image-based, non-Node.js, unsupported and unknown runtimes", () => {
    assert.match(skipReason(undefined, "Image")!, /image-based functions take no layers/);
    assert.match(skipReason("python3.12", "Zip")!, /python3\.12 is not Node\.js/);
    assert.match(skipReason("nodejs18.x", "Zip")!, /nodejs18\.x is not one the layer supports/);
    assert.match(skipReason(undefined, "Zip")!, /not known while planning/);
  });
});
