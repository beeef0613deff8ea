// Fault 4a: bad input reaching the layer. Fuzzed events, trace headers, message attributes and payload
// carriers go through the layer's router and parsers and through the real handler wrapper: nothing
// throws, a context is only ever taken from a valid traceparent, and the user's handler sees exactly
// the event it was sent and returns its own result.
import * as assert from "node:assert/strict";
import { isSpanContextValid, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import fc from "fast-check";
import {
  DEFAULT_PROPAGATOR,
  extractParent,
  PAYLOAD_KEY,
  parseCarrierObject,
  parseClientContext,
  parseEventBridge,
  parseHttpHeaders,
  parseInvokePayload,
  parseSnsRecord,
  parseSqsRecord,
} from "../../layer/src/context";
import { wrapHandler } from "../../layer/src/invocation";
import { record } from "./ledger";

const RUNS = 500;
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const validTraceparent = fc
  .tuple(hex(32), hex(16), fc.constantFrom("00", "01"))
  .filter(([t, s]) => !/^0+$/.test(t) && !/^0+$/.test(s))
  .map(([t, s, f]) => `00-${t}-${s}-${f}`);
/** Header values as found in the wild: valid, nearly valid, wrong versions, junk, huge. */
const traceparent = fc.oneof(
  validTraceparent,
  validTraceparent.map((v) => v.toUpperCase()),
  validTraceparent.map((v) => `${v}-extra`),
  validTraceparent.map((v) => v.replace(/^00/, "ff")),
  fc.constant("00-00000000000000000000000000000000-0000000000000000-01"),
  fc.string(),
  fc.string({ minLength: 5000, maxLength: 20000 }),
);
const carrier = fc.record(
  {
    traceparent: fc.oneof(traceparent, fc.jsonValue()),
    tracestate: fc.oneof(fc.string(), fc.jsonValue()),
    baggage: fc.string(),
  },
  { requiredKeys: [] },
);
const junk = fc.oneof(fc.jsonValue(), fc.constant(null), fc.constant(undefined));

const http = fc.record({
  httpMethod: fc.oneof(fc.constant("GET"), junk),
  resource: fc.oneof(fc.string(), junk),
  path: fc.oneof(fc.string(), junk),
  requestContext: fc.oneof(
    fc.record({ elb: fc.oneof(fc.object(), junk) }, { requiredKeys: [] }),
    fc.record(
      { http: fc.oneof(fc.object(), junk), domainName: fc.oneof(fc.string(), junk) },
      { requiredKeys: [] },
    ),
    junk,
  ),
  version: fc.oneof(fc.constant("2.0"), junk),
  routeKey: fc.oneof(fc.string(), junk),
  headers: fc.oneof(
    fc.dictionary(
      fc.constantFrom("traceparent", "TraceParent", "tracestate", "x"),
      fc.oneof(traceparent, junk),
    ),
    junk,
  ),
  multiValueHeaders: fc.oneof(
    fc.dictionary(fc.constantFrom("traceparent", "Traceparent"), fc.oneof(fc.array(traceparent), junk)),
    junk,
  ),
});
const sqsRecord = fc.record(
  {
    eventSource: fc.oneof(fc.constant("aws:sqs"), junk),
    eventSourceARN: fc.oneof(fc.string(), junk),
    messageId: fc.oneof(fc.string(), junk),
    messageAttributes: fc.oneof(
      fc.dictionary(
        fc.constantFrom("traceparent", "tracestate", "baggage"),
        fc.oneof(fc.record({ stringValue: fc.oneof(traceparent, junk) }), junk),
      ),
      junk,
    ),
    body: fc.oneof(
      fc.string(),
      carrier.map((c) =>
        JSON.stringify({ MessageAttributes: { traceparent: { Type: "String", Value: c.traceparent } } }),
      ),
      fc.jsonValue().map((v) => `{${JSON.stringify(v)}`),
      junk,
    ),
  },
  { requiredKeys: ["eventSource"] },
);
const snsRecord = fc.record(
  {
    EventSource: fc.oneof(fc.constant("aws:sns"), junk),
    EventSubscriptionArn: fc.oneof(fc.string(), junk),
    Sns: fc.oneof(
      fc.record({
        MessageId: fc.oneof(fc.string(), junk),
        MessageAttributes: fc.oneof(
          fc.dictionary(
            fc.constantFrom("traceparent"),
            fc.oneof(fc.record({ Value: fc.oneof(traceparent, junk) }), junk),
          ),
          junk,
        ),
      }),
      junk,
    ),
  },
  { requiredKeys: ["EventSource"] },
);
const records = fc.record({
  Records: fc.oneof(fc.array(fc.oneof(sqsRecord, snsRecord, junk), { maxLength: 12 }), junk),
});
const eventBridge = fc.record({
  "detail-type": fc.oneof(fc.constant("Scheduled Event"), fc.string(), junk),
  source: fc.oneof(fc.string(), junk),
  detail: fc.oneof(fc.record({ [PAYLOAD_KEY]: fc.oneof(carrier, junk) }), junk),
});
const payload = fc.record({ [PAYLOAD_KEY]: fc.oneof(carrier, junk) });
const event = fc.oneof(http, records, eventBridge, payload, fc.anything());
const lambdaContext = fc.oneof(
  fc.record({
    clientContext: fc.oneof(fc.record({ custom: fc.oneof(carrier, junk) }), fc.constant(null), junk),
  }),
  fc.constant(undefined),
);

/** The parent is either the root or a valid span context that a traceparent in the input spelled out. */
function assertSoundParent(parent: typeof ROOT_CONTEXT, input: unknown): void {
  if (parent === ROOT_CONTEXT) return;
  const sc = trace.getSpanContext(parent);
  assert.ok(sc && isSpanContextValid(sc), "a parent that is not a valid span context");
  assert.ok(JSON.stringify(input).includes(sc.traceId), "a trace id that appears nowhere in the input");
}

describe("fault: malformed events and trace context (fuzzed)", () => {
  let cases = 0;
  let failed = 0;

  afterEach(function () {
    if (this.currentTest?.state === "failed") failed++;
  });
  after(() =>
    record({
      fault: "bad-input-layer",
      injected: `${cases} fuzzed events, carriers and contexts through the router, parsers and wrapper`,
      notes: failed === 0 ? "no throw, no change to the event or result" : `${failed} properties FAILED`,
    }),
  );

  it("parsers and router never throw and take a parent only from a valid traceparent", () => {
    fc.assert(
      fc.property(event, lambdaContext, (e, ctx) => {
        cases++;
        for (const parse of [
          parseHttpHeaders,
          parseSqsRecord,
          parseSnsRecord,
          parseEventBridge,
          parseInvokePayload,
          parseCarrierObject,
        ]) {
          parse(e);
        }
        parseClientContext(ctx as never);
        const incoming = extractParent(e, ctx as never);
        assertSoundParent(incoming.parent, [e, ctx]);
        for (const link of incoming.links) assert.ok(isSpanContextValid(link.context));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it("finds a valid traceparent wherever the trigger carries it", () => {
    const w3c = new W3CTraceContextPropagator();
    fc.assert(
      fc.property(validTraceparent, (tp) => {
        cases++;
        const traceId = tp.split("-")[1];
        const events = [
          { httpMethod: "GET", requestContext: {}, headers: { TraceParent: tp } },
          { version: "2.0", requestContext: { http: { method: "GET" } }, headers: { traceparent: tp } },
          { Records: [{ eventSource: "aws:sqs", messageAttributes: { traceparent: { stringValue: tp } } }] },
          {
            Records: [
              {
                EventSource: "aws:sns",
                Sns: { MessageAttributes: { traceparent: { Type: "String", Value: tp } } },
              },
            ],
          },
          { "detail-type": "x", source: "y", detail: { [PAYLOAD_KEY]: { traceparent: tp } } },
          { [PAYLOAD_KEY]: { traceparent: tp } },
        ];
        for (const e of events) {
          const sc = trace.getSpanContext(extractParent(e, undefined, w3c).parent);
          assert.equal(sc?.traceId, traceId, `no parent found in ${JSON.stringify(e)}`);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("the wrapped handler gets the event untouched and returns its own result, sync and async", async () => {
    const exporter = new InMemorySpanExporter();
    let traced = 0;
    let invocations = 0;
    const provider = new TracerProvider({
      // Fuzzed parents are often unsampled (flags 00); record everything so every invocation is counted.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const instrumentation = {
      tracer: provider.getTracer("faults"),
      propagator: DEFAULT_PROPAGATOR,
      flush: async () => {
        traced += exporter.getFinishedSpans().length;
        exporter.reset();
      },
      coldStartPossible: true,
    };
    await fc.assert(
      fc.asyncProperty(
        event.filter((e) => e !== undefined),
        fc.boolean(),
        async (e, useCallback) => {
          cases++;
          invocations++;
          const before = JSON.stringify(e);
          let seen: unknown;
          const result = { echoed: before };
          const user = useCallback
            ? (ev: unknown, _ctx: unknown, cb: (err: unknown, res: unknown) => void) => {
                seen = ev;
                cb(null, result);
              }
            : async (ev: unknown) => {
                seen = ev;
                return result;
              };
          const wrapped = wrapHandler(user, instrumentation);
          const got = await new Promise((resolve, reject) => {
            const returned = wrapped(
              e,
              { functionName: "fuzz", awsRequestId: "r" },
              (err: unknown, res: unknown) => (err ? reject(err) : resolve(res)),
            ) as Promise<unknown> | undefined;
            returned?.then(resolve, reject);
          });
          assert.equal(seen, e, "the handler did not get the very event object");
          assert.equal(JSON.stringify(e), before, "the layer changed the event");
          assert.equal(got, result, "the handler's result was not passed back unchanged");
        },
      ),
      { numRuns: RUNS },
    );
    await provider.shutdown();
    // Not the uninstrumented fallback: every invocation produced its span.
    assert.equal(traced, invocations, "some invocations ran without a span");
  });
});
