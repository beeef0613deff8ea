// Fault 2: the collector is SIGKILLed mid-load (no shutdown, no flush) and started again on the same
// queue directory. A span the collector acknowledged must not be lost: requests refused while it was
// down are the sender's to retry, acknowledged ones are the collector's promise.
import * as assert from "node:assert/strict";
import { sleep } from "./control";
import { record } from "./ledger";
import { SpanLoad } from "./load";
import { type FaultPipeline, settle, startFaultPipeline } from "./pipeline";
import { DRAIN_S, pipelineMissing } from "./settings";

describe("fault: collector crash", function () {
  this.timeout((DRAIN_S + 90) * 1000);
  let pipeline: FaultPipeline;

  before(async () => {
    const missing = pipelineMissing();
    if (missing) throw new Error(missing);
    pipeline = await startFaultPipeline();
  });
  after(async () => {
    await pipeline?.stop();
  });

  it("loses no acknowledged span when the collector is SIGKILLed and restarted", async () => {
    const load = new SpanLoad(pipeline.otlpTracesUrl, pipeline.otlpToken);
    load.start();
    await sleep(5_000);
    const ackedBeforeKill = load.stats.acknowledged.size;
    const storedBeforeKill = pipeline.traceStore.spans.size;
    await pipeline.collector.kill();
    const killedAt = Date.now();
    await sleep(2_000);
    await pipeline.collector.start();
    const downFor = (Date.now() - killedAt) / 1000;
    await sleep(5_000);
    await load.stop();

    const sent = load.stats.acknowledged;
    // Tail sampling holds spans for 10 s and batches for 1 s; 20 s of quiet with an empty queue is final.
    const lost = await settle(pipeline, sent, 20_000, DRAIN_S * 1000);
    record({
      fault: "collector-crash",
      injected: `collector SIGKILLed with ${ackedBeforeKill - storedBeforeKill} acknowledged spans not yet stored, down ${downFor.toFixed(1)} s`,
      spansSent: sent.size,
      spansStored: sent.size - lost.length,
      notes: `${load.stats.refused + load.stats.failed} requests refused while it was down`,
    });
    assert.ok(
      load.stats.requests > 0 && sent.size > ackedBeforeKill,
      "no load was acknowledged after the restart",
    );
    assert.equal(
      lost.length,
      0,
      `${lost.length} of ${sent.size} acknowledged spans were lost with the crash\n${pipeline.collector.tail()}`,
    );
  });
});
