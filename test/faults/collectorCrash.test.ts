// Fault 2: the collector is SIGKILLed mid-load (no shutdown, no flush) and started again on the same
// queue directory. A span the collector acknowledged must not be lost: requests refused while it was
// down are the sender's to retry, acknowledged ones are the collector's promise. The same restart done
// gracefully (SIGTERM, what Docker and Kubernetes send) runs first, as the reference.
import * as assert from "node:assert/strict";
import { sleep } from "./control";
import { record } from "./ledger";
import { SpanLoad } from "./load";
import { settle, usePipeline } from "./pipeline";
import { DRAIN_S, pipelineMissing } from "./settings";

describe("fault: collector restart and crash", function () {
  this.timeout((DRAIN_S + 90) * 1000);
  const current = usePipeline(pipelineMissing);

  async function restartUnderLoad(fault: string, stop: () => Promise<void>): Promise<void> {
    const pipeline = current();
    const load = new SpanLoad(pipeline.otlpTracesUrl, pipeline.otlpToken);
    load.start();
    await sleep(5_000);
    const pending =
      load.stats.acknowledged.size -
      [...load.stats.acknowledged].filter((id) => pipeline.traceStore.spans.has(id)).length;
    const stoppedAt = Date.now();
    await stop();
    await sleep(1_000);
    await pipeline.collector.start();
    const downFor = (Date.now() - stoppedAt) / 1000;
    await sleep(5_000);
    await load.stop();

    const sent = load.stats.acknowledged;
    // Tail sampling holds spans for 10 s and batches for 1 s; 20 s of quiet with an empty queue is final.
    const lost = await settle(pipeline, sent, 20_000, DRAIN_S * 1000);
    record({
      fault,
      injected: `collector stopped with ${pending} acknowledged spans not yet stored, down ${downFor.toFixed(1)} s`,
      spansSent: sent.size,
      spansStored: sent.size - lost.length,
      notes: `${load.stats.refused + load.stats.failed} requests refused while it was down`,
    });
    assert.ok(pending > 0, "nothing was in flight when the collector stopped: the fault was not felt");
    assert.equal(
      lost.length,
      0,
      `${lost.length} of ${sent.size} acknowledged spans were lost\n${pipeline.collector.tail()}`,
    );
  }

  it("loses no acknowledged span when the collector is stopped gracefully (SIGTERM) and restarted", () =>
    restartUnderLoad("collector-restart", () => current().collector.stop()));

  it("loses no acknowledged span when the collector is SIGKILLed and restarted", () =>
    restartUnderLoad("collector-crash", () => current().collector.kill()));
});
