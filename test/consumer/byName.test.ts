// Importing the package by name, as a TypeScript program that installed it would: `npm pack`, the tarball
// installed with npm into a scratch program outside the checkout, the docs' TypeScript example
// (docs/consuming.md, read from the doc) type-checked against the shipped declarations and run under
// Pulumi's mocks. Importing must start nothing: the provider's gRPC server is only package.json "main".
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { docExamples, ROOT, scratch } from "../engine/harness";

const NAME = "@firefly-o11y/firefly";

describe("the package imported by name from a packed tarball", function () {
  this.timeout(300_000);
  let app: string;

  before(() => {
    const packs = scratch("pack");
    // npm pack runs prepare (npm run build:package), as npm does for a git install.
    execFileSync("npm", ["pack", "--pack-destination", packs, "--loglevel=error"], {
      cwd: ROOT,
      stdio: "ignore",
    });
    const [tarball] = fs.readdirSync(packs).filter((f) => f.endsWith(".tgz"));
    app = scratch("consumer");
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    execFileSync(
      "npm",
      [
        "install",
        path.join(packs, tarball),
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ],
      { cwd: app, stdio: "inherit" },
    );
  });

  const node = (args: string[]) =>
    spawnSync(process.execPath, args, { cwd: app, encoding: "utf8", timeout: 60_000 });

  it("require() returns the components and exits on its own: no server, no port printed", () => {
    const r = node([
      "-e",
      `const f = require("${NAME}"); console.log(typeof f.Firefly, typeof f.EmitPhase, f.Host.Ec2)`,
    ]);
    assert.equal(r.error, undefined, "the process did not exit on its own");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "function function ec2");
  });

  it("import works from an ES module too", () => {
    const r = node([
      "--input-type=module",
      "-e",
      `import { Firefly, Storage } from "${NAME}"; console.log(typeof Firefly, Storage.Prometheus)`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "function prometheus");
  });

  it("type-checks and runs the docs' TypeScript example under mocks", () => {
    fs.writeFileSync(path.join(app, "index.ts"), docExamples("docs/consuming.md")["ts-firefly"]);
    fs.writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "node16",
          moduleResolution: "node16",
          outDir: "out",
          // The consumer's own @types/node would do; the checkout's saves an install.
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["index.ts"],
      }),
    );
    execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", app], { stdio: "inherit" });
    execFileSync(
      path.join(ROOT, "node_modules", ".bin", "esbuild"),
      [
        path.join(__dirname, "mockRun.ts"),
        "--bundle",
        "--platform=node",
        "--format=cjs",
        "--external:@pulumi/*",
        `--outfile=${path.join(app, "mockRun.js")}`,
        "--log-level=warning",
      ],
      { stdio: "inherit" },
    );
    const r = node(["mockRun.js", "out/index.js"]);
    assert.equal(r.status, 0, r.stderr);
    const { resources, exported } = JSON.parse(r.stdout);
    const types = resources.map((x: { type: string }) => x.type);
    for (const t of [
      "firefly:index:Firefly",
      "firefly:index:EmitPhase",
      "firefly:index:ShippingPhase",
      "firefly:index:PresentationPhase",
      "aws:lambda/layerVersion:LayerVersion",
      "aws:ec2/instance:Instance",
    ])
      assert.ok(types.includes(t), `${t} was not created`);
    assert.ok(
      resources.some(
        (x: { type: string; name: string }) =>
          x.type.startsWith("pulumi-nodejs:dynamic") && x.name.includes("orders"),
      ),
      "the existing function orders is not instrumented",
    );
    assert.match(String(exported.grafana), /^http/);
  });

  it("runs README's example: Firefly and a function in one program, the function wired from Firefly's outputs", () => {
    fs.writeFileSync(path.join(app, "withFunctions.ts"), docExamples("README.md")["ts-firefly-functions"]);
    fs.mkdirSync(path.join(app, "orders"), { recursive: true });
    fs.writeFileSync(path.join(app, "orders", "index.js"), "exports.handler = async () => 'ok';\n");
    execFileSync(
      path.join(ROOT, "node_modules", ".bin", "tsc"),
      [
        "--strict",
        "--target",
        "ES2022",
        "--module",
        "node16",
        "--moduleResolution",
        "node16",
        "--outDir",
        "out",
        "--typeRoots",
        path.join(ROOT, "node_modules", "@types"),
        "--types",
        "node",
        "withFunctions.ts",
      ],
      { cwd: app, stdio: "inherit" },
    );
    const r = node(["mockRun.js", "out/withFunctions.js"]);
    assert.equal(r.status, 0, r.stderr);
    const { resources, exported } = JSON.parse(r.stdout);
    const fn = resources.find(
      (x: { type: string; name: string }) => x.type === "aws:lambda/function:Function",
    );
    assert.ok(fn, "the function orders was not created");
    const layer = resources.find((x: { type: string }) => x.type === "aws:lambda/layerVersion:LayerVersion");
    assert.ok(layer, "Firefly published no layer");
    // Mocks pass secret inputs wrapped; the wiring is read through the serialized form.
    const inputs = JSON.stringify(fn.inputs);
    assert.deepEqual(fn.inputs.layers, [`arn:aws:lambda:eu-west-1:123456789012:${layer.name}`]);
    assert.equal(fn.inputs.handler, "/opt/firefly/handler.handler");
    assert.match(inputs, /"FIREFLY_HANDLER":"index\.handler"/);
    assert.match(inputs, /"OTEL_EXPORTER_OTLP_ENDPOINT":"https:\/\/[^"]+"/);
    assert.match(inputs, /"OTEL_EXPORTER_OTLP_HEADERS":"authorization=Bearer [^"]+"/);
    assert.match(String(exported.grafanaUrl), /^http/);
  });

  it("bundles a handler that uses @firefly-o11y/aws-sdk as the docs say, and it loads the layer's copy", () => {
    const dir = path.join(app, "fn");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "handler.ts"), docExamples("docs/consuming.md")["ts-aws-sdk"]);
    const doc = fs.readFileSync(path.join(ROOT, "docs", "consuming.md"), "utf8");
    const paths = JSON.parse(doc.match(/"paths": (\{[^\n]*?\] \})/)?.[1] ?? "null");
    assert.ok(paths, "docs/consuming.md shows no tsconfig paths for @firefly-o11y/aws-sdk");
    fs.writeFileSync(
      path.join(app, "tsconfig.fn.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "node16",
          moduleResolution: "node16",
          noEmit: true,
          baseUrl: ".",
          paths,
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["fn/handler.ts"],
      }),
    );
    execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", path.join(app, "tsconfig.fn.json")], {
      stdio: "inherit",
    });
    const command = doc.match(/^esbuild handler\.ts (.+) --outfile=\S+$/m)?.[1];
    assert.ok(command, "docs/consuming.md shows no esbuild command");
    const bundle = path.join(dir, "dist", "handler.js");
    execFileSync(
      path.join(ROOT, "node_modules", ".bin", "esbuild"),
      [path.join(dir, "handler.ts"), ...command.split(" "), `--outfile=${bundle}`, "--log-level=warning"],
      { cwd: dir, stdio: "inherit" },
    );
    assert.match(fs.readFileSync(bundle, "utf8"), /require\("@firefly-o11y\/aws-sdk"\)/);
    // Lambda puts /opt/nodejs/node_modules on the module path; the built layer holds the same tree.
    const layerModules = path.join(ROOT, "layer", "dist", "opt", "nodejs", "node_modules");
    assert.ok(fs.existsSync(path.join(layerModules, "@firefly-o11y", "aws-sdk")), "build the layer first");
    const r = spawnSync(
      process.execPath,
      ["-e", `require(${JSON.stringify(bundle)}).handler().then((r) => console.log(JSON.stringify(r)))`],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NODE_PATH: layerModules, AWS_REGION: "eu-west-1" },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.stringify({ instrumented: true }));
  });
});
