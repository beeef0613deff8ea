// The layer's lean tracer (layer/src/tracer.ts) against the OpenTelemetry SDK's: the same calls on both
// must leave the same spans, since the layer replaced the SDK's TracerProvider to start faster.
import * as assert from "node:assert/strict";
import { context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { LayerTracerProvider } from "../../layer/src/tracer";
import { AsyncLocalStorageContextManager } from "../../layer/src/tracing";

class Recorder implements SpanProcessor {
  readonly started: unknown[] = [];
  readonly ended: ReadableSpan[] = [];
  onStart(span: unknown): void {
    this.started.push(span);
  }
  onEnd(span: ReadableSpan): void {
    this.ended.push(span);
  }
  forceFlush = async () => {};
  shutdown = async () => {};
}

const ATTRS = { "service.name": "svc" };

/** The same tracer name on the SDK and on the layer, each with its own recording processor. */
function both(sampler: Sampler = new AlwaysOnSampler()) {
  const sdk = new Recorder();
  const lean = new Recorder();
  return {
    sdk,
    lean,
    tracers: [
      new TracerProvider({
        resource: resourceFromAttributes(ATTRS),
        sampler,
        spanProcessors: [sdk],
      }).getTracer("scope", "1.2.3"),
      new LayerTracerProvider({ attributes: ATTRS }, sampler, lean).getTracer("scope", "1.2.3"),
    ],
  };
}

/** What an exporter reads of a span, less what differs by construction (ids, times). */
function shape(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      name: e.name,
      attributes: e.attributes,
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links,
    droppedLinksCount: span.droppedLinksCount,
    status: span.status,
    ended: span.ended,
    traceFlags: span.spanContext().traceFlags,
    parent: span.parentSpanContext?.spanId,
    scope: span.instrumentationScope,
    resource: span.resource.attributes,
  };
}

describe("layer tracer: the same spans as the OpenTelemetry SDK's", () => {
  before(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager()));
  after(() => context.disable());

  it("attributes, events, exceptions, links, status and limits come out alike", () => {
    const { sdk, lean, tracers } = both();
    const link = {
      context: { traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: 1 },
      attributes: { l: 1 },
    };
    for (const tracer of tracers) {
      const span = tracer.startSpan("op", {
        kind: SpanKind.SERVER,
        attributes: { a: 1, bad: { nested: true } as never, list: ["x", "y"] },
        links: [link],
      });
      span.setAttribute("b", "two");
      span.setAttribute("mixed", [1, "x"] as never);
      for (let i = 0; i < 130; i++) span.setAttribute(`k${i}`, i);
      span.addEvent("e1", { n: 1 });
      span.addEvent("e2", 1_700_000_000_000);
      span.recordException(Object.assign(new Error("boom"), { name: "TypeError" }));
      span.recordException("just text");
      span.addLink({ context: link.context });
      span.setStatus({ code: SpanStatusCode.ERROR, message: "bad" });
      span.updateName("renamed");
      span.end();
      // after end: all ignored, as in the SDK
      span.setAttribute("late", 1);
      span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    }
    assert.equal(sdk.ended.length, 1);
    assert.equal(lean.ended.length, 1);
    const expected = shape(sdk.ended[0]);
    assert.deepEqual(shape(lean.ended[0]), expected);
    // 2 invalid values (the object, the mixed array) and 5 over the limit of 128, as the SDK counts them
    assert.equal(expected.droppedAttributesCount, 7);
    assert.equal(expected.events.length, 4);
    assert.equal(lean.ended[0].events[2].attributes?.["exception.type"], "TypeError");
  });

  it("an OK status sticks; UNSET changes nothing; times are ordered and in the epoch", () => {
    const { sdk, lean, tracers } = both();
    for (const tracer of tracers) {
      const span = tracer.startSpan("ok");
      span.setStatus({ code: SpanStatusCode.OK });
      span.setStatus({ code: SpanStatusCode.ERROR, message: "later" });
      span.setStatus({ code: SpanStatusCode.UNSET });
      span.end();
      const dated = tracer.startSpan("dated", { startTime: new Date(1_700_000_000_000) });
      dated.end(new Date(1_700_000_000_250));
    }
    assert.deepEqual(lean.ended.map(shape), sdk.ended.map(shape));
    for (const [a, b] of [
      [sdk.ended[1], lean.ended[1]],
      [sdk.ended[0], lean.ended[0]],
    ]) {
      assert.deepEqual(b.startTime.length, 2);
      assert.ok(b.duration[0] >= 0 && b.duration[1] >= 0);
      assert.ok(Math.abs(b.startTime[0] - a.startTime[0]) <= 1, "the same clock as the SDK's");
    }
    assert.deepEqual(lean.ended[1].startTime, [1_700_000_000, 0]);
    assert.deepEqual(lean.ended[1].duration, [0, 250_000_000]);
  });

  it("children join their parent's trace; root starts a new one; startActiveSpan takes every form", () => {
    const { sdk, lean, tracers } = both();
    for (const tracer of tracers) {
      const parent = tracer.startSpan("parent");
      const ctx = trace.setSpan(ROOT_CONTEXT, parent);
      const child = tracer.startSpan("child", {}, ctx);
      assert.equal(child.spanContext().traceId, parent.spanContext().traceId);
      const root = tracer.startSpan("root", { root: true }, ctx);
      assert.notEqual(root.spanContext().traceId, parent.spanContext().traceId);
      assert.match(child.spanContext().spanId, /^[0-9a-f]{16}$/);
      assert.match(root.spanContext().traceId, /^[0-9a-f]{32}$/);
      const inner = (span: Span) => {
        assert.equal(trace.getSpan(context.active()), span);
        span.end();
        return span.spanContext().traceId;
      };
      assert.equal(
        tracer.startActiveSpan("active-ctx", {}, ctx, inner),
        parent.spanContext().traceId,
        "the given context is the parent",
      );
      context.with(ctx, () => {
        assert.equal(tracer.startActiveSpan("active-fn", inner), parent.spanContext().traceId);
        assert.equal(
          tracer.startActiveSpan("active-opts", { kind: SpanKind.CLIENT }, inner),
          parent.spanContext().traceId,
        );
      });
      for (const s of [root, child, parent]) s.end();
    }
    assert.deepEqual(
      lean.ended.map((s) => [s.name, s.kind, s.parentSpanContext ? "child" : "root"]),
      sdk.ended.map((s) => [s.name, s.kind, s.parentSpanContext ? "child" : "root"]),
    );
    assert.equal(lean.started.length, sdk.started.length);
  });

  it("a sampler's NOT_RECORD and suppressed tracing give non-recording spans, never reaching the processor", () => {
    const { sdk, lean, tracers } = both(new AlwaysOffSampler());
    for (const tracer of tracers) {
      const off = tracer.startSpan("off");
      assert.equal(off.isRecording(), false);
      assert.equal(off.spanContext().traceFlags, 0);
      off.end();
      const suppressed = tracer.startSpan("quiet", {}, suppressTracing(ROOT_CONTEXT));
      assert.equal(trace.isSpanContextValid(suppressed.spanContext()), false);
    }
    assert.equal(sdk.started.length + lean.started.length, 0);
    const recordOnly: Sampler = {
      shouldSample: () => ({ decision: SamplingDecision.RECORD, attributes: { sampled: "no" } }),
    };
    const r = both(recordOnly);
    for (const tracer of r.tracers) tracer.startSpan("recorded").end();
    assert.deepEqual(r.lean.ended.map(shape), r.sdk.ended.map(shape));
    assert.equal(r.lean.ended[0].spanContext().traceFlags, 0, "recorded, not sampled");
    assert.equal(r.lean.ended[0].attributes.sampled, "no", "the sampler's attributes are kept");
  });

  it("one tracer per name, version and schema URL; flushing the provider flushes its processor", async () => {
    const recorder = new Recorder();
    let flushed = 0;
    recorder.forceFlush = async () => {
      flushed++;
    };
    const provider = new LayerTracerProvider({ attributes: {} }, new AlwaysOnSampler(), recorder);
    await provider.forceFlush();
    assert.equal(flushed, 1);
    assert.equal(provider.getTracer("a"), provider.getTracer("a"));
    assert.notEqual(provider.getTracer("a"), provider.getTracer("a", "2"));
    assert.notEqual(provider.getTracer("a", "2"), provider.getTracer("a", "2", { schemaUrl: "s" }));
  });
});
