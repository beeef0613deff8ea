// The README is for users; these keep its settings table and its test command true to the code.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, SETTINGS, validateConfig } from "../../components/config";
import { LAYER_RUNTIMES } from "../../components/emit/instrument";

const root = join(__dirname, "..", "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

function defaultCell(setting: any): string {
  if (setting.secret) return /generated/.test(setting.description) ? "generated once" : "none";
  if (setting.default === undefined) return "—";
  if (Array.isArray(setting.default)) return setting.default.length ? setting.default.join(", ") : "none";
  return String(setting.default);
}

describe("README", () => {
  it("lists every setting with its type, default and meaning as validated", () => {
    for (const [name, setting] of Object.entries(SETTINGS) as [string, any][]) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`firefly:${name}\` |`));
      assert.ok(row, `README has no row for firefly:${name}`);
      const cells = row.split(" | ").map((c) => c.trim());
      assert.equal(cells[1], setting.secret ? "secret string" : setting.kind, `type of firefly:${name}`);
      assert.equal(cells[2], defaultCell(setting), `default of firefly:${name}`);
      assert.equal(
        cells[3].replace(/ \|$/, ""),
        setting.description.replace(/\|/g, "\\|"),
        `meaning of firefly:${name}`,
      );
    }
  });

  it("gives the test command CI runs", () => {
    const ci = readFileSync(join(root, ".ci", "run"), "utf8");
    assert.match(ci, /^npm test$/m, ".ci/run runs npm test");
    assert.match(readme, /^npm test\b/m, "README gives npm test");
    assert.match(readme, /^bash \.ci\/run\b/m);
  });

  it("sets up with npm ci and pulumi up alone: Run it needs no layer build", () => {
    const runIt = readme.slice(readme.indexOf("## Run it"), readme.indexOf("## Test it"));
    assert.match(runIt, /^npm ci$/m);
    assert.match(runIt, /^pulumi up$/m);
    assert.doesNotMatch(
      runIt,
      /^npm run build/m,
      "the first pulumi up builds the layer (components/emit/layer.ts)",
    );
  });

  it("Run it's commands make a configuration the program accepts", () => {
    const runIt = readme.slice(readme.indexOf("## Run it"), readme.indexOf("## Test it"));
    const sets = [...runIt.matchAll(/^pulumi config set (--path )?'?firefly:([\w.[\]]+)'? (\S+)/gm)];
    assert.ok(sets.length >= 2, "no firefly settings in Run it");
    // The ec2 block and the docker alternative, each on its own.
    const ec2 = { host: "ec2", functions: JSON.stringify(["my-existing-function"]) };
    validateConfig({ values: ec2 });
    const publicUrl = sets.find((m) => m[2] === "docker.publicUrl")?.[3];
    assert.ok(publicUrl, "Run it shows the docker alternative");
    validateConfig({ values: { docker: JSON.stringify({ publicUrl }) } });
  });

  it("shows a sample error the code really prints, for the settings it names", () => {
    const m = /<!-- readme-sample-error: (\{.*\}) -->\n```\n([\s\S]*?)\n```/.exec(readme);
    assert.ok(m, "README has no marked sample error");
    assert.throws(
      () => validateConfig({ values: JSON.parse(m[1]) }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(m[2], err.message);
        return true;
      },
    );
  });

  it("names exactly the runtimes the layer is published for", () => {
    const limits = readme.slice(readme.indexOf("## Limits"));
    const named = limits.slice(0, limits.indexOf("zip packages")).match(/nodejs\d+\.x/g) ?? [];
    assert.deepEqual([...new Set(named)].sort(), [...LAYER_RUNTIMES].sort());
  });
});
