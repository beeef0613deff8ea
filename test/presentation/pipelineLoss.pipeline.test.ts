// The pipeline-loss alert against a real loss, not just "returns data" (its terms count a missing
// counter as 0, so it always returns something). A private pipeline whose metric store goes away:
// Firehose deliveries are refused (503, the collector's receiver counts them), the store comes back,
// and the alert's expression, as provisioned, must read above its threshold; before the loss it read 0.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ALERT_DEFAULTS, alertRules } from "../../components/presentation/alerts";
import { deliver, lambdaMetricData, metricStreamRecord } from "../pipeline/firehose";
import { stopProcess } from "../pipeline/processes";
import { promQuery, waitForSamples } from "../pipeline/query";
import { type RunningPipeline, startPipeline, startPrometheus } from "../pipeline/stack";

describe("the pipeline-loss alert fires on a real loss", function () {
  this.timeout(240_000);
  let pipeline: RunningPipeline;
  const rule = alertRules({ ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: {} }).find(
    (r) => r.uid === "firefly-pipeline-loss",
  )!;
  const FN = `loss-${randomBytes(3).toString("hex")}`;
  const record = () =>
    metricStreamRecord(lambdaMetricData({ functionName: FN, invocations: 5, errors: 0, endMs: Date.now() }));

  before(async () => {
    pipeline = await startPipeline();
  });
  after(async () => {
    await pipeline?.stop();
  });

  it("reads 0 while nothing is lost, and above its threshold after deliveries were refused", async () => {
    const prom = () => pipeline.prometheus.url;
    const firehose = {
      url: pipeline.local.firehose.url,
      accessKey: pipeline.local.firehose.accessKey,
    };
    assert.equal((await deliver([record()], { ...firehose, retryForMs: 20_000 })).status, 200);
    // The collector's own metrics arrive every 15 s: wait until it has reported accepting that delivery.
    await waitForSamples(prom(), "otelcol_receiver_accepted_metric_points_total > 0", { timeoutMs: 60_000 });
    const healthy = await promQuery(prom(), rule.expr);
    assert.deepEqual(
      healthy.map((s) => s.value),
      [0],
      "the loss expression reads 0 on a healthy pipeline",
    );

    // The store goes away: the collector can no longer write, and answers Firehose with a retryable error.
    const port = pipeline.prometheus.port;
    await stopProcess(pipeline.prometheus.process);
    // One refused delivery: a single burst of loss.
    const refused = await deliver([record()], firehose);
    assert.notEqual(refused.status, 200, "a delivery was acknowledged with no store behind the collector");
    pipeline.prometheus = await startPrometheus(pipeline.dir, port);

    // Its own counters, queued while the store was away, arrive; the alert's expression sees the loss.
    const fired = await waitForSamples(prom(), rule.expr, {
      timeoutMs: 120_000,
      until: function aboveThreshold(s) {
        return s[0].value > rule.threshold;
      },
    });
    assert.ok(fired[0].value > 0, JSON.stringify(fired));
  });
});
