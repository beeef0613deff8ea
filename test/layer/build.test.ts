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
      "firefly/auto.cjs",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/package.json",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.js",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.d.ts",
    ]) {
      assert.ok(modes.has(file), `${file} in the zip`);
    }
    assert.match(modes.get("firefly-wrapper") ?? "", /^-rwxr-xr-x/);
  });

  it("is self-contained: its bundles import node built-ins only (no node_modules, no AWS SDK)", () => {
    const opt = unpackLayer();
    for (const file of [
      "firefly/handler.mjs",
      "firefly/auto.cjs",
      "nodejs/node_modules/@firefly-o11y/aws-sdk/index.js",
    ]) {
      const code = readFileSync(path.join(opt, file), "utf8");
      const specifiers = [...code.matchAll(/(?:from|import\(|require\()\s*"([^"]+)"/g)].map((m) => m[1]);
      // handler.mjs does import built-ins: a pattern that found nothing there would prove nothing.
      if (file.endsWith(".mjs"))
        assert.ok(specifiers.includes("node:http"), "the pattern finds handler.mjs's imports");
      for (const specifier of specifiers) assert.match(specifier, /^node:/, `${file} imports ${specifier}`);
    }
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
