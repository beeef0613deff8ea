// Logs get the traces' guarantees. Fault 1: the log store (the real VictoriaLogs) goes down under steady
// OTLP log load and comes back on the same data: every acknowledged record must end up stored (the
// collector's on-disk queue holds them). Fault 2: the collector is SIGKILLed under log load and started
// again on the same queue directory: no acknowledged record may be lost.
import * as assert from "node:assert/strict";
import { sleep } from "./control";
import { record } from "./ledger";
import { LogLoad, storedLogIds, waitForLogIds } from "./logLoad";
import { usePipeline } from "./pipeline";
import { DRAIN_S, OUTAGE_S, pipelineMissing } from "./settings";

describe("fault: log store outage and collector crash under log load", function () {
  this.timeout((OUTAGE_S + DRAIN_S + 90) * 1000);
  const current = usePipeline(pipelineMissing);

  it(`stores every acknowledged log record after the log store was down for ${OUTAGE_S} s`, async () => {
    const pipeline = current();
    const load = new LogLoad(pipeline.otlpLogsUrl, pipeline.otlpToken);
    load.start();
    await sleep(3_000);
    await pipeline.logStore.stop();
    const downAt = Date.now();
    await sleep(OUTAGE_S * 1000);
    const ackedDuringOutage = load.stats.acknowledged.size;
    await pipeline.logStore.start();
    const outage = (Date.now() - downAt) / 1000;
    const storedAtRestore = (await storedLogIds(pipeline.logsUrl, load.run)).size;
    await sleep(3_000);
    await load.stop();

    const drainStart = Date.now();
    const missing = await waitForLogIds(pipeline.logsUrl, load, DRAIN_S * 1000);
    const sent = load.stats.acknowledged.size;
    record({
      fault: "log-store-outage",
      injected: `log store down ${outage.toFixed(0)} s under load`,
      logsSent: sent,
      logsStored: sent - missing.length,
      notes: `${ackedDuringOutage - storedAtRestore} records queued at restore; ${load.stats.refused + load.stats.failed} requests refused; drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`,
    });
    assert.ok(sent > 0, "the load generator got no acknowledgement at all");
    assert.ok(
      ackedDuringOutage > storedAtRestore,
      "no record was waiting when the store came back: the outage was not felt",
    );
    assert.equal(
      missing.length,
      0,
      `${missing.length} of ${sent} acknowledged log records never reached the log store\n${pipeline.collector.tail()}`,
    );
  });

  it("loses no acknowledged log record when the collector is SIGKILLed and restarted", async () => {
    const pipeline = current();
    // The store is down while the collector dies, so the queue certainly holds acknowledged records.
    const load = new LogLoad(pipeline.otlpLogsUrl, pipeline.otlpToken);
    load.start();
    await sleep(2_000);
    await pipeline.logStore.stop();
    await sleep(5_000);
    const pending = load.stats.acknowledged.size - (await storedLogIds(pipeline.logsUrl, load.run)).size;
    const killedAt = Date.now();
    await pipeline.collector.kill();
    await sleep(1_000);
    await pipeline.collector.start();
    const downFor = (Date.now() - killedAt) / 1000;
    await pipeline.logStore.start();
    await sleep(3_000);
    await load.stop();

    const missing = await waitForLogIds(pipeline.logsUrl, load, DRAIN_S * 1000);
    const sent = load.stats.acknowledged.size;
    record({
      fault: "collector-crash-logs",
      injected: `collector SIGKILLed with ${pending} acknowledged records not yet stored, down ${downFor.toFixed(1)} s`,
      logsSent: sent,
      logsStored: sent - missing.length,
      notes: `${load.stats.refused + load.stats.failed} requests refused while it was down`,
    });
    assert.ok(pending > 0, "nothing was in flight when the collector died: the fault was not felt");
    assert.equal(
      missing.length,
      0,
      `${missing.length} of ${sent} acknowledged log records were lost\n${pipeline.collector.tail()}`,
    );
  });
});
