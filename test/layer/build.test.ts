import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { LAYER_ZIP, unpackLayer } from "./runtime";

describe("layer zip (npm run build:layer)", () => {
  it("is laid out for /opt, with an executable wrapper", () => {
    // `unzip -Z` lists unix modes: the wrapper must keep its x bits or Lambda cannot exec it.
    const listing = execFileSync("unzip", ["-Z", LAYER_ZIP], { encoding: "utf8" });
    const modes = new Map(
      listing
        .split("\n")
        .filter((l) => /^[-d]r/.test(l))
        .map((l) => [l.split(/\s+/).at(-1), l.split(/\s+/)[0]]),
    );
    for (const file of [
      "firefly-wrapper",
      "firefly/handler.mjs",
      "firefly/layer.cjs",
      "firefly/serialize.cjs",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/package.json",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.js",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.d.ts",
    ]) {
      assert.ok(modes.has(file), `${file} in the zip`);
    }
    assert.match(modes.get("firefly-wrapper") ?? "", /^-rwxr-xr-x/);
  });

  it("is self-contained: its bundles import node built-ins and each other only (no node_modules, no AWS SDK)", () => {
    const opt = unpackLayer();
    const own = new Set(["./layer.cjs", "./serialize.cjs"]);
    for (const file of [
      "firefly/handler.mjs",
      "firefly/layer.cjs",
      "firefly/serialize.cjs",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.js",
    ]) {
      const code = readFileSync(path.join(opt, file), "utf8");
      const specifiers = [...code.matchAll(/(?:from|import\(|require\()\s*"([^"]+)"/g)].map((m) => m[1]);
      // layer.cjs does require built-ins: a pattern that found nothing there would prove nothing.
      if (file === "firefly/layer.cjs")
        assert.ok(specifiers.includes("node:net"), "the pattern finds layer.cjs's requires");
      for (const specifier of specifiers)
        assert.ok(/^node:/.test(specifier) || own.has(specifier), `${file} imports ${specifier}`);
    }
  });

  it("keeps init light: the ES module entry imports no built-in but node:module, and the serialisers load at the first export", () => {
    const opt = unpackLayer();
    // An ES module import of a built-in builds a namespace of all its exports; node:http's loads
    // undici, TLS and HTTP/2 (30–50 ms of init on Node 22 and 24).
    const entry = readFileSync(path.join(opt, "firefly/handler.mjs"), "utf8");
    const imports = [...entry.matchAll(/\bfrom\s*"([^"]+)"|import\(\s*"([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    assert.deepEqual(imports, ["node:module"]);
    const layer = readFileSync(path.join(opt, "firefly/layer.cjs"), "utf8");
    const serializers = readFileSync(path.join(opt, "firefly/serialize.cjs"), "utf8");
    assert.match(serializers, /serializeRequest/);
    assert.doesNotMatch(layer, /serializeRequest/, "layer.cjs carries no serialiser");
    assert.match(layer, /require\("\.\/serialize\.cjs"\)/);
    // No esbuild lazy-module wrapper (its minified body: `t&&(e=t(t=0))`): a dynamic import in a
    // dependency sets them off, and they evaluate the whole OpenTelemetry API at init.
    assert.doesNotMatch(layer, /(\w+)&&\((\w+)=\1\(\1=0\)\)/);
  });

  it("the plugin package loads with require() from the layer's node_modules, as NODE_PATH makes it in Lambda", () => {
    const opt = unpackLayer();
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        'const p = require("@firefly-o11y/aws-sdk"); console.log(typeof p.firefly, typeof p.firefly().applyToStack)',
      ],
      {
        env: { PATH: process.env.PATH, NODE_PATH: path.join(opt, "nodejs/node_modules") },
        encoding: "utf8",
        cwd: opt,
      },
    );
    assert.equal(out.trim(), "function function");
  });

  it("ES modules import the plugin by its path (Node's ESM resolution ignores NODE_PATH)", () => {
    const entry = path.join(unpackLayer(), "nodejs/node_modules/@firefly-o11y/aws-sdk/index.js");
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { firefly } from ${JSON.stringify(entry)}; console.log(typeof firefly)`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "function");
  });
});
