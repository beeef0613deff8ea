import * as assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { DEFAULT_PROPAGATOR } from "../../layer/src/context";
import {
  crashInvocation,
  type Instrumentation,
  RESPONSE_MARGIN_MS,
  wrapHandler,
} from "../../layer/src/invocation";
import { AsyncLocalStorageContextManager } from "../../layer/src/tracing";
import * as events from "./events";

const lambdaContext = (id = "req-1") => ({
  awsRequestId: id,
  functionName: "orders",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
});

describe("layer invocation span (real SDK, in-memory exporter)", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const flushes: string[] = [];
  const instrumentation = (overrides: Partial<Instrumentation> = {}): Instrumentation => ({
    tracer: provider.getTracer("test"),
    propagator: DEFAULT_PROPAGATOR,
    // The 3.x SimpleSpanProcessor exports asynchronously: flushing waits for it, as the layer's flush does.
    flush: async () => {
      await provider.forceFlush();
      flushes.push(`flushed ${exporter.getFinishedSpans().length}`);
    },
    coldStartPossible: true,
    ...overrides,
  });
  // Invoking through a callback the way aws-lambda-ric does: the promise if one is returned, else the callback.
  const run = (handler: (...a: any[]) => unknown, event: unknown, ctx: object = lambdaContext()) =>
    new Promise<{ error?: unknown; result?: unknown }>((resolve) => {
      const returned = handler(event, ctx, (error: unknown, result: unknown) => resolve({ error, result }));
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(
          (result) => resolve({ result }),
          (error) => resolve({ error }),
        );
      }
    });

  before(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager()));
  after(() => context.disable());
  beforeEach(() => {
    exporter.reset();
    flushes.length = 0;
  });

  it("one SERVER span with the FaaS attributes; coldstart only on the first call", async () => {
    const handler = wrapHandler(async () => "ok", instrumentation());
    assert.deepEqual(await run(handler, {}), { result: "ok" });
    await run(handler, {}, lambdaContext("req-2"));
    const [first, second] = exporter.getFinishedSpans();
    assert.equal(first.name, "orders");
    assert.equal(first.kind, SpanKind.SERVER);
    assert.equal(first.attributes["faas.invocation_id"], "req-1");
    assert.equal(first.attributes["faas.trigger"], "other");
    assert.equal(first.attributes["faas.coldstart"], true);
    assert.equal(
      first.attributes["cloud.resource_id"],
      "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
    );
    assert.equal(first.attributes["cloud.account.id"], "123456789012");
    assert.equal(second.attributes["faas.coldstart"], false);
  });

  it("provisioned concurrency: no invocation is cold", async () => {
    const handler = wrapHandler(async () => "ok", instrumentation({ coldStartPossible: false }));
    await run(handler, {});
    assert.equal(exporter.getFinishedSpans()[0].attributes["faas.coldstart"], false);
  });

  it("flushes after the span ends and before the result is returned", async () => {
    const handler = wrapHandler(async () => "ok", instrumentation());
    await run(handler, {});
    assert.deepEqual(flushes, ["flushed 1"]);
  });

  it("the flush never outlasts the invocation: limited to the remaining time minus a margin", async () => {
    const limits: (number | undefined)[] = [];
    const handler = wrapHandler(
      async () => "ok",
      instrumentation({ flush: async (limit) => void limits.push(limit) }),
    );
    await run(handler, {}, { ...lambdaContext(), getRemainingTimeInMillis: () => 180 });
    await run(handler, {}, lambdaContext());
    assert.deepEqual(limits, [180 - RESPONSE_MARGIN_MS, undefined]);
  });

  it("the span is the child of the incoming context and active inside the handler", async () => {
    let inside: string | undefined;
    const handler = wrapHandler(async () => {
      await new Promise((r) => setTimeout(r, 1));
      inside = trace.getActiveSpan()?.spanContext().spanId;
    }, instrumentation());
    await run(handler, events.apiGatewayHttp);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span.parentSpanContext?.spanId, "2000000000000001");
    assert.equal(span.spanContext().traceId, events.TRACE_ID);
    assert.equal(inside, span.spanContext().spanId);
    assert.equal(span.name, "POST /orders/{id}");
    assert.equal(span.attributes["faas.trigger"], "http");
  });

  it("SQS batch: CONSUMER span with links and messaging attributes", async () => {
    await run(
      wrapHandler(async () => {}, instrumentation()),
      events.sqsBatch,
    );
    const [span] = exporter.getFinishedSpans();
    assert.equal(span.kind, SpanKind.CONSUMER);
    assert.equal(span.parentSpanContext, undefined);
    assert.equal(span.links.length, 2);
    assert.equal(span.attributes["messaging.system"], "aws_sqs");
  });

  it("user errors propagate unchanged and are recorded (status + exception event)", async () => {
    const boom = new TypeError("no such order");
    const { error } = await run(
      wrapHandler(async () => {
        throw boom;
      }, instrumentation()),
      {},
    );
    assert.equal(error, boom);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, "no such order");
    assert.equal(span.events[0].name, "exception");
    assert.equal(span.events[0].attributes?.["exception.type"], "TypeError");
    assert.deepEqual(flushes, ["flushed 1"]);
  });

  it("synchronous throws propagate too", async () => {
    const boom = new Error("sync");
    const { error } = await run(
      wrapHandler(() => {
        throw boom;
      }, instrumentation()),
      {},
    );
    assert.equal(error, boom);
    assert.equal(exporter.getFinishedSpans()[0].status.code, SpanStatusCode.ERROR);
  });

  it("callback style: result and error through the callback, after the flush", async () => {
    const cb = wrapHandler(
      (event: { fail?: boolean }, _ctx: unknown, callback: (e: unknown, r?: unknown) => void) =>
        setTimeout(() => (event.fail ? callback(new Error("cb")) : callback(null, "cb-ok")), 1),
      instrumentation(),
    );
    assert.deepEqual(await run(cb, {}), { error: null, result: "cb-ok" });
    assert.deepEqual(flushes, ["flushed 1"]);
    const failed = await run(cb, { fail: true });
    assert.equal((failed.error as Error).message, "cb");
    assert.equal(exporter.getFinishedSpans()[1].status.code, SpanStatusCode.ERROR);
  });

  it("keeps the handler's shape, which the runtime checks (Node 24 refuses length >= 3)", () => {
    const shape = (fn: (...a: any[]) => unknown) => {
      const wrapped = wrapHandler(fn, instrumentation());
      return `${wrapped.constructor.name}/${wrapped.length}`;
    };
    assert.equal(
      shape(async (_e: unknown) => {}),
      "AsyncFunction/2",
    );
    assert.equal(
      shape(async (_e: unknown, _c: unknown) => {}),
      "AsyncFunction/2",
    );
    assert.equal(
      shape((_e: unknown, _c: unknown) => Promise.resolve()),
      "Function/2",
    );
    assert.equal(
      shape((_e: unknown, _c: unknown, _cb: unknown) => {}),
      "Function/3",
    );
  });

  it("two-argument handler without a runtime callback (aws-lambda-ric 4.x): its return value is the result", async () => {
    const handler = wrapHandler((e: { n: number }) => ({ doubled: e.n * 2 }), instrumentation());
    assert.deepEqual(await handler({ n: 2 }, lambdaContext()), { doubled: 4 });
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  it("timeout timer: fires at the deadline minus the margin (at most a tenth of the time left) and ends open children", async () => {
    const flushed: (number | undefined)[] = [];
    const tracer = provider.getTracer("test");
    const open: any[] = [];
    const handler = wrapHandler(
      async () => {
        open.push(tracer.startSpan("child"));
        await new Promise((r) => setTimeout(r, 400));
      },
      instrumentation({
        timeoutMarginMs: 100,
        openSpans: () => open,
        flush: async (limit) => void flushed.push(limit),
      }),
    );
    const deadline = Date.now() + 300;
    const started = Date.now();
    void handler({}, { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() });
    for (let i = 0; i < 100 && exporter.getFinishedSpans().length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    const [child, span] = exporter.getFinishedSpans();
    assert.equal(span.attributes["firefly.timeout"], true);
    assert.equal(child.attributes["firefly.timeout"], true);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    // 300 ms left: the margin is 30 ms (a tenth), not 100.
    const endedAfter = span.endTime[0] * 1000 + span.endTime[1] / 1e6 - started;
    // About 200 ms would mean the 100 ms margin was used; the upper bound only allows for a busy machine.
    assert.ok(endedAfter >= 260 && endedAfter < 400, `ended ${endedAfter} ms after the start`);
    assert.equal(flushed.length, 1);
  });

  it("timeout timer: cleared when the invocation ends, so it never fires into a later one", async () => {
    const handler = wrapHandler(async () => "quick", instrumentation({ timeoutMarginMs: 100 }));
    const deadline = Date.now() + 250;
    await run(handler, {}, { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0].attributes["firefly.timeout"], undefined);
    assert.deepEqual(flushes, ["flushed 1"]);
  });

  it("legacy context.succeed / context.fail end the span too", async () => {
    const handler = wrapHandler(
      (_e: unknown, ctx: { succeed(r: unknown): void }) => ctx.succeed("legacy"),
      instrumentation(),
    );
    assert.deepEqual(await run(handler, {}), { error: null, result: "legacy" });
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  it("HTTP status codes: 5xx marks the span as an error, 4xx does not", async () => {
    const handler = wrapHandler(async (e: { code: number }) => ({ statusCode: e.code }), instrumentation());
    await run(handler, { ...events.apiGatewayRest, code: 503 });
    await run(handler, { ...events.apiGatewayRest, code: 404 });
    const [s503, s404] = exporter.getFinishedSpans();
    assert.equal(s503.attributes["http.response.status_code"], 503);
    assert.equal(s503.status.code, SpanStatusCode.ERROR);
    assert.equal(s404.status.code, SpanStatusCode.UNSET);
  });

  it("a failing flush or a broken tracer never reaches user code", async () => {
    const rejecting = wrapHandler(
      async () => "still ok",
      instrumentation({ flush: () => Promise.reject(new Error("down")) }),
    );
    assert.deepEqual(await run(rejecting, {}), { result: "still ok" });
    const brokenTracer = {
      startSpan() {
        throw new Error("tracer broke");
      },
    } as never;
    const broken = wrapHandler(
      async (e: unknown) => ({ echo: e }),
      instrumentation({ tracer: brokenTracer }),
    );
    assert.deepEqual(await run(broken, { a: 1 }), { result: { echo: { a: 1 } } });
  });

  it("streaming handlers keep their marks and get (event, responseStream, context)", async () => {
    const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
    const user = Object.assign(
      async (_e: unknown, stream: { written: string[] }) => stream.written.push("x"),
      {
        [STREAMING]: "response",
      },
    );
    const wrapped = wrapHandler(user, instrumentation());
    assert.equal((wrapped as unknown as Record<symbol, unknown>)[STREAMING], "response");
    const stream = { written: [] as string[] };
    await wrapped({}, stream, lambdaContext());
    await provider.forceFlush();
    assert.deepEqual(stream.written, ["x"]);
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  it("a crash ends every invocation in flight (several at once on Lambda Managed Instances) and exports once", async () => {
    let syncExports = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = wrapHandler(
      async () => {
        await held;
        return "late";
      },
      instrumentation({
        flushSync: () => {
          syncExports++;
        },
      }),
    );
    const first = run(handler, {}, lambdaContext("req-a"));
    const second = run(handler, {}, lambdaContext("req-b"));
    crashInvocation(new Error("worker died"));
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(spans.map((s) => s.attributes["faas.invocation_id"]).sort(), ["req-a", "req-b"]);
    for (const span of spans) {
      assert.equal(span.attributes["firefly.crash"], true);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    }
    assert.equal(syncExports, 1, "one synchronous export carries both");
    // Nothing left in flight: a later crash ends nothing, and the handlers' late results end nothing twice.
    crashInvocation(new Error("again"));
    assert.equal(syncExports, 1);
    release();
    await Promise.all([first, second]);
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 2);
  });
});
