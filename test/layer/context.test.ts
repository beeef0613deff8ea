import * as assert from "node:assert/strict";
import { propagation, ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import {
  classify,
  extractParent,
  parseClientContext,
  parseEventBridge,
  parseHttpHeaders,
  parseInvokePayload,
  parseSnsRecord,
  parseSqsRecord,
} from "../../layer/src/context";
import * as events from "./events";

const parentSpanId = (ctx: ReturnType<typeof extractParent>) => trace.getSpanContext(ctx.parent)?.spanId;

describe("layer incoming context: one parser per trigger, one router", () => {
  const cases: [string, unknown, unknown, string, string, SpanKind][] = [
    [
      "API Gateway REST (mixed-case header)",
      events.apiGatewayRest,
      undefined,
      "api-gateway-rest",
      "1000000000000001",
      SpanKind.SERVER,
    ],
    [
      "API Gateway REST (multiValueHeaders only)",
      events.apiGatewayRestMultiValueOnly,
      undefined,
      "api-gateway-rest",
      "1000000000000002",
      SpanKind.SERVER,
    ],
    [
      "API Gateway HTTP API",
      events.apiGatewayHttp,
      undefined,
      "api-gateway-http",
      "2000000000000001",
      SpanKind.SERVER,
    ],
    ["function URL", events.functionUrl, undefined, "function-url", "3000000000000001", SpanKind.SERVER],
    ["ALB (upper-case header)", events.alb, undefined, "alb", "4000000000000001", SpanKind.SERVER],
    ["SQS, one record", events.sqsOne, undefined, "sqs", "5000000000000001", SpanKind.CONSUMER],
    [
      "SNS → SQS without raw delivery (JSON body)",
      events.snsThroughSqs,
      undefined,
      "sqs",
      "6000000000000001",
      SpanKind.CONSUMER,
    ],
    ["SNS → Lambda", events.sns, undefined, "sns", "7000000000000001", SpanKind.CONSUMER],
    [
      "EventBridge detail._firefly",
      events.eventBridge,
      undefined,
      "eventbridge",
      "8000000000000001",
      SpanKind.SERVER,
    ],
    [
      "async SDK Invoke payload _firefly",
      events.asyncInvoke,
      undefined,
      "invoke",
      "9000000000000001",
      SpanKind.SERVER,
    ],
    [
      "sync SDK Invoke ClientContext",
      { any: "payload" },
      { clientContext: events.syncInvokeClientContext },
      "invoke",
      "a000000000000001",
      SpanKind.SERVER,
    ],
  ];
  for (const [title, event, lambdaContext, source, spanId, kind] of cases) {
    it(`${title}: parent span ${spanId}, kind ${SpanKind[kind]}`, () => {
      const incoming = extractParent(event, lambdaContext as never);
      assert.equal(incoming.source, source);
      assert.equal(parentSpanId(incoming), spanId);
      assert.equal(trace.getSpanContext(incoming.parent)?.traceId, events.TRACE_ID);
      assert.equal(trace.getSpanContext(incoming.parent)?.isRemote, true);
      assert.equal(incoming.kind, kind);
    });
  }

  it("keeps tracestate next to traceparent", () => {
    assert.equal(
      trace.getSpanContext(extractParent(events.eventBridge).parent)?.traceState?.get("vendor"),
      "b",
    );
    assert.equal(
      trace.getSpanContext(extractParent(events.apiGatewayRest).parent)?.traceState?.get("vendor"),
      "a",
    );
  });

  it("SQS batch: new root trace, CONSUMER kind, one link per record that had a context", () => {
    const incoming = extractParent(events.sqsBatch);
    assert.equal(incoming.parent, ROOT_CONTEXT);
    assert.equal(incoming.kind, SpanKind.CONSUMER);
    assert.deepEqual(
      incoming.links.map((l) => l.context.spanId),
      ["5000000000000001", "5000000000000002"],
    );
    assert.equal(incoming.attributes["messaging.batch.message_count"], 3);
    assert.equal(incoming.attributes["messaging.destination.name"], "orders");
    assert.equal(incoming.attributes["messaging.system"], "aws_sqs");
  });

  it("never reads X-Ray's AWSTraceHeader (Sampled=0 would drop the trace)", () => {
    const record = { ...events.sqsOne.Records[0], messageAttributes: {} };
    const incoming = extractParent({ Records: [record] });
    assert.equal(incoming.source, "sqs");
    assert.equal(incoming.parent, ROOT_CONTEXT);
  });

  it("HTTP triggers name the span by method and route and set http attributes", () => {
    const rest = extractParent(events.apiGatewayRest);
    assert.equal(rest.name, "GET /items/{id}");
    assert.equal(rest.attributes["url.path"], "/items/42");
    assert.equal(rest.trigger, "http");
    const httpApi = extractParent(events.apiGatewayHttp);
    assert.equal(httpApi.name, "POST /orders/{id}");
    assert.equal(extractParent(events.functionUrl).name, undefined, "$default is not a route");
  });

  it("triggers map onto faas.trigger", () => {
    assert.equal(extractParent(events.sqsOne).trigger, "pubsub");
    assert.equal(extractParent(events.schedule).trigger, "timer");
    assert.equal(classify({ Records: [{ eventSource: "aws:dynamodb" }] }), "datasource");
    assert.equal(extractParent({ Records: [{ eventSource: "aws:s3" }] }).trigger, "datasource");
  });

  it("baggage travels with the parent", () => {
    const event = {
      ...events.asyncInvoke,
      _firefly: { ...events.asyncInvoke._firefly, baggage: "tenant=acme" },
    };
    const ctx = extractParent(event).parent;
    assert.equal(propagation.getBaggage(ctx)?.getEntry("tenant")?.value, "acme");
  });

  describe("malformed or missing context gives a new root trace, never an exception", () => {
    const bad: [string, unknown, unknown?][] = [
      ["undefined event", undefined],
      ["null event", null],
      ["string event", "hello"],
      ["array event", [1, 2]],
      [
        "invalid traceparent",
        { headers: { traceparent: "00-zz-yy-01" }, httpMethod: "GET", requestContext: {} },
      ],
      ["all-zero trace id", { _firefly: { traceparent: `00-${"0".repeat(32)}-1000000000000001-01` } }],
      ["traceparent not a string", { _firefly: { traceparent: 42 } }],
      ["Records with null", { Records: [null] }],
      [
        "SQS body not JSON",
        { Records: [{ eventSource: "aws:sqs", body: "{not json", messageAttributes: null }] },
      ],
      ["SNS without Sns", { Records: [{ EventSource: "aws:sns" }] }],
      ["EventBridge detail a string", { "detail-type": "x", source: "y", detail: "z" }],
      ["clientContext custom a string", {}, { clientContext: { custom: "traceparent" } }],
      ["headers a string", { httpMethod: "GET", requestContext: {}, headers: "traceparent" }],
    ];
    for (const [title, event, lambdaContext] of bad) {
      it(title, () => {
        const incoming = extractParent(event, lambdaContext as never);
        assert.equal(incoming.parent, ROOT_CONTEXT);
        assert.deepEqual(incoming.links, []);
      });
    }
    it("a getter that throws is caught by the router", () => {
      const hostile = {
        get Records(): unknown {
          throw new Error("boom");
        },
      };
      const incoming = extractParent(hostile);
      assert.equal(incoming.parent, ROOT_CONTEXT);
      assert.equal(incoming.trigger, "other");
    });
  });

  it("per-trigger parsers return the carrier they read", () => {
    assert.equal(parseHttpHeaders(events.alb)?.traceparent, events.tp("4000000000000001"));
    assert.equal(parseSqsRecord(events.snsThroughSqs.Records[0])?.traceparent, events.tp("6000000000000001"));
    assert.equal(parseSnsRecord(events.sns.Records[0])?.traceparent, events.tp("7000000000000001"));
    assert.equal(parseEventBridge(events.eventBridge)?.tracestate, "vendor=b");
    assert.equal(parseInvokePayload(events.asyncInvoke)?.traceparent, events.tp("9000000000000001"));
    assert.equal(
      parseClientContext({ clientContext: events.syncInvokeClientContext })?.traceparent,
      events.tp("a000000000000001"),
    );
    assert.equal(parseHttpHeaders({ headers: {} }), undefined);
  });
});
