// The real Pulumi engine for tests: the CLI (from PATH, else unpacked from ../shared/tools/pulumi), a
// local file backend and plugin home under .firefly/engine, automatic plugin downloads off, and the one
// stand-in provider (test/engine/standin) installed as aws, docker, random, tls and kubernetes at the
// versions package-lock.json resolves. Scratch programs live outside the checkout: inside it, the CLI's
// `pulumi package` commands find the checkout's Pulumi.yaml and PulumiPlugin.yaml side by side.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
const WORK = path.join(ROOT, ".firefly", "engine");
/** Python venv with the `pulumi` package from PyPI (made by .ci/setup.d/70-pulumi.sh). */
export const VENV = path.join(WORK, "venv");
/** Go SDK generator built from Pulumi's codegen (.ci/setup.d/70-pulumi.sh). */
export const gensdk = () =>
  made(path.join(ROOT, ".firefly", "tools", `gensdk-${goModVersion("test/engine/gensdk")}`));
/** The venv's Python. */
export const python = () => made(path.join(VENV, "bin", "python"));

function made(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run .ci/setup.d/70-pulumi.sh`);
  return file;
}
export const STANDIN_PACKAGES = ["aws", "docker", "random", "tls", "kubernetes"];

function goModVersion(dir: string): string {
  const mod = fs.readFileSync(path.join(ROOT, dir, "go.mod"), "utf8");
  const m = mod.match(/^(?:require\s+|\s+)github\.com\/pulumi\/pulumi\/pkg\/v3 (v\S+)/m);
  if (!m) throw new Error(`${dir}/go.mod does not require github.com/pulumi/pulumi/pkg/v3`);
  return m[1];
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const f = path.join(dir, name);
    if (dir && fs.existsSync(f)) return dir;
  }
  return undefined;
}

/** The folder holding `pulumi` and its language hosts. */
function cliDir(): string {
  const fromPath = onPath("pulumi");
  if (fromPath) return fromPath;
  const install = path.join(ROOT, "..", "shared", "tools", "pulumi", "install.sh");
  if (!fs.existsSync(install))
    throw new Error(
      "The Pulumi CLI is neither on PATH nor at ../shared/tools/pulumi (run .ci/setup.d/70-pulumi.sh, or install it).",
    );
  return execFileSync("bash", [install, path.join(ROOT, ".firefly", "tools", "pulumi")], {
    encoding: "utf8",
  }).trim();
}

/** Versions the package's own dependency tree resolves for each stand-in provider. */
export function providerVersions(): Record<string, string> {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
  return Object.fromEntries(
    STANDIN_PACKAGES.map((p) => {
      const v = lock.packages[`node_modules/@pulumi/${p}`]?.version;
      if (!v) throw new Error(`package-lock.json has no @pulumi/${p}`);
      return [p, v];
    }),
  );
}

let stateReset = false;

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export class Engine {
  readonly env: NodeJS.ProcessEnv;
  readonly binDir: string;

  private constructor(env: NodeJS.ProcessEnv, binDir: string) {
    this.env = env;
    this.binDir = binDir;
  }

  /** Sets up the CLI, the backend and the stand-ins (idempotent; a few seconds). */
  static setUp(): Engine {
    const binDir = path.join(WORK, "bin");
    fs.mkdirSync(binDir, { recursive: true });
    // Stacks of earlier runs are of no use: start each test process with an empty backend.
    if (!stateReset) fs.rmSync(path.join(WORK, "state"), { recursive: true, force: true });
    stateReset = true;
    fs.mkdirSync(path.join(WORK, "state"), { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: [binDir, cliDir(), process.env.PATH].join(path.delimiter),
      PULUMI_HOME: path.join(WORK, "pulumi-home"),
      PULUMI_BACKEND_URL: `file://${path.join(WORK, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "engine-test",
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
      NO_COLOR: "1",
    };
    const engine = new Engine(env, binDir);
    engine.buildPlugins();
    return engine;
  }

  private buildPlugins() {
    // The component provider as the engine runs it (package.json "main") and its schema, from the sources.
    execFileSync("npm", ["run", "--silent", "build:provider"], { cwd: ROOT, stdio: "inherit" });
    const standin = path.join(WORK, "standin.js");
    execFileSync(
      path.join(ROOT, "node_modules", ".bin", "esbuild"),
      [
        path.join(__dirname, "standin", "standin.ts"),
        "--bundle",
        "--platform=node",
        "--format=cjs",
        "--packages=external",
        `--outfile=${standin}`,
        "--log-level=warning",
      ],
      { cwd: ROOT, stdio: "inherit" },
    );
    for (const [name, version] of Object.entries(providerVersions())) {
      const script = path.join(WORK, "plugins", `pulumi-resource-${name}`);
      fs.mkdirSync(path.dirname(script), { recursive: true });
      fs.writeFileSync(script, `#!/bin/sh\nexec node ${standin} ${name} ${version} "$@"\n`, { mode: 0o755 });
      this.pulumi(["plugin", "install", "resource", name, version, "-f", script, "--reinstall"], os.tmpdir());
    }
    // What the official CLI ships for Node.js dynamic providers (this CLI build has the language hosts only).
    fs.writeFileSync(
      path.join(this.binDir, "pulumi-resource-pulumi-nodejs"),
      "#!/bin/sh\nnode ./node_modules/@pulumi/pulumi/cmd/dynamic-provider $@\n",
      { mode: 0o755 },
    );
  }

  /** Runs the CLI; throws with its output unless allowFailure. */
  pulumi(
    args: string[],
    cwd: string,
    opts: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {},
  ): Result {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], {
      cwd,
      env: { ...this.env, ...opts.env },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const result = { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    if (result.status !== 0 && !opts.allowFailure)
      throw new Error(`pulumi ${args.join(" ")} (in ${cwd}) failed:\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  /** A new, empty stack for a program folder (named after the folder, so programs never share state). */
  newStack(cwd: string, stack = path.basename(cwd).replace(/[^A-Za-z0-9-]/g, "-")): string {
    this.pulumi(["stack", "init", stack], cwd);
    return stack;
  }
}

/** A scratch folder outside the checkout. */
export function scratch(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `firefly-engine-${name}-`));
}

export interface Step {
  type: string;
  urn: string;
  parent?: string;
}

/** The resources of a `pulumi preview --json` (every step's new state). */
export function previewSteps(json: string): Step[] {
  const d = JSON.parse(json);
  return (d.steps ?? []).map((s: any) => ({
    type: s.newState.type,
    urn: s.newState.urn,
    parent: s.newState.parent,
  }));
}

export function countByType(steps: Step[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of steps) counts[s.type] = (counts[s.type] ?? 0) + 1;
  return counts;
}

/** Fenced blocks of a doc that carry `<!-- engine-test: NAME -->` on the line before the fence. */
export function docExamples(doc: string): Record<string, string> {
  const text = fs.readFileSync(path.join(ROOT, doc), "utf8");
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/<!-- engine-test: ([\w-]+) -->\n```\w*\n([\s\S]*?)```/g)) out[m[1]] = m[2];
  return out;
}
