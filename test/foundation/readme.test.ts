// The README is for users; these keep its settings table and its test command true to the code.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../../components/config";

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

  it("gives the deploy command and the layer build it needs", () => {
    assert.match(readme, /^npm run build:layer\b/m);
    assert.match(readme, /^pulumi up$/m);
  });
});
