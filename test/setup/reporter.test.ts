// The reporter CI relies on: with CI=true any skipped test fails the run and is named; elsewhere a skip
// is reported as a skip. Runs mocha on a fixture in a child process, as CI runs npm test.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "../..");
const run = (ci: boolean) => {
  const env = { ...process.env };
  if (ci) env.CI = "true";
  else delete env.CI;
  return spawnSync(
    process.execPath,
    [
      require.resolve("mocha/bin/mocha.js"),
      "--no-config",
      "--reporter",
      path.join(REPO, "test/setup/reporter.js"),
      path.join(REPO, "test/setup/fixtures/skips.js"),
    ],
    { cwd: REPO, env, encoding: "utf8" },
  );
};

describe("test reporter", function () {
  this.timeout(60_000);

  it("with CI=true fails the run on every skip and names each", () => {
    const r = run(true);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout, /CI=true expects no skipped test; 3 skipped and failed the run:/);
    for (const name of [
      "tool-dependent needs a tool",
      "plain skips itself",
      "plain is skipped in the source",
    ])
      assert.ok(r.stdout.includes(`  - ${name}`), `${name} not named:\n${r.stdout}`);
    assert.match(r.stdout, /^tests: 1 passed, 3 failed, 0 skipped$/m);
  });

  it("elsewhere reports skips as skips and passes", () => {
    const r = run(false);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^tests: 1 passed, 0 failed, 3 skipped$/m);
  });
});
