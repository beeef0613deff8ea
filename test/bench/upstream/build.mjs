// Builds the rebuilt upstream OpenTelemetry layer into build/workspace and build/layer.zip, the way
// upstream's `npm run build` does (compile → install-externals → package), with esbuild standing in for
// webpack: one minified bundle plus one lazily loaded chunk per dynamic import, import-in-the-middle and
// @aws-sdk left external, import-in-the-middle copied in with its dependencies.
// Needs `npm install` in this directory first (test/bench/upstream/package.json).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const workspace = join(here, "build", "workspace");
const zip = join(here, "build", "layer.zip");

export async function buildUpstreamLayer() {
  if (!existsSync(join(here, "node_modules", "@opentelemetry", "sdk-trace"))) {
    throw new Error(
      "upstream layer rebuild: its packages are not installed; run `npm install --prefix test/bench/upstream`",
    );
  }
  rmSync(join(here, "build"), { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  await build({
    entryPoints: [join(here, "src", "wrapper.mjs")],
    outdir: workspace,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: process.env.UPSTREAM_MINIFY !== "0",
    external: ["import-in-the-middle", "@aws-sdk/*"],
    // CommonJS packages inside an ESM bundle still call require() for Node built-ins.
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
    logLevel: "error",
  });
  for (const f of ["init.mjs", "loader.mjs", "otel-handler"])
    cpSync(join(here, "src", f), join(workspace, f));
  copyWithDependencies("import-in-the-middle", new Set());
  execFileSync("zip", ["-qr9", zip, "."], { cwd: workspace });
  return { dir: workspace, zip, zipBytes: statSync(zip).size };
}

function copyWithDependencies(name, seen) {
  if (seen.has(name)) return;
  seen.add(name);
  const from = join(here, "node_modules", name);
  cpSync(from, join(workspace, "node_modules", name), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(from, "package.json"), "utf8"));
  for (const dep of Object.keys(pkg.dependencies ?? {})) copyWithDependencies(dep, seen);
}

// No top-level await: the bench imports this file through tsx, which may load it as CommonJS.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildUpstreamLayer().then((out) =>
    console.log(`upstream layer rebuild: ${out.zip} (${out.zipBytes} bytes)`),
  );
}
