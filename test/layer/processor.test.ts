import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { AlwaysOffSampler, SamplingDecision, TracerProvider } from "@opentelemetry/sdk-trace";
import { OtlpHttpExporter } from "../../layer/src/exporter";
import { InvocationSpanProcessor } from "../../layer/src/processor";
import { startOtlpReceiver } from "./otlp";

/** A provider whose spans go to `processor`; returns a function that records `n` ended spans. */
function spansInto(processor: InvocationSpanProcessor) {
  const provider = new TracerProvider({ spanProcessors: [processor] });
  return (n: number) => {
    for (let i = 0; i < n; i++) provider.getTracer("t").startSpan(`span-${i}`).end();
  };
}

describe("layer export: OTLP/HTTP with a bounded flush", () => {
  it("protobuf by default, one request per flush, headers sent", async () => {
    const receiver = await startOtlpReceiver({ authorization: "Bearer t0k" });
    try {
      const exporter = new OtlpHttpExporter({
        url: `${receiver.url}/v1/traces`,
        protocol: "http/protobuf",
        headers: { authorization: "Bearer t0k" },
      });
      const processor = new InvocationSpanProcessor(exporter, 2000);
      spansInto(processor)(3);
      assert.deepEqual(await processor.flush(), { exported: 3, dropped: 0 });
      assert.equal(receiver.requests.length, 1);
      assert.equal(receiver.requests[0].contentType, "application/x-protobuf");
      assert.deepEqual(
        receiver.spans.map((s) => s.name),
        ["span-0", "span-1", "span-2"],
      );
      assert.deepEqual(
        await processor.flush(),
        { exported: 0, dropped: 0 },
        "nothing buffered, nothing sent",
      );
      assert.equal(receiver.requests.length, 1);
      await processor.shutdown();
    } finally {
      await receiver.close();
    }
  });

  it("http/json sends OTLP/JSON", async () => {
    const receiver = await startOtlpReceiver();
    try {
      const processor = new InvocationSpanProcessor(
        new OtlpHttpExporter({ url: `${receiver.url}/v1/traces`, protocol: "http/json", headers: {} }),
        2000,
      );
      spansInto(processor)(1);
      await processor.flush();
      assert.equal(receiver.requests[0].contentType, "application/json");
      assert.equal(receiver.spans[0].name, "span-0");
      assert.match(receiver.spans[0].traceId, /^[0-9a-f]{32}$/);
    } finally {
      await receiver.close();
    }
  });

  it("a wrong token (401) is reported, not thrown, and a lasting outage logs once", async () => {
    const receiver = await startOtlpReceiver({ authorization: "right" });
    const logs: string[] = [];
    try {
      const exporter = new OtlpHttpExporter({
        url: `${receiver.url}/v1/traces`,
        protocol: "http/protobuf",
        headers: {},
      });
      const processor = new InvocationSpanProcessor(exporter, 2000, (m) => logs.push(m));
      const record = spansInto(processor);
      record(1);
      const result = await processor.flush();
      assert.equal(result.exported, 0);
      assert.match(result.error ?? "", /HTTP 401/);
      record(1);
      await processor.flush();
      assert.equal(logs.length, 1, "an ongoing outage logs once");
    } finally {
      await receiver.close();
    }
  });

  it("a black-holed endpoint costs at most the budget and never rejects", async () => {
    // Accepts connections and never answers: the worst case for a synchronous flush.
    const sockets = new Set<import("node:net").Socket>();
    const hole = http.createServer(() => {});
    hole.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => hole.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(hole.address() as AddressInfo).port}/v1/traces`;
      const processor = new InvocationSpanProcessor(
        new OtlpHttpExporter({ url, protocol: "http/protobuf", headers: {} }),
        150,
      );
      spansInto(processor)(2);
      const started = Date.now();
      const result = await processor.flush();
      const elapsed = Date.now() - started;
      assert.equal(result.exported, 0);
      assert.match(result.error ?? "", /FIREFLY_FLUSH_TIMEOUT_MS=150/);
      assert.ok(elapsed < 1000, `flush returned after ${elapsed} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      hole.close();
    }
  });

  it("a shorter limit (the invocation's remaining time) wins over the budget", async () => {
    const never = { send: () => new Promise<void>(() => {}), shutdown() {} };
    const processor = new InvocationSpanProcessor(never, 5000);
    spansInto(processor)(1);
    const result = await processor.flush(20);
    assert.match(result.error ?? "", /remaining time \(20 ms\)/);
  });

  it("a refused connection fails fast", async () => {
    const processor = new InvocationSpanProcessor(
      new OtlpHttpExporter({ url: "http://127.0.0.1:9/v1/traces", protocol: "http/protobuf", headers: {} }),
      1000,
    );
    spansInto(processor)(1);
    const result = await processor.flush();
    assert.match(result.error ?? "", /ECONNREFUSED/);
  });

  it("unsampled spans are not buffered", async () => {
    const sent: number[] = [];
    const processor = new InvocationSpanProcessor(
      { send: async (spans) => void sent.push(spans.length), shutdown() {} },
      100,
    );
    const provider = new TracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [processor],
    });
    provider.getTracer("t").startSpan("dropped").end();
    assert.deepEqual(await processor.flush(), { exported: 0, dropped: 0 });
    assert.deepEqual(sent, []);
  });

  // AlwaysOff never reaches onEnd (the SDK makes a non-recording span), so the test above passes with or
  // without the processor's sampled check. A sampler that records without sampling does reach onEnd:
  // only the check keeps such a span out of the export.
  it("recorded but unsampled spans are not exported; sampled ones are", async () => {
    const sent: string[][] = [];
    const processor = new InvocationSpanProcessor(
      {
        send: async (spans) => void sent.push(spans.map((s) => ("name" in s ? s.name : "(log)"))),
        shutdown() {},
      },
      100,
    );
    const provider = new TracerProvider({
      sampler: {
        shouldSample: (_ctx, _trace, name) => ({
          decision: name === "kept" ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.RECORD,
        }),
        toString: () => "RecordOnly",
      },
      spanProcessors: [processor],
    });
    const tracer = provider.getTracer("t");
    const recorded = tracer.startSpan("recorded-only");
    assert.equal(recorded.isRecording(), true, "the span reaches the processor's onEnd");
    recorded.end();
    tracer.startSpan("kept").end();
    assert.deepEqual(await processor.flush(), { exported: 1, dropped: 0 });
    assert.deepEqual(sent, [["kept"]]);
  });
});

describe("layer export: circuit breaker", () => {
  it("opens after 3 failures in a row, skips exports while open, closes on the first success and reports what it dropped", async () => {
    const receiver = await startOtlpReceiver();
    try {
      let now = 1_000_000;
      const warnings: string[] = [];
      const exporter = new OtlpHttpExporter({
        url: `${receiver.url}/v1/traces`,
        protocol: "http/json",
        headers: {},
      });
      const processor = new InvocationSpanProcessor(
        exporter,
        2000,
        (m) => warnings.push(m),
        5000,
        () => now,
      );
      const provider = new TracerProvider({ spanProcessors: [processor] });
      const invocation = () => {
        const span = provider.getTracer("t").startSpan("invocation");
        processor.stampDropped(span);
        span.end();
        return processor.flush();
      };
      receiver.respondWith(503);
      for (let i = 0; i < 3; i++) assert.equal((await invocation()).exported, 0);
      assert.equal(receiver.requests.length, 3);
      assert.equal(processor.breakerOpen, true);
      // Open: no request at all, the span is counted as dropped.
      assert.deepEqual(await invocation(), { exported: 0, dropped: 1, error: "circuit breaker open" });
      assert.equal(receiver.requests.length, 3);
      receiver.respondWith(200);
      now += 5001;
      assert.equal(processor.breakerOpen, false, "half-open once the retry window passed");
      assert.equal((await invocation()).exported, 1);
      const [reported] = receiver.spans;
      assert.equal(reported.attributes["firefly.spans.dropped"], 4, "3 failed + 1 skipped");
      // Reported once: the next span carries no count.
      await invocation();
      assert.equal(receiver.spans[1].attributes["firefly.spans.dropped"], undefined);
      assert.equal(warnings.length, 2);
      assert.match(warnings[0], /HTTP 503 \(after 3 failures in a row, export is retried every 5 s\)/);
      assert.equal(warnings[1], "span export recovered");
    } finally {
      await receiver.close();
    }
  });

  it("a half-open breaker that fails again reopens at once", async () => {
    const receiver = await startOtlpReceiver();
    try {
      let now = 0;
      receiver.respondWith(503);
      const exporter = new OtlpHttpExporter({
        url: `${receiver.url}/v1/traces`,
        protocol: "http/json",
        headers: {},
      });
      const processor = new InvocationSpanProcessor(
        exporter,
        2000,
        () => {},
        1000,
        () => now,
      );
      const record = spansInto(processor);
      for (let i = 0; i < 3; i++) {
        record(1);
        await processor.flush();
      }
      now += 1001;
      record(1);
      await processor.flush();
      assert.equal(receiver.requests.length, 4, "one trial export");
      assert.equal(processor.breakerOpen, true);
    } finally {
      await receiver.close();
    }
  });
});
