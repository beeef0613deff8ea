// Other languages on the real Pulumi engine: the component provider started by the CLI from a folder
// that is not the checkout, its schema, the SDKs generated from it, and YAML and Python programs that
// use Firefly and one phase on their own, previewed and deployed against the stand-in cloud providers.
// The programs are the examples in docs/consuming.md, read from the doc.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateFireflyArgs } from "../../components/firefly";
import {
  countByType,
  docExamples,
  Engine,
  gensdk,
  previewSteps,
  python,
  ROOT,
  type Step,
  scratch,
  VENV,
} from "./harness";

const PHASES = ["firefly:index:EmitPhase", "firefly:index:ShippingPhase", "firefly:index:PresentationPhase"];
/** The Go SDK module the generated code imports. */
const GO_SDK_MODULE = "example.com/pulumi-firefly/sdk";

/** What the same component with the same args creates under the unit tests' mocks. */
function mockGraph(component: string, args: object): Record<string, number> {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "mockGraph.ts"), component, JSON.stringify(args)],
    { cwd: ROOT, encoding: "utf8" },
  );
  return JSON.parse(out);
}

/** The message TypeScript programs get for these args. */
function typescriptError(args: object): string {
  try {
    validateFireflyArgs(args as never);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`args ${JSON.stringify(args)} are valid in TypeScript`);
}

/** The qualified type chain of a URN: Stack children have one element, their children two... */
const typeChain = (urn: string) => urn.split("::")[2].split("$");

function assertFireflyTree(steps: Step[]) {
  const firefly = steps.filter((s) => s.type === "firefly:index:Firefly");
  assert.equal(firefly.length, 1);
  for (const s of steps) {
    if (s.type === "pulumi:pulumi:Stack" || s.type === "firefly:index:Firefly") continue;
    const chain = typeChain(s.urn);
    assert.equal(chain[0], "firefly:index:Firefly", `${s.urn} is not inside the Firefly component`);
    if (PHASES.includes(s.type)) assert.equal(s.parent, firefly[0].urn, `${s.urn}'s parent`);
    else assert.ok(PHASES.includes(chain[1]), `${s.urn} is not inside one of the phases`);
  }
  // Each phase owns what it is about.
  const under = (phase: string, type: string) =>
    steps.some((s) => s.type === type && typeChain(s.urn)[1] === phase);
  assert.ok(under("firefly:index:EmitPhase", "aws:lambda/layerVersion:LayerVersion"));
  assert.ok(under("firefly:index:ShippingPhase", "aws:ec2/instance:Instance"));
  assert.ok(under("firefly:index:PresentationPhase", "aws:ssm/association:Association"));
}

const hasStackTrace = (text: string) => /^\s+at .+\(.+:\d+:\d+\)$/m.test(text);

describe("other languages on the real Pulumi engine", function () {
  this.timeout(600_000);
  const examples = docExamples("docs/consuming.md");
  let engine: Engine;
  let schemaFile: string;
  let schema: any;
  let sdk: string;

  before(() => {
    engine = Engine.setUp();
    sdk = scratch("sdk");
  });

  it("serves the schema to `pulumi package get-schema` run from a scratch folder", () => {
    const r = engine.pulumi(["package", "get-schema", ROOT], scratch("schema"));
    schemaFile = path.join(sdk, "schema.json");
    fs.writeFileSync(schemaFile, r.stdout);
    schema = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      "firefly:index:EmitPhase",
      "firefly:index:Firefly",
      "firefly:index:PresentationPhase",
      "firefly:index:ShippingPhase",
    ]);
    const firefly = schema.resources["firefly:index:Firefly"];
    assert.equal(firefly.isComponent, true);
    for (const input of ["host", "storage", "ec2", "metrics", "functions", "sampling", "otlpToken"])
      assert.ok(firefly.inputProperties[input], `Firefly input ${input}`);
    for (const output of ["grafanaUrl", "otlpEndpoint", "otlpToken", "layerArn", "grafanaAdminPassword"])
      assert.ok(firefly.properties[output], `Firefly output ${output}`);
    // No reference to another package's schema: a consumer needs only Firefly's SDK.
    assert.doesNotMatch(r.stdout, /"\$ref": ?"\/(aws|docker|kubernetes|random|tls)\//);
  });

  it("marks every password, token, key and store credential secret, and documents every property", () => {
    const secret: string[] = [];
    const undocumented: string[] = [];
    const visit = (where: string, props: Record<string, any> = {}) => {
      for (const [name, p] of Object.entries(props)) {
        if (p.secret) secret.push(`${where}.${name}`);
        if (!(p.description?.length > 10)) undocumented.push(`${where}.${name}`);
      }
    };
    for (const [name, r] of Object.entries<any>(schema.resources)) {
      visit(`${name} in`, r.inputProperties);
      visit(`${name} out`, r.properties);
    }
    for (const [name, t] of Object.entries<any>(schema.types)) visit(name, t.properties);
    assert.deepEqual(undocumented, []);
    assert.deepEqual(secret.sort(), [
      "firefly:index:EmitPhase in.firehoseAccessKey",
      "firefly:index:EmitPhase in.otlpToken",
      "firefly:index:Firefly in.databasePassword",
      "firefly:index:Firefly in.externalLogsAuth",
      "firefly:index:Firefly in.externalMetricsAuth",
      "firefly:index:Firefly in.externalTracesAuth",
      "firefly:index:Firefly in.firehoseAccessKey",
      "firefly:index:Firefly in.grafanaAdminPassword",
      "firefly:index:Firefly in.otlpToken",
      "firefly:index:Firefly out.grafanaAdminPassword",
      "firefly:index:Firefly out.otlpToken",
      "firefly:index:GrafanaCertificate.privateKey",
      "firefly:index:KubernetesHost.kubeconfig",
      "firefly:index:PostgresConnection.password",
      "firefly:index:PresentationPhase in.adminPassword",
      "firefly:index:PresentationPhase out.grafanaAdminPassword",
      "firefly:index:ShippingPhase in.databasePassword",
      "firefly:index:ShippingPhase in.externalLogsAuth",
      "firefly:index:ShippingPhase in.externalMetricsAuth",
      "firefly:index:ShippingPhase in.externalTracesAuth",
      "firefly:index:ShippingPhase in.firehoseAccessKey",
      "firefly:index:ShippingPhase in.otlpToken",
      "firefly:index:ShippingPhase out.firehoseAccessKey",
      "firefly:index:ShippingPhase out.otlpToken",
      "firefly:index:ShippingPhase out.postgresPassword",
      "firefly:index:Smtp.password",
    ]);
  });

  it("generates a Python SDK that installs beside the `pulumi` package and imports", () => {
    engine.pulumi(["package", "gen-sdk", schemaFile, "--language", "python", "--out", sdk], sdk);
    execFileSync(
      python(),
      ["-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", path.join(sdk, "python")],
      {
        stdio: "inherit",
      },
    );
    const out = execFileSync(
      python(),
      [
        "-c",
        "import pulumi, pulumi_firefly as f; print(f.Firefly.__name__, f.Host.EC2.value, f.EmitPhase.__name__)",
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "Firefly ec2 EmitPhase");
    // The schema's secret marks reach the SDK: a token passed as a plain string is sent as a secret.
    const firefly = fs.readFileSync(path.join(sdk, "python", "pulumi_firefly", "firefly.py"), "utf8");
    assert.match(
      firefly,
      /\["otlp_token"\] = None if otlp_token is None else pulumi\.Output\.secret\(otlp_token\)/,
    );
    assert.match(firefly, /additional_secret_outputs=\["grafanaAdminPassword", "otlpToken"\]/);
  });

  it("generates a Node.js SDK that type-checks", () => {
    engine.pulumi(["package", "gen-sdk", schemaFile, "--language", "nodejs", "--out", sdk], sdk);
    // Inside the checkout, so @pulumi/pulumi and typescript resolve from its node_modules.
    const dir = path.join(ROOT, ".firefly", "engine", "sdk-nodejs");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(path.join(sdk, "nodejs"), dir, { recursive: true });
    execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", dir, "--noEmit"], {
      stdio: "inherit",
    });
  });

  it("generates a Go SDK that builds, with the docs' Go example", () => {
    // The generated code imports <module>/go/firefly/...: the module root is the folder above go/.
    const goSdk = path.join(sdk, "gosdk");
    execFileSync(gensdk(), [schemaFile, path.join(goSdk, "go")], { stdio: "inherit" });
    const pulumiSdk = fs
      .readFileSync(path.join(__dirname, "gensdk", "go.mod"), "utf8")
      .match(/github\.com\/pulumi\/pulumi\/sdk\/v3 (v\S+)/)?.[1];
    assert.ok(pulumiSdk, "gensdk/go.mod pins github.com/pulumi/pulumi/sdk/v3");
    fs.writeFileSync(
      path.join(goSdk, "go.mod"),
      `module ${GO_SDK_MODULE}\n\ngo 1.24\n\nrequire github.com/pulumi/pulumi/sdk/v3 ${pulumiSdk}\n`,
    );
    const program = scratch("go");
    fs.writeFileSync(
      path.join(program, "go.mod"),
      `module firefly.test/goconsumer\n\ngo 1.24\n\nrequire (\n\t${GO_SDK_MODULE} v0.0.0\n\tgithub.com/pulumi/pulumi/sdk/v3 ${pulumiSdk}\n)\n\nreplace ${GO_SDK_MODULE} => ${goSdk}\n`,
    );
    const body = examples["go-firefly"].replace(/^/gm, "\t\t");
    fs.writeFileSync(
      path.join(program, "main.go"),
      `package main\n\nimport (\n\t"${GO_SDK_MODULE}/go/firefly"\n\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"\n)\n\nfunc main() {\n\tpulumi.Run(func(ctx *pulumi.Context) error {\n${body}\t\treturn nil\n\t})\n}\n`,
    );
    const go = (args: string[], cwd: string) =>
      execFileSync("go", args, { cwd, stdio: "inherit", env: { ...process.env, GOFLAGS: "-mod=mod" } });
    go(["mod", "tidy"], goSdk);
    go(["mod", "tidy"], program);
    go(["build", "./..."], goSdk);
    go(["vet", "."], program);
  });

  describe("a YAML program", () => {
    /** A YAML program using the plugin from the checkout: by `pulumi package add`, as the docs say, or
     * (faster, for the refusals) by a plugin path. */
    const yamlProgram = (body: string, how: "package add" | "plugin path") => {
      const dir = scratch("yaml");
      const file = path.join(dir, "Pulumi.yaml");
      fs.writeFileSync(file, "name: yaml-consumer\nruntime: yaml\n");
      if (how === "package add") {
        engine.pulumi(["package", "add", ROOT], dir);
        assert.match(fs.readFileSync(file, "utf8"), /packages:\n {2}firefly: /);
      } else {
        fs.appendFileSync(file, `plugins:\n  providers:\n    - name: firefly\n      path: ${ROOT}\n`);
      }
      fs.appendFileSync(file, body);
      engine.newStack(dir);
      return dir;
    };

    it("previews the docs' Firefly example: the same resources as the mocks, inside the component's phases", () => {
      const dir = yamlProgram(examples["yaml-firefly"], "package add");
      const r = engine.pulumi(["preview", "--json"], dir);
      const steps = previewSteps(r.stdout);
      const counts = countByType(steps);
      delete counts["pulumi:pulumi:Stack"];
      assert.deepEqual(counts, mockGraph("Firefly", { host: "ec2", storage: "prometheus", metrics: true }));
      assertFireflyTree(steps);
    });

    for (const [what, props, args] of [
      ["a setting", "      host: docker\n      metrics: true\n", { host: "docker", metrics: true }],
      ["functions", "      host: ec2\n      functions: [orders]\n", undefined],
    ] as const) {
      it(`is refused ${what} with the TypeScript message, before any resource exists`, () => {
        const program = `resources:\n  firefly:\n    type: firefly:Firefly\n    properties:\n${props}`;
        const dir = yamlProgram(program, "plugin path");
        const r = engine.pulumi(["preview"], dir, { allowFailure: true });
        const out = r.stdout + r.stderr;
        assert.notEqual(r.status, 0, out);
        const expected = args
          ? typescriptError(args)
          : "args.functions = orders: instrumenting existing functions works only from TypeScript/JavaScript programs";
        for (const line of expected.split("\n"))
          assert.ok(out.includes(line.trim()), `missing "${line}" in:\n${out}`);
        assert.doesNotMatch(out, /^\s*\+\s+(aws|docker|random|tls|kubernetes):/m, "a resource was planned");
        assert.ok(!hasStackTrace(out), `stack trace in:\n${out}`);
      });
    }
  });

  describe("a Python program", () => {
    const pythonProgram = (main: string) => {
      const dir = scratch("python");
      fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        `name: python-consumer\nruntime:\n  name: python\n  options:\n    virtualenv: ${VENV}\nplugins:\n  providers:\n    - name: firefly\n      path: ${ROOT}\n`,
      );
      fs.writeFileSync(path.join(dir, "__main__.py"), main);
      engine.newStack(dir);
      return dir;
    };

    it("deploys the docs' Firefly example: same graph as the mocks, secret outputs still secret", () => {
      const dir = pythonProgram(examples["python-firefly"]);
      const preview = previewSteps(engine.pulumi(["preview", "--json"], dir).stdout);
      assertFireflyTree(preview);
      const counts = countByType(preview);
      delete counts["pulumi:pulumi:Stack"];
      assert.deepEqual(
        counts,
        mockGraph("Firefly", {
          host: "ec2",
          storage: "prometheus",
          metrics: true,
          ec2: { instanceType: "t3.large", adminCidrs: ["203.0.113.0/24"] },
        }),
      );

      engine.pulumi(["up", "--yes", "--skip-preview"], dir);
      const outputs = JSON.parse(engine.pulumi(["stack", "output", "--json"], dir).stdout);
      assert.equal(outputs.otlp_token, "[secret]");
      assert.match(outputs.grafana, /^http/);
      const state = JSON.parse(engine.pulumi(["stack", "export"], dir).stdout);
      const component = state.deployment.resources.find((r: any) => r.type === "firefly:index:Firefly");
      for (const key of ["otlpToken", "grafanaAdminPassword"])
        assert.ok(component.outputs[key]?.ciphertext, `Firefly output ${key} is not stored as a secret`);
      const instance = state.deployment.resources.find((r: any) => r.type === "aws:ec2/instance:Instance");
      assert.equal(instance.inputs.instanceType, "t3.large", "the Python args reached the instance");
    });

    it("previews the docs' EmitPhase-alone example, its token kept secret", () => {
      const dir = pythonProgram(examples["python-emit"]);
      engine.pulumi(["config", "set", "--secret", "otlpToken", "python-side-token"], dir);
      const steps = previewSteps(engine.pulumi(["preview", "--json"], dir).stdout);
      const counts = countByType(steps);
      delete counts["pulumi:pulumi:Stack"];
      assert.deepEqual(
        counts,
        mockGraph("EmitPhase", { otlpEndpoint: "https://otel.example.com", otlpToken: "x" }),
      );
      for (const s of steps)
        if (s.type !== "pulumi:pulumi:Stack") assert.equal(typeChain(s.urn)[0], "firefly:index:EmitPhase");
      const all = engine.pulumi(["preview", "--diff"], dir).stdout;
      assert.ok(!all.includes("python-side-token"), "the token shows in the preview");
    });

    it("is the example README.md shows", () => {
      assert.ok(examples["python-firefly"], "docs/consuming.md has no python-firefly example");
      assert.equal(docExamples("README.md")["python-firefly"], examples["python-firefly"]);
    });

    it("is refused a bad setting with the TypeScript message, before any resource exists", () => {
      const dir = pythonProgram(
        'import pulumi_firefly as firefly\n\nfirefly.Firefly("firefly", sampling=firefly.SamplingArgs(percent=150))\n',
      );
      const r = engine.pulumi(["preview"], dir, { allowFailure: true });
      const out = r.stdout + r.stderr;
      assert.notEqual(r.status, 0, out);
      for (const line of typescriptError({ sampling: { percent: 150 } }).split("\n"))
        assert.ok(out.includes(line.trim()), `missing "${line}" in:\n${out}`);
      assert.doesNotMatch(out, /^\s*\+\s+(aws|docker|random|tls|kubernetes):/m, "a resource was planned");
      assert.ok(!hasStackTrace(out), `stack trace in:\n${out}`);
    });
  });
});
