import * as assert from "node:assert/strict";
import * as path from "node:path";
import { HandlerError, loadHandler } from "../../layer/src/loader";

const fn = path.join(__dirname, "fixtures/fn");
const esm = path.join(__dirname, "fixtures/esm");

describe("layer handler resolution (as the Node.js runtime resolves handlers)", () => {
  const cases: [string, string, string, unknown][] = [
    ["CommonJS .js, async", fn, "index.handler", { echo: 1 }],
    ["ESM .js under type: module", esm, "index.handler", { style: "esm" }],
    [".mjs in a CommonJS package, top-level await", fn, "module.handler", { style: "mjs", ready: "ready" }],
    ["nested path and nested export", fn, "src/nested/app.handlers.main", { nested: true }],
  ];
  for (const [title, root, handler, expected] of cases) {
    it(`${title}: ${handler}`, async () => {
      const loaded = await loadHandler(root, handler);
      const result = (await loaded(1, { awsRequestId: "r" })) as Record<string, unknown>;
      for (const [key, value] of Object.entries(expected as object)) assert.deepEqual(result[key], value);
    });
  }

  it(".cjs files load as CommonJS", async () => {
    const loaded = await loadHandler(fn, "legacy.handler");
    assert.equal(typeof loaded, "function");
    assert.equal(loaded.length, 2);
  });

  it("callback-style handlers are returned as they are", async () => {
    const loaded = await loadHandler(fn, "callback.handler");
    assert.equal(loaded.length, 3);
  });

  const errors: [string, string | undefined, RegExp][] = [
    ["unset", undefined, /FIREFLY_HANDLER is not set.*index\.handler/],
    ["no export part", "index", /malformed.*<file>\.<export>/],
    ["parent directory", "../index.handler", /must not contain "\.\."/],
    ["missing export", "index.nope", /is undefined or not exported/],
    ["export not a function", "src/nested/app.handlers", /is not a function/],
  ];
  for (const [title, handler, message] of errors) {
    it(`rejects ${title} with a message naming FIREFLY_HANDLER`, async () => {
      await assert.rejects(
        loadHandler(fn, handler),
        (e: Error) => e instanceof HandlerError && message.test(e.message),
      );
    });
  }

  it("a missing module fails with the runtime's MODULE_NOT_FOUND", async () => {
    await assert.rejects(
      loadHandler(fn, "nothere.handler"),
      (e: NodeJS.ErrnoException) => e.code === "MODULE_NOT_FOUND",
    );
  });
});
