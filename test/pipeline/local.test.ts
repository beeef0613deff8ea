// The local pipeline's own plumbing: the shape of .firefly/local.json, reuse of a running pipeline,
// the error for a missing binary, and stops that never signal a process that is not ours.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureLocalPipeline, LOCAL_JSON } from "./local";
import { isRunning, startProcess, stopProcess } from "./processes";
import { checkBinaries } from "./stack";

describe("local pipeline plumbing", function () {
  this.timeout(60_000);

  it("writes .firefly/local.json in the issue's shape and reuses the running pipeline", async () => {
    const first = await ensureLocalPipeline();
    const onDisk = JSON.parse(fs.readFileSync(LOCAL_JSON, "utf8"));
    assert.deepEqual(onDisk, first);
    assert.deepEqual(Object.keys(onDisk).sort(), [
      "firehose",
      "firehoseLogs",
      "logs",
      "otlp",
      "prometheus",
      "traces",
    ]);
    assert.deepEqual(Object.keys(onDisk.firehose).sort(), ["accessKey", "url"]);
    assert.deepEqual(Object.keys(onDisk.firehoseLogs).sort(), ["accessKey", "url"]);
    assert.equal(onDisk.firehoseLogs.accessKey, onDisk.firehose.accessKey);
    assert.match(onDisk.firehoseLogs.url, /\/firehose\/logs$/);
    assert.deepEqual(Object.keys(onDisk.otlp).sort(), ["headers", "url"]);
    assert.match(onDisk.otlp.headers.authorization, /^Bearer [A-Za-z0-9_-]{32}$/);
    assert.match(onDisk.firehose.accessKey, /^[A-Za-z0-9_-]{32}$/);
    for (const url of [
      onDisk.firehose.url,
      onDisk.otlp.url,
      onDisk.prometheus.url,
      onDisk.traces.jaegerUrl,
      onDisk.logs.url,
      onDisk.firehoseLogs.url,
    ]) {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/, "loopback only");
    }
    assert.equal(fs.statSync(LOCAL_JSON).mode & 0o077, 0, "secrets file readable by its owner only");
    assert.deepEqual(await ensureLocalPipeline(), first);
  });

  it("names a missing binary and the command that provides it", () => {
    const saved = process.env.FIREFLY_JAEGER_BIN;
    process.env.FIREFLY_JAEGER_BIN = "/nonexistent/jaeger";
    try {
      assert.throws(
        checkBinaries,
        /jaeger: \/nonexistent\/jaeger is missing; run `bash \.ci\/setup\.d\/30-jaeger\.sh`/,
      );
    } finally {
      if (saved === undefined) delete process.env.FIREFLY_JAEGER_BIN;
      else process.env.FIREFLY_JAEGER_BIN = saved;
    }
  });

  it("never signals a pid that runs another binary than the one it started", async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "firefly-proc-")), "sleep.log");
    const sleeper = startProcess("sleep", "/bin/sleep", ["30"], log);
    try {
      const impostor = { ...sleeper, binary: "/usr/bin/prometheus" };
      assert.equal(isRunning(impostor), false);
      await stopProcess(impostor);
      assert.equal(isRunning(sleeper), true, "a record for another binary left the process alone");
    } finally {
      await stopProcess(sleeper);
      fs.rmSync(path.dirname(log), { recursive: true, force: true });
    }
    assert.equal(isRunning(sleeper), false);
  });
});
