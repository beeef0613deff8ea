import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { suppressTracing, W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { instrumentHttpClients } from "../../layer/src/http-client";
import { AsyncLocalStorageContextManager } from "../../layer/src/tracing";

describe("layer outgoing http/https and fetch (diagnostics channels)", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("test");
  let server: http.Server;
  let base: string;
  let unsubscribe: () => void;
  const seen: (string | undefined)[] = [];

  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    server = http.createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.writeHead(req.url?.startsWith("/missing") ? 404 : 200).end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    unsubscribe = instrumentHttpClients(tracer, { ignoreHosts: ["127.0.0.1:1"] });
  });
  after(() => {
    unsubscribe();
    server.closeAllConnections();
    server.close();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => {
    exporter.reset();
    seen.length = 0;
  });

  const get = (url: string) =>
    new Promise<number>((resolve, reject) => {
      http
        .get(url, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
        .on("error", reject);
    });
  const inParent = <T>(fn: () => Promise<T>) => {
    const parent = tracer.startSpan("invocation");
    return { parent, run: context.with(trace.setSpan(context.active(), parent), fn) };
  };

  it("http.get: a CLIENT span, child of the active span, whose context the server receives", async () => {
    const { parent, run } = inParent(() => get(`${base}/items?secret=1`));
    assert.equal(await run, 200);
    parent.end();
    await provider.forceFlush();
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(client.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(client.attributes["http.request.method"], "GET");
    assert.equal(client.attributes["http.response.status_code"], 200);
    assert.equal(
      client.attributes["url.full"],
      `${base}/items`,
      "query string (credentials in presigned URLs) is dropped",
    );
    assert.equal(seen[0], `00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
  });

  it("fetch: a CLIENT span and traceparent too", async () => {
    const { parent, run } = inParent(() => fetch(`${base}/missing`).then((r) => r.status));
    assert.equal(await run, 404);
    parent.end();
    await provider.forceFlush();
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(client.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(client.attributes["http.response.status_code"], 404);
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(seen[0], `00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
  });

  it("connection errors end the span with the error and still reach the caller", async () => {
    await assert.rejects(get("http://127.0.0.1:9/x"), /ECONNREFUSED/);
    await provider.forceFlush();
    const [client] = exporter.getFinishedSpans();
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(client.events[0].name, "exception");
  });

  it("suppressed requests (the layer's own export) and ignored hosts are not traced", async () => {
    await context.with(suppressTracing(context.active()), () => get(`${base}/export`));
    await assert.rejects(get("http://127.0.0.1:1/runtime"));
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(seen[0], undefined);
  });

  it("requests with headers already sent keep working, untraced downstream", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      // An array of raw headers makes Node render the header block in the constructor.
      const req = http.request(
        `${base}/raw`,
        { headers: ["host", "127.0.0.1", "x-raw", "1"] as unknown as http.OutgoingHttpHeaders },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 200);
  });
});
