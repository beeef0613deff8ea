// OTLP over gRPC on a private pipeline: spans exported by the OpenTelemetry SDK's own protobuf
// serializer reach Jaeger with the right token; a wrong or missing token is refused (UNAUTHENTICATED,
// gRPC's 401) and stores nothing.
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { context, trace } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { jaegerTrace, waitForTrace } from "./query";
import { type RunningPipeline, startPipeline } from "./stack";

const EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/** One finished parent/child pair, as an ExportTraceServiceRequest in protobuf. */
function twoSpans(service: string): { traceId: string; body: Uint8Array } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer("grpc-test");
  const parent = tracer.startSpan("parent");
  tracer.startSpan("child", {}, trace.setSpan(context.active(), parent)).end();
  parent.end();
  const spans = exporter.getFinishedSpans();
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  if (!body) throw new Error("serializer returned nothing");
  return { traceId: spans[0].spanContext().traceId, body };
}

function exportOverGrpc(
  address: string,
  body: Uint8Array,
  authorization?: string,
): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (authorization) metadata.set("authorization", authorization);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      EXPORT,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      body,
      metadata,
      { deadline: Date.now() + 10_000 },
      (error) => {
        client.close();
        resolve(error);
      },
    );
  });
}

describe("pipeline: OTLP over gRPC (private pipeline)", function () {
  this.timeout(60_000);
  let pipeline: RunningPipeline;
  let address: string;
  before(async () => {
    pipeline = await startPipeline();
    address = `127.0.0.1:${pipeline.collector.ports.otlpGrpc}`;
  });
  after(async () => {
    await pipeline?.stop();
  });

  it("stores spans sent with the token, parent and child intact", async () => {
    const { traceId, body } = twoSpans("grpc-ok");
    assert.equal(await exportOverGrpc(address, body, pipeline.local.otlp.headers.authorization), null);
    const stored = await waitForTrace(pipeline.local.traces.jaegerUrl, traceId, { spans: 2 });
    const parent = stored.spans.find((s) => s.operationName === "parent");
    const child = stored.spans.find((s) => s.operationName === "child");
    assert.ok(parent && child);
    assert.deepEqual(
      child.references.map((r) => [r.refType, r.spanID]),
      [["CHILD_OF", parent.spanID]],
    );
  });

  for (const [what, authorization] of [
    ["wrong", "Bearer not-the-token"],
    ["missing", undefined],
  ] as const) {
    it(`refuses a ${what} token with UNAUTHENTICATED and stores nothing`, async () => {
      const refused = twoSpans("grpc-refused");
      const error = await exportOverGrpc(address, refused.body, authorization);
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED, String(error));
      const accepted = twoSpans("grpc-accepted");
      assert.equal(
        await exportOverGrpc(address, accepted.body, pipeline.local.otlp.headers.authorization),
        null,
      );
      await waitForTrace(pipeline.local.traces.jaegerUrl, accepted.traceId, { spans: 2 });
      assert.equal(await jaegerTrace(pipeline.local.traces.jaegerUrl, refused.traceId), undefined);
    });
  }
});
