// The existing-function provider against moto's Lambda API: instrument, re-run, update, drift, destroy.
import * as assert from "node:assert/strict";
import Module from "node:module";
import * as path from "node:path";
import {
  CreateFunctionCommand,
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import * as pulumi from "@pulumi/pulumi";
import { InstrumentationMode } from "../../components/config";
import {
  type ExistingFunctionInputs,
  existingFunctionProvider as provider,
} from "../../components/emit/existingFunction";
import { FIREFLY_HANDLER, FIREFLY_WRAPPER } from "../../components/emit/instrument";
import { createRole, type Moto, makeZip, REGION, startMoto, tapLambda } from "./moto";

type Provider = typeof provider;

const code = makeZip({ "src/index.js": "exports.handler = async () => 'ok';\n" });
const layerZip = makeZip({ "nodejs/node_modules/dep/index.js": "module.exports = 1;\n" });

// What `pulumi destroy` must give back: everything GetFunctionConfiguration says, except the two fields
// every update changes by definition.
function snapshot(cfg: FunctionConfiguration): string {
  const {
    LastModified: _m,
    RevisionId: _r,
    $metadata: _d,
    ...rest
  } = cfg as FunctionConfiguration & {
    $metadata?: unknown;
  };
  return JSON.stringify(rest);
}

describe("existing-function provider (moto Lambda API)", function () {
  this.timeout(120_000);
  let moto: Moto;
  let role: string;
  let lambda: LambdaClient;
  let userLayer: string;
  let fireflyV1: string;
  let fireflyV2: string;
  let counter = 0;

  const get = (name: string) => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));

  async function publish(name: string): Promise<string> {
    const out = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: name,
        Content: { ZipFile: layerZip },
        CompatibleRuntimes: ["nodejs22.x"],
      }),
    );
    return out.LayerVersionArn!;
  }

  async function createFunction(extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {}) {
    const name = `fn-${++counter}`;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: "nodejs22.x",
        Role: role,
        Handler: "src/index.handler",
        Code: { ZipFile: code },
        Environment: { Variables: { DB_HOST: "db.internal", FEATURE: "on" } },
        Layers: [userLayer],
        ...extra,
      }),
    );
    return name;
  }

  const inputs = (
    functionName: string,
    over: Partial<ExistingFunctionInputs["settings"]> = {},
  ): ExistingFunctionInputs => ({
    functionName,
    region: REGION,
    settings: {
      layerArn: fireflyV1,
      mode: InstrumentationMode.Handler,
      otlpEndpoint: "https://ingest.example.com",
      otlpToken: "token-1",
      flushTimeoutMs: 2000,
      ...over,
    },
  });

  before(async () => {
    moto = await startMoto();
    moto.useInProcessEnv();
    lambda = new LambdaClient({ region: REGION });
    role = await createRole(moto.endpoint, "fn-role");
    userLayer = await publish("user-deps");
    fireflyV1 = await publish("firefly");
    fireflyV2 = await publish("firefly");
  });
  beforeEach(() => moto.useInProcessEnv());
  after(async () => {
    await moto?.stop();
  });

  function behaves(label: string, load: () => Promise<Provider>) {
    describe(label, () => {
      let p: Provider;
      before(async () => {
        moto.useInProcessEnv();
        p = await load();
      });

      it("instruments, is a no-op on re-run, and destroy restores the configuration byte for byte", async () => {
        const name = await createFunction();
        const before = snapshot(await get(name));

        const { id, outs } = await p.create(inputs(name));
        assert.equal(outs.skipped, "");
        const cfg = await get(name);
        assert.equal(id, cfg.FunctionArn);
        assert.equal(cfg.Handler, FIREFLY_HANDLER);
        assert.deepEqual(
          cfg.Layers?.map((l) => l.Arn),
          [userLayer, fireflyV1],
        );
        assert.deepEqual(cfg.Environment?.Variables, {
          DB_HOST: "db.internal",
          FEATURE: "on",
          OTEL_EXPORTER_OTLP_ENDPOINT: "https://ingest.example.com",
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer token-1",
          FIREFLY_HANDLER: "src/index.handler",
          FIREFLY_FLUSH_TIMEOUT_MS: "2000",
        });

        // Re-run with the same settings: the engine asks diff, which must report nothing to do.
        const refreshed = await p.read(id, outs);
        assert.equal(refreshed.props.inPlace, true);
        const diff = await p.diff(id, refreshed.props, inputs(name));
        assert.equal(diff.changes, false);
        assert.deepEqual(diff.replaces, []);
        // State hands the settings back with keys in its own order, and absent fields may be undefined.
        const reordered = Object.fromEntries(Object.entries(inputs(name).settings).reverse());
        const fromState = { ...refreshed.props, settings: { ...reordered, sampler: undefined } };
        assert.equal((await p.diff(id, fromState as typeof outs, inputs(name))).changes, false);

        await p.delete(id, outs);
        assert.equal(snapshot(await get(name)), before);
      });

      it("update swaps Firefly's own values (token, layer version) and destroy still restores the original", async () => {
        const name = await createFunction();
        const before = snapshot(await get(name));
        const { id, outs } = await p.create(inputs(name));
        const next = inputs(name, { otlpToken: "token-2", layerArn: fireflyV2 });
        const diff = await p.diff(id, outs, next);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, [], "a settings change updates in place");
        const updated = await p.update(id, outs, next);
        const cfg = await get(name);
        assert.equal(cfg.Environment?.Variables?.OTEL_EXPORTER_OTLP_HEADERS, "authorization=Bearer token-2");
        assert.equal(
          cfg.Environment?.Variables?.FIREFLY_HANDLER,
          "src/index.handler",
          "never the Firefly handler",
        );
        assert.deepEqual(
          cfg.Layers?.map((l) => l.Arn),
          [userLayer, fireflyV2],
          "the new layer version replaces the old one",
        );
        await p.delete(id, updated.outs);
        assert.equal(snapshot(await get(name)), before);
      });

      it("wrapper mode sets AWS_LAMBDA_EXEC_WRAPPER and leaves the handler alone", async () => {
        const name = await createFunction({ Environment: undefined, Layers: undefined });
        const before = snapshot(await get(name));
        const { id, outs } = await p.create(inputs(name, { mode: InstrumentationMode.Wrapper }));
        const cfg = await get(name);
        assert.equal(cfg.Handler, "src/index.handler");
        assert.equal(cfg.Environment?.Variables?.AWS_LAMBDA_EXEC_WRAPPER, FIREFLY_WRAPPER);
        assert.equal(cfg.Environment?.Variables?.FIREFLY_HANDLER, undefined);
        assert.deepEqual(
          cfg.Layers?.map((l) => l.Arn),
          [fireflyV1],
        );
        await p.delete(id, outs);
        assert.equal(snapshot(await get(name)), before, "a function without env or layers gets none back");
      });

      it("detects drift on refresh and puts Firefly back on the next update", async () => {
        const name = await createFunction();
        const { id, outs } = await p.create(inputs(name));
        // Someone redeploys the function's configuration without the layer.
        await lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: name, Layers: [userLayer] }),
        );
        const refreshed = (await p.read(id, outs)).props;
        assert.equal(refreshed.inPlace, false);
        assert.equal((await p.diff(id, refreshed, inputs(name))).changes, true);
        const updated = await p.update(id, refreshed, inputs(name));
        assert.deepEqual(
          (await get(name)).Layers?.map((l) => l.Arn),
          [userLayer, fireflyV1],
        );
        await p.delete(id, updated.outs);
      });

      it("destroy keeps changes someone else made meanwhile and takes out only Firefly's", async () => {
        const name = await createFunction();
        const { id, outs } = await p.create(inputs(name));
        const during = (await get(name)).Environment!.Variables!;
        await lambda.send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: name,
            Environment: { Variables: { ...during, ADDED_LATER: "yes" } },
          }),
        );
        await p.delete(id, outs);
        const cfg = await get(name);
        assert.deepEqual(cfg.Environment?.Variables, {
          DB_HOST: "db.internal",
          FEATURE: "on",
          ADDED_LATER: "yes",
        });
        assert.equal(cfg.Handler, "src/index.handler");
        assert.deepEqual(
          cfg.Layers?.map((l) => l.Arn),
          [userLayer],
        );
      });

      it("leaves a Python function alone and says why", async () => {
        const name = await createFunction({ Runtime: "python3.12", Handler: "app.handler" });
        const before = snapshot(await get(name));
        const { outs } = await p.create(inputs(name));
        assert.match(outs.skipped, /python3\.12 is not Node\.js/);
        assert.equal(snapshot(await get(name)), before);
        await p.delete(outs.functionArn, outs);
        assert.equal(snapshot(await get(name)), before);
      });

      it("refuses a function that already sends OTLP elsewhere, and changes nothing", async () => {
        const name = await createFunction({
          Environment: { Variables: { OTEL_EXPORTER_OTLP_ENDPOINT: "https://vendor.example.net" } },
        });
        const before = snapshot(await get(name));
        await assert.rejects(
          p.create(inputs(name)),
          /already sets OTEL_EXPORTER_OTLP_ENDPOINT.*firefly:instrument=false/,
        );
        assert.equal(snapshot(await get(name)), before);
      });

      it("refuses a function with 5 layers already", async () => {
        const extra = await Promise.all([1, 2, 3, 4].map((i) => publish(`more-${i}`)));
        const name = await createFunction({ Layers: [userLayer, ...extra] });
        await assert.rejects(p.create(inputs(name)), /already has 5 other layers and Lambda allows 5/);
      });

      it("names the missing function, the setting and the region", async () => {
        await assert.rejects(
          p.create(inputs("does-not-exist")),
          /does-not-exist was not found in eu-west-1.*firefly:functions/,
        );
      });

      it("accepts a function ARN as well as a name", async () => {
        const name = await createFunction();
        const arn = (await get(name)).FunctionArn!;
        const before = snapshot(await get(name));
        const { id, outs } = await p.create(inputs(arn));
        assert.equal((await get(name)).Handler, FIREFLY_HANDLER);
        await p.delete(id, outs);
        assert.equal(snapshot(await get(name)), before);
      });
    });
  }

  describe("RevisionId (moto neither reports nor checks it: a proxy supplies one and records what is sent)", () => {
    it("updates with the RevisionId it read, and a stale one fails with a clear message and no write", async () => {
      const name = await createFunction();
      const before = await get(name);
      const tap = await tapLambda(moto.endpoint);
      try {
        process.env.AWS_ENDPOINT_URL_LAMBDA = tap.endpoint;
        const { id, outs } = await provider.create(inputs(name));
        const updates = tap.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/configuration"));
        assert.equal(updates.length, 1);
        assert.equal(tap.revisions.length, 1);
        assert.equal(
          JSON.parse(updates[0].body).RevisionId,
          tap.revisions[0],
          "the update carries the id it read",
        );

        tap.rejectNextUpdate = true;
        const instrumented = snapshot(await get(name));
        await assert.rejects(
          provider.delete(id, outs),
          /changed while Firefly was updating it.*run pulumi up again/,
        );
        assert.equal(snapshot(await get(name)), instrumented, "nothing was written");
        await provider.delete(id, outs);
        assert.equal(snapshot(await get(name)), snapshot(before));
      } finally {
        await tap.close();
      }
    });

    it("waits out an update in progress and uses the RevisionId read after it", async () => {
      const name = await createFunction();
      const tap = await tapLambda(moto.endpoint);
      try {
        process.env.AWS_ENDPOINT_URL_LAMBDA = tap.endpoint;
        tap.inProgressReads = 1;
        const { id, outs } = await provider.create(inputs(name));
        const waited = tap.requests.filter((r) => r.method === "GET" && /\/functions\/[^/]+$/.test(r.path));
        assert.ok(waited.length >= 2, "polled GetFunction before reading again and after writing");
        assert.equal(tap.revisions.length, 2, "read again once the update finished");
        const update = tap.requests.find((r) => r.method === "PUT" && r.path.endsWith("/configuration"))!;
        assert.equal(JSON.parse(update.body).RevisionId, tap.revisions[1]);
        await provider.delete(id, outs);
      } finally {
        await tap.close();
      }
    });
  });

  behaves("called directly", async () => provider);

  // What the engine really runs: the provider serialized into the state and loaded back from that text.
  behaves("serialized the way pulumi.dynamic.Resource stores it", async () => {
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const file = path.join(__dirname, "serialized-provider.js");
    const mod = new Module(file, module);
    mod.filename = file;
    mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
      __dirname,
    );
    (mod as unknown as { _compile(code: string, file: string): void })._compile(sf.text, file);
    return (mod.exports as { handler: () => Provider }).handler();
  });
});
