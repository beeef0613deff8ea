// Fault 1: the metric store and the trace store go down under steady load and come back. Every
// acknowledged span must reach the trace store (the collector's persistent queue holds them), and every
// Firehose request must end up stored (the collector answers 503 while the store is down; the sender
// retries on non-200 as Firehose does).
import * as assert from "node:assert/strict";
import { deliver, type FirehoseResult } from "../pipeline/firehose";
import { sleep, waitFor } from "./control";
import { recordsFor, storedFunctions } from "./firehose";
import { record } from "./ledger";
import { SpanLoad } from "./load";
import { usePipeline } from "./pipeline";
import { DRAIN_S, OUTAGE_S, pipelineMissing } from "./settings";

describe("fault: storage outage", function () {
  this.timeout((OUTAGE_S + DRAIN_S + 60) * 1000);
  const current = usePipeline(pipelineMissing);

  it(`stores every acknowledged span and every Firehose request after both stores were down for ${OUTAGE_S} s`, async () => {
    const pipeline = current();
    const load = new SpanLoad(pipeline.otlpTracesUrl, pipeline.otlpToken);
    load.start();
    // Firehose deliveries, one every 500 ms, each retried like Firehose until it gets its 200.
    const deliveries: Promise<FirehoseResult>[] = [];
    let firehoseRunning = true;
    const firehoseLoop = (async () => {
      while (firehoseRunning) {
        deliveries.push(
          deliver(recordsFor(`outage-fn-${deliveries.length}`), {
            url: pipeline.firehoseUrl,
            accessKey: pipeline.firehoseKey,
            retryForMs: (OUTAGE_S + DRAIN_S) * 1000,
          }),
        );
        await sleep(500);
      }
    })();
    await sleep(3_000);
    await Promise.all([pipeline.traceStore.stop(), pipeline.prometheus.stop()]);
    const downAt = Date.now();
    await sleep(OUTAGE_S * 1000);
    // Acknowledged but not yet stored when the stores come back: what the queue had to carry.
    const queuedAtRestore = load.stats.acknowledged.size - pipeline.traceStore.spans.size;
    await Promise.all([pipeline.traceStore.start(), pipeline.prometheus.start()]);
    const outage = (Date.now() - downAt) / 1000;
    await sleep(3_000);
    await load.stop();
    firehoseRunning = false;
    await firehoseLoop;
    const outcomes = await Promise.all(deliveries);
    const delivered = outcomes.filter((o) => o.status === 200).length;
    const retried = outcomes.filter((o) => o.attempts > 1).length;
    const stored = async () => (await storedFunctions(pipeline.prometheusUrl, "outage-fn-")).size;
    await waitFor(
      "every delivered Firehose request in Prometheus",
      async () => (await stored()) >= delivered,
      30_000,
    ).catch(() => undefined);
    const firehoseStored = await stored();

    const sent = load.stats.acknowledged;
    const missing = () => [...sent].filter((id) => !pipeline.traceStore.spans.has(id));
    const drainStart = Date.now();
    await waitFor(
      "every acknowledged span in the trace store",
      async () => missing().length === 0,
      DRAIN_S * 1000,
    ).catch(() => undefined);
    const spansStored = sent.size - missing().length;
    record({
      fault: "storage-outage",
      injected: `metric + trace store down ${outage.toFixed(0)} s under load`,
      spansSent: sent.size,
      spansStored,
      firehoseSent: deliveries.length,
      firehoseStored,
      notes: `${queuedAtRestore} spans queued at restore; ${load.stats.refused + load.stats.failed} OTLP requests refused; ${retried} Firehose requests retried (${outcomes.reduce((n, o) => n + o.attempts, 0)} attempts); drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`,
    });
    assert.ok(sent.size > 0, "the load generator got no acknowledgement at all");
    assert.ok(retried > 0, "no Firehose request was refused during the outage: it was not felt");
    assert.equal(
      delivered,
      deliveries.length,
      "some Firehose requests never got a 200 within the retry duration",
    );
    assert.equal(
      firehoseStored,
      deliveries.length,
      `${deliveries.length - firehoseStored} Firehose requests acknowledged but not stored`,
    );
    assert.ok(queuedAtRestore > 0, "no span was waiting when the stores came back: the outage was not felt");
    assert.equal(
      missing().length,
      0,
      `${missing().length} of ${sent.size} acknowledged spans never reached the trace store\n${pipeline.collector.tail()}`,
    );
  });
});
