import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { firefly, injectIntoInput, MAX_MESSAGE_ATTRIBUTES } from "../../layer/src/aws-sdk";
import { AsyncLocalStorageContextManager } from "../../layer/src/tracing";

const carrier = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "v=1" };
const attr = (value: string) => ({ DataType: "String", StringValue: value });

describe("layer AWS SDK v3 plugin: outgoing context", () => {
  describe("injection into command inputs (pure)", () => {
    it("SQS SendMessage: message attributes, the caller's input left untouched", () => {
      const input = { QueueUrl: "q", MessageBody: "b", MessageAttributes: { a: attr("1") } };
      const out = injectIntoInput("SQS", "SendMessage", input, carrier) as typeof input;
      assert.deepEqual(out.MessageAttributes, {
        a: attr("1"),
        traceparent: attr(carrier.traceparent),
        tracestate: attr("v=1"),
      });
      assert.deepEqual(Object.keys(input.MessageAttributes), ["a"]);
    });

    it("never pushes a message over the 10-attribute limit: traceparent first, then nothing", () => {
      const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, attr("x")]));
      const out = injectIntoInput("SNS", "Publish", { MessageAttributes: nine }, carrier) as {
        MessageAttributes: object;
      };
      assert.equal(Object.keys(out.MessageAttributes).length, MAX_MESSAGE_ATTRIBUTES);
      assert.ok("traceparent" in out.MessageAttributes && !("tracestate" in out.MessageAttributes));
      const ten = { ...nine, k9: attr("x") };
      const full = { MessageAttributes: ten };
      assert.equal(injectIntoInput("SNS", "Publish", full, carrier), full);
    });

    it("batches: every SQS entry and every SNS entry", () => {
      const sqs = injectIntoInput(
        "SQS",
        "SendMessageBatch",
        { Entries: [{ Id: "1" }, { Id: "2" }] },
        carrier,
      ) as any;
      assert.ok(
        sqs.Entries.every((e: any) => e.MessageAttributes.traceparent.StringValue === carrier.traceparent),
      );
      const sns = injectIntoInput(
        "SNS",
        "PublishBatch",
        { PublishBatchRequestEntries: [{ Id: "1" }] },
        carrier,
      ) as any;
      assert.equal(sns.PublishBatchRequestEntries[0].MessageAttributes.traceparent.DataType, "String");
    });

    it("EventBridge PutEvents: detail._firefly", () => {
      const out = injectIntoInput(
        "EventBridge",
        "PutEvents",
        { Entries: [{ Detail: '{"orderId":7}' }] },
        carrier,
      ) as any;
      assert.deepEqual(JSON.parse(out.Entries[0].Detail), { orderId: 7, _firefly: carrier });
    });

    it("Lambda Invoke: ClientContext.custom when synchronous, merged with the caller's own", () => {
      const own = Buffer.from(JSON.stringify({ custom: { user: "x" }, env: { a: 1 } })).toString("base64");
      const out = injectIntoInput(
        "Lambda",
        "Invoke",
        { FunctionName: "f", ClientContext: own },
        carrier,
      ) as any;
      const decoded = JSON.parse(Buffer.from(out.ClientContext, "base64").toString());
      assert.deepEqual(decoded, { custom: { user: "x", ...carrier }, env: { a: 1 } });
    });

    it("Lambda Invoke: payload _firefly when InvocationType is Event (ClientContext is dropped)", () => {
      const out = injectIntoInput(
        "Lambda",
        "Invoke",
        { InvocationType: "Event", Payload: new TextEncoder().encode('{"a":1}') },
        carrier,
      ) as any;
      assert.ok(out.Payload instanceof Uint8Array);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(out.Payload)), { a: 1, _firefly: carrier });
      const notAnObject = { InvocationType: "Event", Payload: "[1,2]" };
      assert.equal(injectIntoInput("Lambda", "Invoke", notAnObject, carrier), notAnObject);
    });

    it("Lambda Invoke: a ClientContext that would exceed 3583 bytes is left as it was", () => {
      const big = Buffer.from(JSON.stringify({ custom: { pad: "x".repeat(2600) } })).toString("base64");
      const input = { ClientContext: big };
      assert.equal(injectIntoInput("Lambda", "Invoke", input, carrier), input);
    });

    it("other operations and missing context: input unchanged", () => {
      const input = { Bucket: "b" };
      assert.equal(injectIntoInput("S3", "PutObject", input, carrier), input);
      assert.equal(injectIntoInput("SQS", "SendMessage", input, {}), input);
    });
  });

  describe("through a real LambdaClient", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    let server: http.Server;
    let endpoint: string;
    const received: http.IncomingHttpHeaders[] = [];
    const bodies: string[] = [];

    before(async () => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
      // The Lambda Invoke REST API: POST /2015-03-31/functions/{name}/invocations
      server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          received.push(req.headers);
          bodies.push(body);
          res.writeHead(req.headers["x-amz-invocation-type"] === "Event" ? 202 : 200, {
            "content-type": "application/json",
          });
          res.end("{}");
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
      context.disable();
      propagation.disable();
      trace.disable();
    });

    const client = () => {
      const lambda = new LambdaClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      });
      lambda.middlewareStack.use(firefly());
      return lambda;
    };

    it("synchronous Invoke: X-Amz-Client-Context carries the SDK span's context, child of the caller", async () => {
      const parent = provider.getTracer("t").startSpan("caller");
      await context.with(trace.setSpan(context.active(), parent), () =>
        client().send(new InvokeCommand({ FunctionName: "callee", Payload: new TextEncoder().encode("{}") })),
      );
      parent.end();
      await provider.forceFlush();
      const sdkSpan = exporter.getFinishedSpans().find((s) => s.name === "Lambda.Invoke")!;
      assert.equal(sdkSpan.kind, SpanKind.CLIENT);
      assert.equal(sdkSpan.parentSpanContext?.spanId, parent.spanContext().spanId);
      const clientContext = JSON.parse(
        Buffer.from(String(received.at(-1)?.["x-amz-client-context"]), "base64").toString(),
      );
      assert.equal(
        clientContext.custom.traceparent,
        `00-${sdkSpan.spanContext().traceId}-${sdkSpan.spanContext().spanId}-01`,
      );
    });

    it("asynchronous Invoke: the payload carries _firefly, the span is a PRODUCER", async () => {
      exporter.reset();
      await client().send(
        new InvokeCommand({
          FunctionName: "callee",
          InvocationType: "Event",
          Payload: new TextEncoder().encode('{"a":1}'),
        }),
      );
      await provider.forceFlush();
      const sdkSpan = exporter.getFinishedSpans().find((s) => s.name === "Lambda.Invoke")!;
      assert.equal(sdkSpan.kind, SpanKind.PRODUCER);
      assert.equal(
        JSON.parse(bodies.at(-1)!)._firefly.traceparent.split("-")[2],
        sdkSpan.spanContext().spanId,
      );
    });
  });
});
