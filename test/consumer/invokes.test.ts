// docs/consuming.md lists the invokes a user must answer to unit-test a program that uses the components.
// The list must be the lookups the components' sources make, and what the stand-in cloud (the tests'
// mocks and the real-engine stand-in provider) answers, so it cannot drift from either.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../engine/harness";
import { invoke } from "../engine/standin/cloud";

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** `aws.ec2\n .getSubnetOutput(` → aws:ec2/getSubnet:getSubnet; `aws.getRegionOutput(` → aws:index/getRegion:getRegion */
function invokedTokens(): string[] {
  const tokens = new Set<string>();
  for (const file of sources(path.join(ROOT, "components"))) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(
      /\b(aws|docker|random|tls|k8s|kubernetes)((?:\.\w+)*)\s*\.(get\w+?)(?:Output)?\(/g,
    )) {
      const pkg = m[1] === "k8s" ? "kubernetes" : m[1];
      const mod = m[2] ? m[2].slice(1).replace(/\./g, "/") : "index";
      tokens.add(`${pkg}:${mod}/${m[3]}:${m[3]}`);
    }
  }
  return [...tokens].sort();
}

function documentedTokens(): string[] {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "consuming.md"), "utf8");
  const table = doc.split("<!-- invokes-to-mock -->")[1]?.split("\n\n")[0] ?? "";
  return [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).sort();
}

describe("the invokes docs/consuming.md tells users to mock", () => {
  it("are the lookups the components make", () => {
    const made = invokedTokens();
    assert.ok(made.includes("aws:index/getRegion:getRegion"), "the source scan found nothing");
    assert.deepEqual(documentedTokens(), made);
  });

  it("are each answered by the stand-in cloud the tests use", () => {
    for (const token of documentedTokens())
      assert.doesNotThrow(() => invoke(token, { id: "x", instanceId: "i-1", functionName: "orders" }), token);
  });
});
