// End to end: the built zip, unpacked as /opt, run by the real aws-lambda-ric against a Runtime API
// served by the test, spans received by an OTLP/HTTP endpoint served by the test.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as events from "./events";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp";
import {
  type InvokeApi,
  type LambdaFunction,
  type LayerMode,
  startFunction,
  startInvokeApi,
} from "./runtime";

const FN = path.join(__dirname, "fixtures/fn");
const ESM = path.join(__dirname, "fixtures/esm");
const SERVER = 2;
const CLIENT = 3;

describe("layer end to end: built zip + aws-lambda-ric + OTLP/HTTP", function () {
  this.timeout(30000);
  let receiver: OtlpReceiver;
  const running: LambdaFunction[] = [];
  const start = async (
    mode: LayerMode,
    handler: string,
    env: Record<string, string> = {},
    taskRoot = FN,
    functionName?: string,
  ) => {
    const fn = await startFunction({
      mode,
      taskRoot,
      handler,
      functionName,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env },
    });
    running.push(fn);
    return fn;
  };
  // The layer exports after the response, as an extension: an invocation's spans have arrived once the
  // environment is released (the extension asked for its next event).
  const spansOf = async (requestId: string) => {
    await Promise.race(running.map((f) => f.billedMs(requestId)));
    return receiver.spans.filter((s) => s.attributes["faas.invocation_id"] === requestId);
  };

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((f) => f.stop()));
    await receiver.close();
  });

  for (const mode of ["redirect", "wrapper"] as const) {
    it(`${mode}: cold then warm, spans exported after each response (as an extension), X-Ray Sampled=0 ignored`, async () => {
      const fn = await start(mode, "index.handler", {}, FN, "orders");
      assert.equal(fn.extensions, 1, "registered as an internal extension during init");
      // A collector that takes 300 ms to answer: the caller does not wait for it, Lambda's bill does.
      receiver.delay(300);
      const cold = await fn.invoke({ n: 1 });
      assert.deepEqual((cold.result as { echo: unknown }).echo, { n: 1 });
      assert.ok(cold.durationMs < 150, `response took ${cold.durationMs} ms`);
      assert.ok(
        (await fn.billedMs(cold.requestId)) >= 300,
        "the environment was held until the export ended",
      );
      receiver.delay(0);
      assert.equal((await spansOf(cold.requestId)).length, 1);
      const warm = await fn.invoke({ n: 2 });
      assert.equal((await spansOf(warm.requestId)).length, 1);
      const [c] = await spansOf(cold.requestId);
      const [w] = await spansOf(warm.requestId);
      assert.equal(c.attributes["faas.coldstart"], true);
      assert.equal(w.attributes["faas.coldstart"], false);
      assert.equal(c.kind, SERVER);
      assert.equal(c.name, "orders");
      assert.equal(c.attributes["cloud.resource_id"], fn.functionArn);
      assert.equal(c.resource["service.name"], "orders");
      assert.equal(c.resource["cloud.region"], "us-east-1");
      assert.equal(c.resource["cloud.provider"], "aws");
      assert.equal(receiver.requests[0].contentType, "application/x-protobuf");
    });
  }

  it("callback style (the runtime waits for an empty event loop): the export neither holds the response back nor runs before it", async () => {
    const fn = await start("redirect", "callback.handler");
    receiver.delay(300);
    const res = await fn.invoke({ n: 1 });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.ok(res.durationMs < 150, `response after ${res.durationMs} ms`);
    assert.ok((await fn.billedMs(res.requestId)) >= 300, "the export ran after the response");
    receiver.delay(0);
    assert.equal((await spansOf(res.requestId)).length, 1);
  });

  it("wrapper: the user's NODE_OPTIONS are kept, the layer's preload is not passed on to children", async () => {
    const fn = await start("wrapper", "index.handler", { NODE_OPTIONS: "--max-http-header-size=16384" });
    const { result } = await fn.invoke({});
    assert.equal((result as { nodeOptions: string }).nodeOptions, "--max-http-header-size=16384");
    assert.equal((await receiver.waitForSpans(1)).length, 1);
  });

  const styles: [string, LayerMode, string, string, unknown][] = [
    ["ESM .js (type: module)", "redirect", ESM, "index.handler", { style: "esm" }],
    [".mjs with top-level await", "wrapper", FN, "module.handler", { style: "mjs", ready: "ready" }],
    ["callback style", "wrapper", FN, "callback.handler", { style: "callback" }],
    ["callback style", "redirect", FN, "callback.handler", { style: "callback" }],
    [".cjs with context.succeed", "redirect", FN, "legacy.handler", { style: "context.succeed" }],
    ["nested path", "redirect", FN, "src/nested/app.handlers.main", { nested: true }],
  ];
  for (const [title, mode, root, handler, expected] of styles) {
    it(`${mode}: ${title} (${handler})`, async () => {
      const fn = await start(mode, handler, {}, root);
      const res = await fn.invoke({ k: "v" });
      assert.equal(res.ok, true, JSON.stringify(res.error));
      for (const [key, value] of Object.entries(expected as object)) {
        assert.deepEqual((res.result as Record<string, unknown>)[key], value);
      }
      assert.equal((await spansOf(res.requestId)).length, 1);
    });
  }

  for (const [mode, root, handler, errorType] of [
    ["redirect", FN, "index.handler", "Error"],
    ["wrapper", ESM, "index.handler", "TypeError"],
    ["redirect", FN, "callback.handler", "Error"],
  ] as const) {
    it(`${mode}: the user's error reaches Lambda unchanged (${errorType}) and is recorded on the span`, async () => {
      const fn = await start(mode, handler, {}, root);
      const res = await fn.invoke({ fail: "bad order" });
      assert.equal(res.ok, false);
      assert.equal(res.error?.errorType, errorType);
      assert.match(String(res.error?.errorMessage), /bad order/);
      const [span] = await spansOf(res.requestId);
      assert.equal(span.status.code, 2);
      assert.match(span.status.message, /bad order/);
      assert.equal(span.events[0].name, "exception");
    });
  }

  it("response streaming: the stream reaches the client and the span is exported once the handler settles", async () => {
    const fn = await start("redirect", "stream.handler");
    const res = await fn.invoke({ n: 7 });
    assert.equal(res.result, "chunk1,chunk2:7");
    // A streamed response is out before the handler settles; the span is flushed when it does,
    // before the runtime asks for the next event (so before the environment would freeze).
    const spans = await receiver.waitForSpans(1);
    assert.equal(spans.filter((s) => s.attributes["faas.invocation_id"] === res.requestId).length, 1);
    // The runtime streams the response over http to the Runtime API: never traced as the function's
    // call. Such a span would end after the flush, so it would travel with the next invocation's spans.
    await fn.invoke({ n: 8 });
    await receiver.waitForSpans(2);
    assert.deepEqual(
      spans.filter((s) => s.kind === CLIENT),
      [],
    );
  });

  it("OTEL_SDK_DISABLED=true: the handler runs uninstrumented; bad settings are named in the log", async () => {
    const fn = await start("wrapper", "index.handler", {
      OTEL_SDK_DISABLED: "true",
      FIREFLY_FLUSH_TIMEOUT_MS: "soon",
    });
    const res = await fn.invoke({ n: 1 });
    assert.equal(res.ok, true);
    assert.equal(receiver.requests.length, 0);
    assert.match(fn.log, /\[firefly\] FIREFLY_FLUSH_TIMEOUT_MS "soon" is not a non-negative number/);
  });

  it("synchronous invoke: ClientContext.custom.traceparent is the parent", async () => {
    const fn = await start("redirect", "index.handler");
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const res = await fn.invoke({}, { clientContext: { custom: { traceparent } } });
    const [span] = await spansOf(res.requestId);
    assert.equal(span.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(span.parentSpanId, "00f067aa0ba902b7");
  });

  it("triggers over the wire: SQS batch → CONSUMER span with links; API Gateway → route name and status", async () => {
    const fn = await start("wrapper", "index.http");
    const batch = await fn.invoke(events.sqsBatch);
    const [consumer] = await spansOf(batch.requestId);
    assert.equal(consumer.kind, 5);
    assert.equal(consumer.parentSpanId, "");
    assert.deepEqual(
      consumer.links.map((l) => l.spanId),
      ["5000000000000001", "5000000000000002"],
    );
    assert.equal(consumer.attributes["messaging.batch.message_count"], 3);
    const api = await fn.invoke({ ...events.apiGatewayRest, queryStringParameters: { status: "502" } });
    const [server] = await spansOf(api.requestId);
    assert.equal(server.name, "GET /items/{id}");
    assert.equal(server.parentSpanId, "1000000000000001");
    assert.equal(server.attributes["http.response.status_code"], 502);
    assert.equal(server.status.code, 2);
  });

  it("https endpoint: exports over TLS to a collector the function trusts (NODE_EXTRA_CA_CERTS)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "firefly-tls-"));
    // A throwaway certificate for 127.0.0.1, valid for a day, made for this test only.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    await receiver.close();
    receiver = await startOtlpReceiver(
      {},
      {
        key: readFileSync(path.join(dir, "key.pem"), "utf8"),
        cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
      },
    );
    const fn = await start("redirect", "index.handler", { NODE_EXTRA_CA_CERTS: path.join(dir, "cert.pem") });
    const res = await fn.invoke({});
    assert.ok(receiver.url.startsWith("https://"));
    assert.equal((await spansOf(res.requestId)).length, 1);
    rmSync(dir, { recursive: true, force: true });
  });

  it("http/json with the ingest token from OTEL_EXPORTER_OTLP_HEADERS", async () => {
    await receiver.close();
    receiver = await startOtlpReceiver({ authorization: "Bearer s3cret token" });
    const fn = await start("wrapper", "index.handler", {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret%20token",
    });
    const res = await fn.invoke({});
    assert.equal((await spansOf(res.requestId)).length, 1);
    assert.equal(receiver.requests[0].contentType, "application/json");
  });

  it("outgoing http and fetch from the function get client spans and carry traceparent", async () => {
    const seen: string[] = [];
    const downstream = http.createServer((req, res) => res.end(String(req.headers.traceparent ?? "")));
    await new Promise<void>((r) => downstream.listen(0, "127.0.0.1", r));
    try {
      const fn = await start("redirect", "http.handler");
      const url = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
      const res = await fn.invoke({ url });
      const { viaHttp, viaFetch } = res.result as { viaHttp: string; viaFetch: string };
      seen.push(viaHttp, viaFetch);
      const [invocation] = await spansOf(res.requestId);
      const clients = receiver.spans.filter((s) => s.kind === CLIENT);
      assert.equal(clients.length, 2);
      for (const client of clients) {
        assert.equal(client.parentSpanId, invocation.spanId);
        assert.ok(
          seen.includes(`00-${client.traceId}-${client.spanId}-01`),
          `${client.name} context reached the server`,
        );
      }
    } finally {
      downstream.closeAllConnections();
      downstream.close();
    }
  });

  describe("caller → callee through the AWS SDK plugin", () => {
    let invokeApi: InvokeApi;
    let callee: LambdaFunction;
    beforeEach(async () => {
      callee = await start("redirect", "index.handler", {}, FN, "callee");
      invokeApi = await startInvokeApi(callee);
    });
    afterEach(() => invokeApi.close());

    for (const asynchronous of [false, true]) {
      it(`${asynchronous ? "asynchronous (Event, payload)" : "synchronous (ClientContext)"}: the callee's span is a child of the caller's call`, async () => {
        const caller = await start(
          "wrapper",
          "caller.handler",
          {
            FIXTURE_LAMBDA_ENDPOINT: invokeApi.url,
            AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
            AWS_SECRET_ACCESS_KEY: "secret",
          },
          FN,
          "caller",
        );
        const res = await caller.invoke({ async: asynchronous });
        assert.equal(res.ok, true, JSON.stringify(res.error));
        const spans = await receiver.waitForSpans(4);
        const byName = (name: string) => spans.find((s) => s.name === name) as ReceivedSpan;
        const callerSpan = byName("caller");
        const sdkSpan = byName("Lambda.Invoke");
        const calleeSpan = byName("callee");
        assert.equal(sdkSpan.parentSpanId, callerSpan.spanId);
        assert.equal(calleeSpan.parentSpanId, sdkSpan.spanId, "child of the call, not a sibling");
        assert.equal(calleeSpan.traceId, callerSpan.traceId);
      });
    }
  });

  describe("a dead or slow collector: never an error, never the caller's wait, at most the flush budget billed", () => {
    const sockets = new Set<Socket>();
    let hole: http.Server;
    let holeUrl: string;
    beforeEach(async () => {
      hole = http.createServer(() => {});
      hole.on("connection", (s) => sockets.add(s));
      await new Promise<void>((r) => hole.listen(0, "127.0.0.1", r));
      holeUrl = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    });
    afterEach(() => {
      for (const s of sockets) s.destroy();
      hole.close();
    });

    it("black-holed endpoint (accepts, never answers): the response does not wait; the breaker opens after 3 failures", async () => {
      const fn = await start("redirect", "index.handler", {
        OTEL_EXPORTER_OTLP_ENDPOINT: holeUrl,
        FIREFLY_FLUSH_TIMEOUT_MS: "300",
      });
      const billed: number[] = [];
      for (const n of [1, 2, 3, 4, 5]) {
        const res = await fn.invoke({ n });
        assert.equal(res.ok, true);
        assert.deepEqual((res.result as { echo: unknown }).echo, { n });
        // The export runs after the response: the caller never waits for the black hole.
        assert.ok(res.durationMs < 150, `the response took ${res.durationMs} ms`);
        billed.push(await fn.billedMs(res.requestId));
      }
      // Three exports wait out the budget after their response; then the breaker skips the export.
      for (const b of billed.slice(0, 3)) assert.ok(b >= 300 && b < 300 + 1500, `billed ${b} ms`);
      for (const b of billed.slice(3)) assert.ok(b < 150, `billed ${b} ms with the breaker open`);
      assert.match(
        fn.log,
        /\[firefly\] dropping spans until export recovers: export did not finish within FIREFLY_FLUSH_TIMEOUT_MS=300 \(after 3 failures in a row, export is retried every 30 s\)/,
      );
    });

    it("exporting before the response (FIREFLY_EXPORT_AFTER_RESPONSE=false): the budget and the deadline bound the wait", async () => {
      const fn = await start("redirect", "index.handler", {
        OTEL_EXPORTER_OTLP_ENDPOINT: holeUrl,
        FIREFLY_FLUSH_TIMEOUT_MS: "300",
        FIREFLY_EXPORT_AFTER_RESPONSE: "false",
      });
      assert.equal(fn.extensions, 0);
      const res = await fn.invoke({ n: 1 });
      assert.equal(res.ok, true);
      assert.ok(res.durationMs >= 300 && res.durationMs < 300 + 1500, `invocation took ${res.durationMs} ms`);
      // A budget longer than the time the invocation has left: the deadline wins, no timeout.
      const short = await start("wrapper", "index.handler", {
        OTEL_EXPORTER_OTLP_ENDPOINT: holeUrl,
        FIREFLY_FLUSH_TIMEOUT_MS: "10000",
        FIREFLY_EXPORT_AFTER_RESPONSE: "false",
      });
      const late = await short.invoke({ n: 3 }, { timeoutMs: 1500 });
      assert.equal(late.ok, true);
      assert.ok(late.durationMs < 1500, `invocation took ${late.durationMs} ms, past its 1500 ms deadline`);
      assert.match(short.log, /remaining time/);
    });

    it("no Extensions API: exports before each response instead, and says so once", async () => {
      const fn = await startFunction({
        mode: "wrapper",
        taskRoot: FN,
        handler: "index.handler",
        extensionsApi: false,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      });
      running.push(fn);
      assert.equal(fn.extensions, 0);
      receiver.delay(200);
      const res = await fn.invoke({ n: 1 });
      // In line: the span is there when the response is, and the response waited for the collector.
      assert.equal(
        receiver.spans.filter((s) => s.attributes["faas.invocation_id"] === res.requestId).length,
        1,
      );
      assert.ok(res.durationMs >= 200, `response after ${res.durationMs} ms`);
      await fn.invoke({ n: 2 });
      assert.equal(
        fn.log.match(
          /\[firefly\] could not register as a Lambda extension \(HTTP 404[^)]*\): spans are exported before each response instead/g,
        )?.length,
        1,
        fn.log,
      );
    });

    it("endpoint down (connection refused)", async () => {
      const fn = await start("wrapper", "index.handler", {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      });
      const res = await fn.invoke({ n: 1 });
      assert.equal(res.ok, true);
      await fn.billedMs(res.requestId);
      assert.match(fn.log, /ECONNREFUSED/);
    });
  });

  describe("init", () => {
    it("redirect without FIREFLY_HANDLER fails init with a message naming the setting", async () => {
      await assert.rejects(
        startFunction({
          mode: "redirect",
          taskRoot: FN,
          handler: "",
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
        }),
        /FIREFLY_HANDLER is not set/,
      );
    });

    it("a function that fails at init still fails at init, with its own error", async () => {
      await assert.rejects(
        startFunction({ mode: "wrapper", taskRoot: FN, handler: "broken-init.handler" }),
        /broken at init/,
      );
    });

    it("no layer: the same handler runs and nothing is exported (baseline)", async () => {
      const fn = await start("none", "index.handler");
      const res = await fn.invoke({ n: 1 });
      assert.equal(res.ok, true);
      assert.equal(receiver.requests.length, 0);
    });
  });
});
