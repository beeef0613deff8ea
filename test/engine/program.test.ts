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
  // The first block is the set-up; later ones are alternatives to parts of it.
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]).slice(0, 1);
  return blocks
    .flatMap((b) => b.split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.startsWith("pulumi config set "))
    .map((l) => [...l.slice("pulumi ".length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]));
}

/** The README's sample error: the stack config it comes from (its marker comment) and its lines. */
function sampleError(section: string): { config: Record<string, string>; lines: string[] } {
  const m = [
    ...section.matchAll(
      /<!-- readme-sample-error: (\{.*?\}) -->\n```\n(Invalid Firefly stack configuration[\s\S]*?)```/g,
    ),
  ];
  assert.equal(
    m.length,
    1,
    "README's Run it shows one sample config error, marked with the config it comes from",
  );
  const lines = m[0][2].split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length > 1, "no problems in the README's sample error");
  return { config: JSON.parse(m[0][1]), lines };
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

  const sample = sampleError(section);
  it(`prints the README's sample error for ${JSON.stringify(sample.config)}, without a stack trace`, () => {
    const file = path.join(scratch("config"), "config.yaml");
    for (const [key, value] of Object.entries(sample.config)) {
      const set = ["config", "set", "--path", `firefly:${key}`, value, "--stack", STACK];
      engine.pulumi([...set, "--config-file", file], ROOT);
    }
    const r = preview(file);
    const out = r.stdout + r.stderr;
    assert.notEqual(r.status, 0, out);
    for (const line of sample.lines) assert.match(out, readmeLine(line), `missing README line "${line}"`);
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, "stack trace");
    assert.doesNotMatch(out, /^\s*\+\s+(aws|docker|random|tls|kubernetes):/m, "a resource was planned");
  });
});
