// The GitHub workflows' supply chain and secrets: every action pinned by commit (its tag kept in a
// comment for people), pull requests from forks kept away from the AWS role and the state secrets,
// and the preview that does get them gated by a reviewed GitHub environment.
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const dir = join(__dirname, "..", "..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const text = (f: string) => readFileSync(join(dir, f), "utf8");

/** Actions left on a tag, each with the reason; the list may only shrink. */
const NOT_YET_PINNED: Record<string, string> = {};

describe("GitHub workflows", () => {
  it("pin every action by commit, with its tag in a comment", () => {
    const uses = files.flatMap((f) =>
      text(f)
        .split("\n")
        .filter((l) => /^\s*-?\s*uses:/.test(l))
        .map((l) => ({ f, line: l.trim() })),
    );
    assert.ok(uses.length >= 6, `found ${uses.length} uses`);
    for (const { f, line } of uses) {
      const ref = line.replace(/^-?\s*uses:\s*/, "").split(/\s+/)[0];
      if (NOT_YET_PINNED[ref]) continue;
      assert.match(ref, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${f}: ${line}`);
      assert.match(line, /# v\d+(\.\d+)*$/, `${f}: ${line} names no tag`);
    }
  });

  it("never run pull request code with write access or secrets through pull_request_target", () => {
    for (const f of files) assert.ok(!/pull_request_target/.test(text(f)), f);
  });

  it("CI needs no secret and reads only", () => {
    const ci = parse(text("ci.yml"));
    assert.deepEqual(ci.permissions, { contents: "read" });
    assert.ok(!/secrets\./.test(text("ci.yml")));
  });

  it("the preview: never for forks, only in the reviewed `preview` environment, least permissions", () => {
    const wf = parse(text("preview.yml"));
    assert.deepEqual(wf.permissions, { contents: "read" }, "workflow-wide: read only");
    const job = wf.jobs.preview;
    assert.match(job.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    assert.equal(job.environment, "preview");
    assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    const checkout = job.steps.find((s: any) => String(s.uses).startsWith("actions/checkout@"));
    assert.equal(checkout.with["persist-credentials"], false);
    assert.match(text("preview.yml"), /Required reviewers/);
    assert.match(text("preview.yml"), /environment:preview/, "the role's trust is bound to the environment");
  });
});
