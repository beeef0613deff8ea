// The Firefly program itself (index.ts, Pulumi.yaml) through `pulumi preview` on the real engine, with
// the stand-in cloud providers and the configurations README.md's "Run it" shows: its set-up commands
// preview cleanly, and each sample config error prints exactly as the README shows it, with no stack
// trace. The commands and the sample are read from the README.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Engine, ROOT, scratch } from "./harness";

function runItSection(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Run it");
  assert.ok(start >= 0, "README.md has no Run it section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** `pulumi config set …` lines of the section's shell blocks, without comments. */
function configCommands(section: string): string[][] {
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks
    .flatMap((b) => b.split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.startsWith("pulumi config set "))
    .map((l) => [...l.slice("pulumi ".length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]));
}

interface Problem {
  key: string;
  value: string;
  lines: string[];
}

/** The problems of the section's sample error, each with the lines the README prints for it. */
function sampleProblems(section: string): Problem[] {
  const sample = [...section.matchAll(/```\n(Invalid Firefly stack configuration[\s\S]*?)```/g)].map(
    (m) => m[1],
  );
  assert.equal(sample.length, 1, "README's Run it shows one sample config error");
  const problems: Problem[] = [];
  for (const line of sample[0].split("\n").slice(1)) {
    const m = line.match(/^ {2}- (firefly:[\w.]+) = (.+?): /);
    if (m) problems.push({ key: m[1], value: JSON.parse(m[2]), lines: [line] });
    else if (line.trim()) problems[problems.length - 1].lines.push(line);
  }
  assert.ok(problems.length > 0, "no problems parsed from the README's sample error");
  return problems;
}

/** A README line as a pattern: the README shortens a parenthesis to "(…)". */
function readmeLine(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(escaped.replaceAll("\\(…\\)", "\\([^)]*\\)"));
}

describe("the Firefly program on the real Pulumi engine", function () {
  this.timeout(300_000);
  const section = runItSection();
  let engine: Engine;
  let STACK: string;

  before(() => {
    engine = Engine.setUp();
    STACK = engine.newStack(ROOT, `engine-test-${process.pid}`);
  });

  after(() => {
    // The passphrase's salt lands in the stack's settings file beside Pulumi.yaml.
    fs.rmSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), { force: true });
  });

  const preview = (configFile: string) =>
    engine.pulumi(["preview", "--stack", STACK, "--config-file", configFile], ROOT, { allowFailure: true });

  it("previews the README's set-up commands without an error", () => {
    const commands = configCommands(section);
    assert.ok(commands.length > 0, "no `pulumi config set` in README's Run it");
    const file = path.join(scratch("config"), "config.yaml");
    for (const args of commands) engine.pulumi([...args, "--stack", STACK, "--config-file", file], ROOT);
    const r = preview(file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /firefly:index:Firefly/);
    assert.match(r.stdout, /\+ \d+ to create/);
  });

  for (const problem of sampleProblems(section)) {
    it(`prints the README's error for ${problem.key} = ${JSON.stringify(problem.value)}, without a stack trace`, () => {
      const file = path.join(scratch("config"), "config.yaml");
      const set = ["config", "set", "--path", problem.key, String(problem.value), "--stack", STACK];
      engine.pulumi([...set, "--config-file", file], ROOT);
      const r = preview(file);
      const out = r.stdout + r.stderr;
      assert.notEqual(r.status, 0, out);
      assert.match(out, /error: Invalid Firefly stack configuration \(1 problem\):/);
      for (const line of problem.lines) assert.match(out, readmeLine(line), `missing README line "${line}"`);
      assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, "stack trace");
      assert.doesNotMatch(out, /^\s*\+\s+(aws|docker|random|tls|kubernetes):/m, "a resource was planned");
    });
  }
});
