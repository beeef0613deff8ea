// Builds layer/dist/firefly-layer.zip, laid out for /opt:
//   firefly-wrapper                                   exec wrapper (AWS_LAMBDA_EXEC_WRAPPER)
//   firefly/handler.mjs                               the layer's handler (/opt/firefly/handler.handler)
//   firefly/layer.cjs                                 the layer itself, which handler.mjs requires
//   firefly/serialize.cjs                             OTLP serialisers, required at the first export
//   nodejs/node_modules/@firefly-o11y/aws-sdk/        the AWS SDK v3 plugin, require-able from functions
// Everything is bundled: no node_modules lookups at runtime, no AWS SDK inside (the runtime has one).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const root = join(dist, "opt");
const sdkDir = join(root, "nodejs/node_modules/@firefly-o11y/aws-sdk");

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(root, "firefly"), { recursive: true });
mkdirSync(sdkDir, { recursive: true });

// The layer runs no resource detectors. The machine-id one loads its platform's module with a dynamic
// import(), and esbuild then wraps every module it shares code with (the whole OpenTelemetry API) in a
// lazy initialiser that defeats tree shaking and costs about a millisecond of every init.
const noMachineId = {
  name: "no-machine-id",
  setup(b) {
    b.onResolve({ filter: /\/machine-id\/getMachineId\.mjs$/ }, (args) => ({
      path: args.path,
      namespace: "stub",
    }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: "export async function getMachineId() { return undefined; }",
    }));
  },
};

const { version } = JSON.parse(readFileSync(join(here, "../package.json"), "utf8"));

// Every free `performance` in the layer's bundles reads the layer's clock (src/clock.ts), not perf_hooks.
const clock = [join(here, "src/clock.ts")];

const common = {
  bundle: true,
  define: { __FIREFLY_VERSION__: JSON.stringify(version) },
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  external: ["@aws-sdk/*", "@smithy/*"],
  logLevel: "warning",
  plugins: [noMachineId],
};

// The layer's require("./serialize") stays a require, of the bundle built beside it: loaded at the
// first export (after the first response), not compiled in every init.
const lateSerializer = {
  name: "late-serializer",
  setup(b) {
    b.onResolve({ filter: /^\.\/serialize$/ }, () => ({ path: "./serialize.cjs", external: true }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(here, "src/handler.ts")],
    outfile: join(root, "firefly/layer.cjs"),
    format: "cjs",
    inject: clock,
    plugins: [noMachineId, lateSerializer],
  }),
  build({
    ...common,
    entryPoints: [join(here, "src/serialize.ts")],
    outfile: join(root, "firefly/serialize.cjs"),
    format: "cjs",
    inject: clock,
  }),
  build({
    ...common,
    entryPoints: [join(here, "src/aws-sdk.ts")],
    outfile: join(sdkDir, "index.js"),
    format: "cjs",
  }),
]);

writeFileSync(
  join(sdkDir, "package.json"),
  `${JSON.stringify({ name: "@firefly-o11y/aws-sdk", version, main: "index.js", types: "index.d.ts", license: "Apache-2.0" }, null, 2)}\n`,
);
copyFileSync(join(here, "aws-sdk.d.ts"), join(sdkDir, "index.d.ts"));
copyFileSync(join(here, "src/entry.mjs"), join(root, "firefly/handler.mjs"));
copyFileSync(join(here, "firefly-wrapper"), join(root, "firefly-wrapper"));
chmodSync(join(root, "firefly-wrapper"), 0o755);

// Same content, same zip: fixed timestamps, and -X leaves out extra file attributes (modes are kept).
const epoch = new Date("2026-01-01T00:00:00Z");
const stamp = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) stamp(join(dir, entry.name));
    utimesSync(join(dir, entry.name), epoch, epoch);
  }
};
stamp(root);
const zip = join(dist, "firefly-layer.zip");
execFileSync("zip", ["-q", "-X", "-r", zip, "."], { cwd: root, stdio: "inherit" });
console.log(`${zip} ${statSync(zip).size} bytes`);
