// The seam between instrumentation and the layer: the configuration mergeConfiguration produces (handler,
// env names, header encoding) runs a function under the real runtime interface client with the built
// layer, and its spans reach an OTLP endpoint that insists on the token.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InstrumentationMode } from "../../components/config";
import { FIREFLY_HANDLER, FIREFLY_WRAPPER, mergeConfiguration } from "../../components/emit/instrument";
import { startOtlpReceiver } from "../layer/otlp";
import { LAYER_ZIP, startFunction, unpackLayer } from "../layer/runtime";

const TOKEN = "t0k,en;%=/+";

describe("instrumented configuration under the real runtime with the built layer", function () {
  this.timeout(60_000);
  let taskRoot: string;

  before(() => {
    if (!fs.existsSync(LAYER_ZIP)) throw new Error(`${LAYER_ZIP} is missing: run npm run build:layer`);
    taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-fn-"));
    fs.writeFileSync(
      path.join(taskRoot, "app.js"),
      "exports.handler = async () => ({ db: process.env.DB_HOST, own: 'app.handler' });\n",
    );
  });
  after(() => fs.rmSync(taskRoot, { recursive: true, force: true }));

  for (const mode of [InstrumentationMode.Handler, InstrumentationMode.Wrapper]) {
    it(`${mode} mode: the function keeps its env and behaviour, and its span arrives with the token`, async () => {
      const receiver = await startOtlpReceiver({ authorization: `Bearer ${TOKEN}` });
      const original = { handler: "app.handler", env: { DB_HOST: "db.internal" }, layers: [] };
      const merged = mergeConfiguration("orders", original, {
        layerArn: "arn:aws:lambda:us-east-1:123456789012:layer:firefly:1",
        mode,
        otlpEndpoint: receiver.url,
        otlpToken: TOKEN,
        flushTimeoutMs: 3000,
      });
      // Lambda mounts the layer at /opt; the harness unpacks it to a temp dir, so the paths move with it.
      const opt = unpackLayer();
      const env = Object.fromEntries(
        Object.entries(merged.env).map(([k, v]) => [k, v.startsWith("/opt/") ? `${opt}/${v.slice(5)}` : v]),
      );
      if (mode === InstrumentationMode.Handler) assert.equal(merged.handler, FIREFLY_HANDLER);
      else assert.equal(env.AWS_LAMBDA_EXEC_WRAPPER, `${opt}/${FIREFLY_WRAPPER.slice(5)}`);

      const fn = await startFunction({
        // The harness sets the handler to <opt>/firefly/handler.handler in redirect mode: FIREFLY_HANDLER's form.
        mode: mode === InstrumentationMode.Handler ? "redirect" : "wrapper",
        taskRoot,
        handler: original.handler,
        env,
        functionName: "orders",
      });
      try {
        const out = await fn.invoke({ hello: "world" });
        assert.ok(out.ok, `invocation failed: ${JSON.stringify(out.error)}\n${fn.log}`);
        assert.deepEqual(out.result, { db: "db.internal", own: "app.handler" });
        const spans = await receiver.waitForSpans(1, 10_000);
        const server = spans.find((s) => s.kind === 2);
        assert.ok(server, `no SERVER span among ${spans.map((s) => s.name)}`);
        assert.equal(server.resource["service.name"], "orders");
        assert.ok(
          receiver.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`),
          "every export carried the token",
        );
      } finally {
        await fn.stop();
        await receiver.close();
      }
    });
  }
});
