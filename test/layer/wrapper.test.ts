import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";

const WRAPPER = path.resolve(__dirname, "../../layer/firefly-wrapper");
const LAYER_HANDLER = `${path.dirname(WRAPPER)}/firefly/handler.handler`;

/** Runs `firefly-wrapper env` with exactly `env` and returns the environment the runtime would get. */
function wrapped(env: Record<string, string>, args: string[] = []): Record<string, string> {
  const out = execFileSync(WRAPPER, ["/usr/bin/env", ...args], {
    env: { PATH: "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** The arguments the wrapped command receives, one per line. */
function wrappedArgs(env: Record<string, string>, args: string[]): string[] {
  const run = spawnSync(WRAPPER, ["/bin/sh", "-c", 'for a do echo "$a"; done', "sh", ...args], {
    env: { PATH: "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
  return run.stdout.split("\n").slice(0, -1);
}

describe("layer exec wrapper", () => {
  it("moves _HANDLER to FIREFLY_HANDLER, points the runtime at the layer, and leaves everything else alone", () => {
    const before = {
      PATH: "/usr/bin:/bin",
      _HANDLER: "src/app.main",
      OTEL_SERVICE_NAME: "mine",
      NODE_OPTIONS: "--enable-source-maps",
    };
    const after = wrapped(before);
    const { PWD: _, SHLVL: __, ...rest } = after;
    assert.deepEqual(rest, {
      ...before,
      _HANDLER: LAYER_HANDLER,
      FIREFLY_HANDLER: "src/app.main",
      _FIREFLY_WRAPPED: "1",
    });
  });

  it("adds nothing to NODE_OPTIONS: no preload runs in the function's process or its children", () => {
    assert.equal(wrapped({ _HANDLER: "index.handler" }).NODE_OPTIONS, undefined);
  });

  it("rewrites the handler argument of aws-lambda-ric's command line, and only that one", () => {
    assert.deepEqual(
      wrappedArgs({ _HANDLER: "index.handler" }, ["/var/runtime/index.mjs", "index.handler", "a b", ""]),
      ["/var/runtime/index.mjs", LAYER_HANDLER, "a b", ""],
    );
  });

  it("an explicit FIREFLY_HANDLER wins", () => {
    const after = wrapped({ _HANDLER: "index.handler", FIREFLY_HANDLER: "other.handler" });
    assert.equal(after.FIREFLY_HANDLER, "other.handler");
    assert.equal(after._HANDLER, LAYER_HANDLER);
  });

  it("an already redirected handler, or none, is left alone (the startup line then says handler mode)", () => {
    const already = { _HANDLER: LAYER_HANDLER, FIREFLY_HANDLER: "index.handler" };
    const after = wrapped(already);
    assert.equal(after._HANDLER, LAYER_HANDLER);
    assert.equal(after.FIREFLY_HANDLER, "index.handler");
    assert.equal(after._FIREFLY_WRAPPED, undefined);
    assert.equal(wrapped({}).FIREFLY_HANDLER, undefined);
  });

  it("ends in exec: arguments, stdin/stdout and the exit code are the runtime's", () => {
    const run = spawnSync(WRAPPER, ["/bin/sh", "-c", 'echo "$1 $2"; exit 7', "sh", "a b", "c"], {
      encoding: "utf8",
    });
    assert.equal(run.stdout, "a b c\n");
    assert.equal(run.status, 7);
  });
});
