// Pulumi.yaml documents every setting; this keeps it true to the validation table in components/config.ts.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { SETTINGS } from "../../components/config";

const root = join(__dirname, "..", "..");
const text = readFileSync(join(root, "Pulumi.yaml"), "utf8");
const project = parse(text);

describe("Pulumi.yaml", () => {
  it("declares project firefly on the nodejs runtime with index.ts as the program", () => {
    assert.equal(project.name, "firefly");
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.main, "index.ts");
  });

  it("declares every setting that has a default with the same type, default and meaning", () => {
    for (const [name, setting] of Object.entries(SETTINGS) as [string, any][]) {
      if (setting.default === undefined) continue;
      const declared = project.config[`firefly:${name}`];
      assert.ok(declared, `firefly:${name} is not declared`);
      assert.equal(declared.type, setting.kind, `type of firefly:${name}`);
      assert.deepEqual(declared.default, setting.default, `default of firefly:${name}`);
      assert.equal(declared.description, setting.description, `description of firefly:${name}`);
    }
  });

  it("documents every setting without a default (structured and secret ones) in its comments", () => {
    for (const [name, setting] of Object.entries(SETTINGS) as [string, any][]) {
      if (setting.default !== undefined) continue;
      assert.ok(!project.config[`firefly:${name}`], `firefly:${name} would be required if declared`);
      assert.match(
        text,
        new RegExp(`^#\\s+firefly:${name}\\s+\\(`, "m"),
        `firefly:${name} is not documented`,
      );
      assert.ok(text.includes(setting.description), `description of firefly:${name}`);
    }
  });

  it("declares nothing the program does not know", () => {
    for (const key of Object.keys(project.config)) {
      assert.ok(key.replace(/^firefly:/, "") in SETTINGS, `${key} is declared but not validated`);
    }
  });
});
