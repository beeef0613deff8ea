// Fault: the runtime process is killed mid-invocation, as Lambda's out-of-memory kill does (the kernel
// sends SIGKILL: nothing in the process runs again). That invocation's span is lost, which
// docs/guarantees.md says; this checks the boundary of the loss: every earlier invocation's span had
// already left the process (the layer exports right after each response), the caller gets the
// runtime's exit error, and a new environment works normally.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { startOtlpReceiver } from "../layer/otlp";
import { RUNTIMES, startFunction } from "../layer/runtime";
import { record } from "./ledger";

const TASK_ROOT = path.resolve(__dirname, "../layer/fixtures/fn");

describe("fault: the runtime process killed mid-invocation (out-of-memory kill)", function () {
  this.timeout(60_000);
  after(() =>
    record({
      fault: "runtime-killed",
      injected: `SIGKILL of the runtime process mid-invocation on ${RUNTIMES.join(", ")}`,
      notes: "the killed invocation's span is lost (documented); every earlier span had been exported",
    }),
  );
  for (const runtime of RUNTIMES) {
    it(`${runtime}: earlier spans already exported, the killed invocation's span lost, the next environment fine`, async () => {
      const receiver = await startOtlpReceiver();
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
      const fn = await startFunction({
        mode: "redirect",
        runtime,
        taskRoot: TASK_ROOT,
        handler: "faults.slow",
        env,
      });
      try {
        const earlier = await fn.invoke({ ms: 1 });
        assert.equal(earlier.ok, true);
        await fn.billedMs(earlier.requestId);
        const killed = fn.invoke({ ms: 10_000, url: `${receiver.url}/elsewhere` });
        await new Promise((r) => setTimeout(r, 300));
        fn.kill("SIGKILL");
        const result = await killed;
        assert.equal(result.ok, false);
        assert.equal(result.error?.errorType, "Runtime.ExitError");
        const ids = () => receiver.spans.map((s) => s.attributes["faas.invocation_id"]);
        assert.ok(ids().includes(earlier.requestId), "the earlier invocation's span was exported");
        assert.ok(!ids().includes(result.requestId), "a SIGKILLed invocation cannot export its span");
        const next = await startFunction({
          mode: "redirect",
          runtime,
          taskRoot: TASK_ROOT,
          handler: "faults.slow",
          env,
        });
        try {
          const fine = await next.invoke({ ms: 1 });
          assert.equal(fine.ok, true);
          await next.billedMs(fine.requestId);
          assert.ok(ids().includes(fine.requestId));
        } finally {
          await next.stop();
        }
      } finally {
        await fn.stop();
        await receiver.close();
      }
    });
  }
});
