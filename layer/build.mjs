// Builds layer/dist/firefly-layer.zip, laid out for /opt:
//   firefly-wrapper                                   exec wrapper (AWS_LAMBDA_EXEC_WRAPPER)
//   firefly/handler.mjs                               the layer's handler (/opt/firefly/handler.handler)
//   firefly/auto.cjs                                  preload used by the wrapper
//   nodejs/node_modules/@firefly-o11y/aws-sdk/        the AWS SDK v3 plugin, require-able from functions
// Everything is bundled: no node_modules lookups at runtime, no AWS SDK inside (the runtime has one).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
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

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  external: ["@aws-sdk/*", "@smithy/*"],
  logLevel: "warning",
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(here, "src/entry.mjs")],
    outfile: join(root, "firefly/handler.mjs"),
    format: "esm",
    // A CommonJS dependency inside an ESM bundle may still call require().
    banner: { js: 'import{createRequire as __ffcr}from"node:module";const require=__ffcr(import.meta.url);' },
  }),
  build({
    ...common,
    entryPoints: [join(here, "src/auto.ts")],
    outfile: join(root, "firefly/auto.cjs"),
    format: "cjs",
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
  `${JSON.stringify({ name: "@firefly-o11y/aws-sdk", version: "0.1.0", main: "index.js", types: "index.d.ts", license: "Apache-2.0" }, null, 2)}\n`,
);
copyFileSync(join(here, "aws-sdk.d.ts"), join(sdkDir, "index.d.ts"));
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
