import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { redirect } from "../../layer/src/redirect";

const WRAPPER = path.resolve(__dirname, "../../layer/firefly-wrapper");
const PRELOAD = `--require ${path.dirname(WRAPPER)}/firefly/auto.cjs`;

/** Runs `firefly-wrapper env` with exactly `env` and returns the environment the runtime would get. */
function wrapped(env: Record<string, string>): Record<string, string> {
  const out = execFileSync(WRAPPER, ["/usr/bin/env"], {
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

describe("layer exec wrapper", () => {
  it("adds the preload to an unset NODE_OPTIONS and changes nothing else", () => {
    const before = { PATH: "/usr/bin:/bin", _HANDLER: "index.handler", OTEL_SERVICE_NAME: "mine" };
    const after = wrapped(before);
    assert.equal(after.NODE_OPTIONS, PRELOAD);
    const { NODE_OPTIONS: _, PWD: __, SHLVL: ___, ...rest } = after;
    assert.deepEqual(rest, before);
  });

  it("keeps the user's NODE_OPTIONS and adds the preload once, even when wrapped twice", () => {
    assert.equal(
      wrapped({ NODE_OPTIONS: "--enable-source-maps" }).NODE_OPTIONS,
      `--enable-source-maps ${PRELOAD}`,
    );
    assert.equal(
      wrapped({ NODE_OPTIONS: `--enable-source-maps ${PRELOAD}` }).NODE_OPTIONS,
      `--enable-source-maps ${PRELOAD}`,
    );
  });

  it("ends in exec: arguments, stdin/stdout and the exit code are the runtime's", () => {
    const run = spawnSync(WRAPPER, ["/bin/sh", "-c", 'echo "$1 $2"; exit 7', "sh", "a b", "c"], {
      encoding: "utf8",
    });
    assert.equal(run.stdout, "a b c\n");
    assert.equal(run.status, 7);
  });

  describe("the preload's redirection", () => {
    const layerHandler = "/opt/firefly/handler.handler";
    it("moves _HANDLER to FIREFLY_HANDLER, points the runtime (env and CLI argument) at the layer, strips itself", () => {
      const env: NodeJS.ProcessEnv = {
        _HANDLER: "src/app.main",
        NODE_OPTIONS: "--enable-source-maps --require /opt/firefly/auto.cjs",
      };
      const argv = ["node", "/var/runtime/index.mjs", "src/app.main"];
      assert.equal(redirect(env, argv, layerHandler), true);
      assert.equal(env.FIREFLY_HANDLER, "src/app.main");
      assert.equal(env._HANDLER, layerHandler);
      assert.deepEqual(argv, ["node", "/var/runtime/index.mjs", layerHandler]);
      assert.equal(env.NODE_OPTIONS, "--enable-source-maps");
    });

    it("an explicit FIREFLY_HANDLER wins; an already redirected handler is left alone", () => {
      const env: NodeJS.ProcessEnv = { _HANDLER: "index.handler", FIREFLY_HANDLER: "other.handler" };
      redirect(env, [], layerHandler);
      assert.equal(env.FIREFLY_HANDLER, "other.handler");
      const already: NodeJS.ProcessEnv = { _HANDLER: layerHandler, FIREFLY_HANDLER: "index.handler" };
      assert.equal(
        redirect(already, [], layerHandler),
        false,
        "not redirected: the startup line says handler mode",
      );
      assert.deepEqual(already, { _HANDLER: layerHandler, FIREFLY_HANDLER: "index.handler" });
    });
  });
});
