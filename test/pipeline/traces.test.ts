// End to end on the local pipeline: spans over OTLP/HTTP reach Jaeger with parent and child intact
// (sent by hand and by the real layer under aws-lambda-ric), a wrong or missing token is refused with
// 401 and stores nothing, and span metrics and the collector's own metrics reach Prometheus.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type InvokeApi,
  LAYER_ZIP,
  type LambdaFunction,
  startFunction,
  startInvokeApi,
} from "../layer/runtime";
import { ensureLocalPipeline, type LocalPipeline } from "./local";
import { callChain, newTraceId, sendTrace } from "./otlp";
import { type JaegerTrace, jaegerFindTraces, jaegerTrace, waitForSamples, waitForTrace } from "./query";

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

/** Each span's operation → its parent's operation (undefined for the root), from CHILD_OF references. */
function parentage(trace: JaegerTrace): Record<string, string | undefined> {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  return Object.fromEntries(
    trace.spans.map((s) => {
      const parent = s.references.find((r) => r.refType === "CHILD_OF");
      return [
        s.operationName,
        parent ? (byId.get(parent.spanID)?.operationName ?? "(missing parent)") : undefined,
      ];
    }),
  );
}

describe("pipeline: OTLP traces → Jaeger", function () {
  this.timeout(90_000);
  let local: LocalPipeline;
  before(async () => {
    local = await ensureLocalPipeline();
  });

  it("keeps parent and child across spans and services", async () => {
    const prefix = unique("otlp");
    const traceId = newTraceId();
    assert.equal(await sendTrace(local.otlp.url, local.otlp.headers, traceId, callChain(prefix)), 200);
    const trace = await waitForTrace(local.traces.jaegerUrl, traceId, { spans: 3 });
    assert.deepEqual(parentage(trace), {
      "GET /orders": undefined,
      "Lambda.Invoke": "GET /orders",
      [`${prefix}-worker`]: "Lambda.Invoke",
    });
    const services = Object.values(trace.processes)
      .map((p) => p.serviceName)
      .sort();
    assert.deepEqual(services, [`${prefix}-api`, `${prefix}-worker`]);
  });

  for (const [what, headers] of [
    ["wrong", { authorization: "Bearer not-the-token" }],
    ["missing", {}],
  ] as const) {
    it(`refuses a ${what} token with 401 and stores nothing`, async () => {
      const refused = newTraceId();
      assert.equal(await sendTrace(local.otlp.url, headers, refused, callChain(unique("refused"))), 401);
      // The good trace sent after it arrives; the refused one never does.
      const accepted = newTraceId();
      assert.equal(
        await sendTrace(local.otlp.url, local.otlp.headers, accepted, callChain(unique("ok"))),
        200,
      );
      await waitForTrace(local.traces.jaegerUrl, accepted, { spans: 3 });
      assert.equal(await jaegerTrace(local.traces.jaegerUrl, refused), undefined);
    });
  }

  it("derives request, error and duration metrics per function and operation (span metrics)", async () => {
    const prefix = unique("red");
    for (const error of [false, true]) {
      const spans = callChain(prefix);
      spans[2].error = error;
      assert.equal(await sendTrace(local.otlp.url, local.otlp.headers, newTraceId(), spans), 200);
    }
    const worker = `faas_name="${prefix}-worker",span_name="${prefix}-worker"`;
    // Flushed every 15 s.
    const [calls] = await waitForSamples(
      local.prometheus.url,
      `sum(traces_span_metrics_calls_total{${worker}})`,
      { timeoutMs: 45_000, until: ([s]) => s.value >= 2 },
    );
    assert.equal(calls.value, 2);
    const [errors] = await waitForSamples(
      local.prometheus.url,
      `traces_span_metrics_calls_total{${worker},status_code="STATUS_CODE_ERROR"}`,
    );
    assert.equal(errors.value, 1);
    const buckets = await waitForSamples(
      local.prometheus.url,
      `sum by (le) (traces_span_metrics_duration_milliseconds_bucket{${worker}})`,
    );
    const le = Object.fromEntries(buckets.map((b) => [b.metric.le, b.value]));
    assert.equal(le["10"], 0);
    assert.equal(le["25"], 2, "both 25 ms spans fall in the 25 ms bucket");
  });

  it("sends the collector's own metrics to Prometheus under job firefly-gateway", async () => {
    const job = 'job="firefly-gateway"';
    await waitForSamples(local.prometheus.url, `otelcol_process_uptime_seconds_total{${job}}`, {
      timeoutMs: 45_000,
    });
    const [spans] = await waitForSamples(
      local.prometheus.url,
      `sum(otelcol_receiver_accepted_spans_total{${job},receiver="otlp"}) > 0`,
      { timeoutMs: 45_000 },
    );
    assert.ok(spans.value > 0);
    await waitForSamples(
      local.prometheus.url,
      `otelcol_exporter_sent_spans_total{${job},exporter="otlp_grpc/traces"}`,
      {
        timeoutMs: 45_000,
      },
    );
  });

  describe("through the real layer (aws-lambda-ric, built zip)", () => {
    const running: LambdaFunction[] = [];
    let invokeApi: InvokeApi | undefined;
    before(() => {
      if (!fs.existsSync(LAYER_ZIP))
        throw new Error(`${LAYER_ZIP} is missing; build it with \`npm run build:layer\``);
    });
    after(async () => {
      invokeApi?.close();
      await Promise.all(running.splice(0).map((f) => f.stop()));
    });

    it("caller → SDK Invoke → callee arrive as one trace with the callee a child of the call", async () => {
      const fixtures = path.join(__dirname, "../layer/fixtures/fn");
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: local.otlp.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(local.otlp.headers.authorization)}`,
      };
      const calleeName = unique("callee");
      const callee = await startFunction({
        mode: "redirect",
        taskRoot: fixtures,
        handler: "index.handler",
        env,
        functionName: calleeName,
      });
      running.push(callee);
      invokeApi = await startInvokeApi(callee);
      const callerName = unique("caller");
      const caller = await startFunction({
        mode: "wrapper",
        taskRoot: fixtures,
        handler: "caller.handler",
        functionName: callerName,
        env: {
          ...env,
          FIXTURE_LAMBDA_ENDPOINT: invokeApi.url,
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "secret",
        },
      });
      running.push(caller);
      const result = await caller.invoke({ async: false });
      assert.equal(result.ok, true, JSON.stringify(result.error));

      let traces: JaegerTrace[] = [];
      const deadline = Date.now() + 30_000;
      while (traces.length === 0 && Date.now() < deadline) {
        traces = await jaegerFindTraces(local.traces.jaegerUrl, callerName);
        if (traces.length === 0) await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(traces.length, 1, `one trace for ${callerName}; caller log:\n${caller.log}`);
      const trace = await waitForTrace(local.traces.jaegerUrl, traces[0].traceID, { spans: 3 });
      const parents = parentage(trace);
      assert.equal(parents[callerName], undefined, "the caller's invocation is the root");
      assert.equal(parents["Lambda.Invoke"], callerName);
      assert.equal(parents[calleeName], "Lambda.Invoke", "the callee is a child of the call, not a sibling");
      // The SDK's own HTTP request span is there too; no span points at a parent the store lacks.
      assert.ok(!Object.values(parents).includes("(missing parent)"), JSON.stringify(parents));
      const services = Object.values(trace.processes)
        .map((p) => p.serviceName)
        .sort();
      assert.deepEqual(services, [calleeName, callerName].sort());
    });
  });
});
