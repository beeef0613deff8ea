// No trace evasion from outside: an internet caller's `traceparent` with sampled=0 no longer makes an
// invocation leave no span (the span still joins the caller's trace), while callers inside the account
// (queues, topics, SDK invokes) keep their say, and FIREFLY_STRICT_PARENT_SAMPLING restores plain
// parent-based sampling. First the sampler on the real SDK, then the built layer under aws-lambda-ric.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { extractParent } from "../../layer/src/context";
import {
  guardedSampler,
  rootSamplerOf,
  SAMPLERS,
  type SamplerName,
  STRICT_PARENT_SAMPLING_ENV,
  UntrustedParentSampler,
} from "../../layer/src/samplers";
import { createSampler } from "../../layer/src/tracing";
import * as events from "./events";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp";
import { type LambdaFunction, startFunction } from "./runtime";

const UNSAMPLED = "00";
const withFlags = <T>(event: T, header: string, spanId: string, flags: string): T => {
  const copy = structuredClone(event) as Record<string, unknown>;
  copy.headers = { [header]: events.tp(spanId, flags) };
  if ("multiValueHeaders" in copy) copy.multiValueHeaders = { [header]: [events.tp(spanId, flags)] };
  return copy as T;
};

/** Starts the invocation span the way the layer does (parent and faas.trigger from the router); returns what was recorded. */
function invoke(sampler: SamplerName, event: unknown, env: Record<string, string> = {}, ratio = 1) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: guardedSampler(
      sampler,
      (name) => createSampler({ sampler: name, samplerRatio: ratio }),
      trace.getSpanContext,
      env,
    ),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const incoming = extractParent(event);
  const span = provider
    .getTracer("t")
    .startSpan(
      "fn",
      { kind: incoming.kind, attributes: { "faas.trigger": incoming.trigger } },
      incoming.parent,
    );
  span.end();
  return exporter.getFinishedSpans();
}

const OUTSIDE: [string, unknown][] = [
  ["API Gateway REST", withFlags(events.apiGatewayRest, "TraceParent", "1000000000000001", UNSAMPLED)],
  ["API Gateway HTTP", withFlags(events.apiGatewayHttp, "traceparent", "2000000000000001", UNSAMPLED)],
  ["function URL", withFlags(events.functionUrl, "traceparent", "3000000000000001", UNSAMPLED)],
  ["ALB", withFlags(events.alb, "TRACEPARENT", "4000000000000001", UNSAMPLED)],
];

describe("sampler: outside callers cannot switch tracing off", () => {
  for (const [what, event] of OUTSIDE) {
    it(`${what}: sampled=0 still leaves a span, in the caller's trace`, () => {
      const spans = invoke("parentbased_always_on", event);
      assert.equal(spans.length, 1);
      const sc = spans[0].spanContext();
      assert.equal(sc.traceId, events.TRACE_ID, "the caller's trace id is joined");
      assert.equal(
        spans[0].parentSpanContext?.spanId,
        extractParent(event).parent && trace.getSpanContext(extractParent(event).parent)?.spanId,
      );
      assert.equal(sc.traceFlags & 1, 1);
    });
  }

  it(`${STRICT_PARENT_SAMPLING_ENV}=true restores strict parent-based sampling`, () => {
    for (const [, event] of OUTSIDE)
      assert.equal(
        invoke("parentbased_always_on", event, { [STRICT_PARENT_SAMPLING_ENV]: "true" }).length,
        0,
      );
  });

  it("callers inside the account keep their say: an SQS message and an SDK invoke with sampled=0 leave none", () => {
    const unsampled = (tp: string) => tp.replace(/-01$/, "-00");
    const sqs = structuredClone(events.sqsOne) as any;
    const attr = sqs.Records[0].messageAttributes.traceparent;
    attr.stringValue = unsampled(attr.stringValue);
    const invokeEvent = {
      ...events.asyncInvoke,
      _firefly: { traceparent: unsampled(events.asyncInvoke._firefly.traceparent) },
    };
    for (const event of [sqs, invokeEvent])
      assert.equal(invoke("parentbased_always_on", event).length, 0, JSON.stringify(event));
  });

  it("an outside caller cannot raise the sampling rate either: sampled=1 meets the root sampler", () => {
    const sampledEvent = withFlags(events.apiGatewayHttp, "traceparent", "2000000000000001", "01");
    assert.equal(invoke("parentbased_traceidratio", sampledEvent, {}, 0).length, 0);
    assert.equal(
      invoke("parentbased_traceidratio", sampledEvent, { [STRICT_PARENT_SAMPLING_ENV]: "1" }, 0).length,
      1,
    );
  });

  it("a request without a traceparent is a root, sampled as configured", () => {
    const bare = { ...events.apiGatewayHttp, headers: {} };
    assert.equal(invoke("parentbased_always_on", bare).length, 1);
    assert.equal(invoke("parentbased_always_off", bare).length, 0);
  });

  it("guards exactly the parent-based samplers", () => {
    const make = (name: SamplerName) => createSampler({ sampler: name, samplerRatio: 1 });
    for (const name of SAMPLERS) {
      const s = guardedSampler(name, make, trace.getSpanContext, {});
      assert.equal(s instanceof UntrustedParentSampler, name.startsWith("parentbased_"), name);
      assert.equal(rootSamplerOf(name) !== undefined, name.startsWith("parentbased_"), name);
    }
  });
});

describe("sampler: the built layer under aws-lambda-ric", function () {
  this.timeout(30_000);
  const FN = path.join(__dirname, "fixtures/fn");
  let receiver: OtlpReceiver;
  const running: LambdaFunction[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const fn = await startFunction({
      mode: "redirect",
      taskRoot: FN,
      handler: "index.http",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env },
    });
    running.push(fn);
    return fn;
  };
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((f) => f.stop()));
    await receiver.close();
  });

  it("an HTTP API request with sampled=0 leaves a span in the caller's trace; strict mode leaves none", async () => {
    const event = withFlags(events.apiGatewayHttp, "traceparent", "2000000000000001", UNSAMPLED);
    const guarded = await start();
    const res = await guarded.invoke(event);
    assert.ok(res.ok, JSON.stringify(res));
    // The layer exports after the response: wait until the environment is released.
    await guarded.billedMs(res.requestId);
    const spans = receiver.spans.filter((s) => s.attributes["faas.invocation_id"] === res.requestId);
    assert.equal(spans.length, 1, guarded.log);
    assert.equal(spans[0].traceId, events.TRACE_ID);
    assert.equal(spans[0].parentSpanId, "2000000000000001");

    const strict = await start({ [STRICT_PARENT_SAMPLING_ENV]: "true" });
    const quiet = await strict.invoke(event);
    assert.ok(quiet.ok);
    await strict.billedMs(quiet.requestId);
    assert.equal(
      receiver.spans.filter((s) => s.attributes["faas.invocation_id"] === quiet.requestId).length,
      0,
    );
  });
});
