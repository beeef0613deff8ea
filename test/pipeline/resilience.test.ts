// On a private pipeline this file may break: tail sampling keeps what it must and drops the rest
// (while span metrics still count everything), a metric-store outage turns into non-200 answers that
// Firehose retries instead of 200-and-drop, and traces queued during a trace-store outage survive a
// collector restart on the file-storage queue.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { lambdaMetricName } from "../../components/shipping/collectorConfig";
import { deliver, lambdaMetricData, metricStreamRecord } from "./firehose";
import { callChain, newTraceId, sendTrace } from "./otlp";
import { isRunning, sleep, stopProcess } from "./processes";
import { jaegerTrace, waitForSamples, waitForTrace } from "./query";
import { type RunningPipeline, startCollector, startJaeger, startPipeline, startPrometheus } from "./stack";

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

describe("pipeline resilience (private pipeline)", function () {
  this.timeout(120_000);
  let pipeline: RunningPipeline;
  before(async () => {
    // No share of ordinary traces: only the keep rules decide.
    pipeline = await startPipeline({ samplingPercent: 0, decisionWaitSeconds: 1, slowTraceMs: 1000 });
  });
  after(async () => {
    await pipeline?.stop();
  });

  it("keeps error, slow and force-kept traces, drops ordinary ones, and span metrics still count them all", async () => {
    const { otlp, traces, prometheus } = pipeline.local;
    const send = async (spans: ReturnType<typeof callChain>) => {
      const traceId = newTraceId();
      assert.equal(await sendTrace(otlp.url, otlp.headers, traceId, spans), 200);
      return traceId;
    };
    const ordinaryPrefix = unique("ordinary");
    const ordinary = await send(callChain(ordinaryPrefix));
    const kept: Record<string, string> = {};
    const error = callChain(unique("error"));
    error[2].error = true;
    kept.error = await send(error);
    const slow = callChain(unique("slow"));
    slow[0].durationMs = 1500;
    kept.slow = await send(slow);
    const forced = callChain(unique("forced"));
    forced[1].attributes = { "firefly.keep": true };
    kept.forced = await send(forced);
    const forcedString = callChain(unique("forced-string"));
    forcedString[2].attributes = { "firefly.keep": "true" };
    kept.forcedString = await send(forcedString);

    for (const [rule, traceId] of Object.entries(kept)) {
      const trace = await waitForTrace(traces.jaegerUrl, traceId, { spans: 3 });
      assert.equal(trace.spans.length, 3, `${rule}: the whole trace is kept`);
    }
    // Decided in the same round as the kept ones, sent before them.
    assert.equal(await jaegerTrace(traces.jaegerUrl, ordinary), undefined);
    const [calls] = await waitForSamples(
      prometheus.url,
      `sum(traces_span_metrics_calls_total{service_name="${ordinaryPrefix}-api"})`,
      { timeoutMs: 45_000, until: ([s]) => s.value >= 2 },
    );
    assert.equal(calls.value, 2, "the dropped trace's two api spans are counted");
  });

  it("answers Firehose with a retryable non-200 while the metric store is down, and stores the retried delivery once it is back", async () => {
    const { firehose, prometheus } = pipeline.local;
    const fn = unique("outage");
    const records = [metricStreamRecord(lambdaMetricData({ functionName: fn, invocations: 7 }))];
    await stopProcess(pipeline.prometheus.process);

    try {
      // The remote-write exporter marks every failure permanent, so the receiver answers 400, not 503;
      // Firehose retries every answer but 200 and 413, so what matters is: not 200, not 413.
      const during = await deliver(records, firehose);
      assert.notEqual(during.status, 200, "never 200-and-drop");
      assert.notEqual(during.status, 413, "413 is the one answer Firehose does not retry");
      assert.equal(during.status, 400, JSON.stringify(during.body));

      // Firehose keeps retrying the same delivery; the store comes back meanwhile.
      const retried = deliver(records, { ...firehose, retryForMs: 60_000 });
      await sleep(1_000);
      pipeline.prometheus = await startPrometheus(pipeline.dir, pipeline.prometheus.port);
      const result = await retried;
      assert.equal(result.status, 200, JSON.stringify(result.body));
    } finally {
      if (!isRunning(pipeline.prometheus.process)) {
        pipeline.prometheus = await startPrometheus(pipeline.dir, pipeline.prometheus.port);
      }
    }
    const [invocations] = await waitForSamples(
      prometheus.url,
      `${lambdaMetricName("Invocations")}_sum{FunctionName="${fn}",Resource=""}`,
    );
    assert.equal(invocations.value, 7);
  });

  it("keeps traces queued on disk through a trace-store outage and a collector restart", async () => {
    const { otlp, traces, prometheus } = pipeline.local;
    await stopProcess(pipeline.jaeger.process);
    const traceId = newTraceId();
    const spans = callChain(unique("queued"));
    spans[2].error = true;
    assert.equal(
      await sendTrace(otlp.url, otlp.headers, traceId, spans),
      200,
      "accepted while the store is down",
    );

    // Wait until the export has failed at least once, so the trace sits in the queue, then restart.
    await waitForSamples(
      prometheus.url,
      'sum(otelcol_exporter_queue_size{job="firefly-gateway",exporter="otlp_grpc/traces"}) > 0',
      { timeoutMs: 45_000 },
    );
    await stopProcess(pipeline.collector.process);
    pipeline.jaeger = await startJaeger(pipeline.dir, pipeline.jaeger.ports);
    const { options, secrets } = pipeline.collector;
    pipeline.collector = await startCollector(pipeline.dir, options, secrets);

    const trace = await waitForTrace(traces.jaegerUrl, traceId, { spans: 3, timeoutMs: 60_000 });
    assert.equal(trace.spans.length, 3);
  });
});
