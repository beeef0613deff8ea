// The built layer on every supported Lambda Node.js runtime, with the runtime interface client Lambda
// uses for it: Node 20 and 22 with aws-lambda-ric 3.x, Node 24 with 4.x (binaries from npm's `node`
// package, installed by .ci/setup.d/15-lambda-runtimes.sh). Both instrumentation modes, CommonJS and
// ESM, async and callback handlers (callback only where the runtime still accepts one).
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp";
import {
  type LambdaFunction,
  type LambdaRuntime,
  type LayerMode,
  RUNTIMES,
  runtimeBinaries,
  startFunction,
} from "./runtime";

const FN = path.join(__dirname, "fixtures/fn");
const ESM = path.join(__dirname, "fixtures/esm");

const HANDLERS: { title: string; root: string; handler: string; style: string; callback?: true }[] = [
  { title: "CommonJS async", root: FN, handler: "index.handler", style: "cjs" },
  {
    title: "CommonJS two-argument returning a promise",
    root: FN,
    handler: "plain.handler",
    style: "plain-promise",
  },
  { title: "ESM (type: module) async", root: ESM, handler: "index.handler", style: "esm" },
  { title: ".mjs with top-level await", root: FN, handler: "module.handler", style: "mjs" },
  { title: "CommonJS callback", root: FN, handler: "callback.handler", style: "callback", callback: true },
];

for (const runtime of RUNTIMES) {
  const callbacksAllowed = runtime !== "nodejs24.x";
  describe(`layer on ${runtime}`, function () {
    this.timeout(30000);
    let receiver: OtlpReceiver;
    const running: LambdaFunction[] = [];
    const start = async (mode: LayerMode, root: string, handler: string, rt: LambdaRuntime = runtime) => {
      const fn = await startFunction({
        mode,
        taskRoot: root,
        handler,
        runtime: rt,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      });
      running.push(fn);
      return fn;
    };
    before(() => {
      const { node, ricVersion } = runtimeBinaries(runtime);
      console.log(`      ${runtime}: ${node} with aws-lambda-ric ${ricVersion}`);
    });
    beforeEach(async () => {
      receiver = await startOtlpReceiver();
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((f) => f.stop()));
      await receiver.close();
    });

    it("runs the Node version and client Lambda uses", () => {
      const { node, ricVersion } = runtimeBinaries(runtime);
      assert.match(node, new RegExp(`node${runtime.replace(/\D/g, "")}/`));
      assert.equal(ricVersion.split(".")[0], runtime === "nodejs24.x" ? "4" : "3");
    });

    it("loads no Node built-in by the cold invocation that the runtime does not load itself, but AsyncLocalStorage's", async () => {
      // An ES module import of node:http once loaded undici, TLS, crypto and HTTP/2 into every init
      // (30–50 ms on Node 22 and 24); the global `performance` loads perf_hooks.
      const loaded = async (mode: LayerMode) => {
        const fn = await start(mode, FN, "modules.handler");
        const res = await fn.invoke({});
        assert.equal(res.ok, true, JSON.stringify(res.error));
        return (res.result as { modules: string[] }).modules;
      };
      const without = new Set(await loaded("none"));
      for (const mode of ["redirect", "wrapper"] as const) {
        const extra = (await loaded(mode)).filter((m) => !without.has(m));
        assert.deepEqual(
          extra.filter((m) => !/^internal\/(async_local_storage\/|promise_hooks$)/.test(m)),
          [],
          `${mode} loads ${extra.join(", ")}`,
        );
      }
    });

    for (const mode of ["redirect", "wrapper"] as const) {
      for (const { title, root, handler, style, callback } of HANDLERS) {
        if (callback && !callbacksAllowed) {
          it(`${mode}: ${title} is refused at init as without the layer (Runtime.CallbackHandlerDeprecated)`, async () => {
            await assert.rejects(start("none", root, handler), /CallbackHandlerDeprecated/);
            await assert.rejects(start(mode, root, handler), /CallbackHandlerDeprecated/);
          });
          continue;
        }
        it(`${mode}: ${title} (${handler}), cold then warm, with the incoming W3C context`, async () => {
          const fn = await start(mode, root, handler);
          assert.equal(fn.extensions, 1, "registered as an internal extension during init");
          const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
          const cold = await fn.invoke({ n: 1 }, { clientContext: { custom: { traceparent } } });
          assert.equal(cold.ok, true, JSON.stringify(cold.error));
          if (style !== "cjs") assert.equal((cold.result as { style: string }).style, style);
          assert.deepEqual((cold.result as { echo: unknown }).echo, { n: 1 });
          const warm = await fn.invoke({ n: 2 });
          assert.equal(warm.ok, true, JSON.stringify(warm.error));
          const spans = await receiver.waitForSpans(2);
          const of = (id: string) => spans.filter((s) => s.attributes["faas.invocation_id"] === id);
          const [c] = of(cold.requestId);
          const [w] = of(warm.requestId);
          assert.equal(c.attributes["faas.coldstart"], true);
          assert.equal(w.attributes["faas.coldstart"], false);
          assert.equal(c.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
          assert.equal(c.parentSpanId, "00f067aa0ba902b7");
          // No callback-deprecation noise and no layer complaint in the function's log.
          assert.doesNotMatch(fn.log, /deprecat|\[firefly\]/i);
        });
      }
      if (runtime === "nodejs24.x")
        it(`${mode}: multi-concurrent (Lambda Managed Instances, AWS_LAMBDA_MAX_CONCURRENCY): overlapping invocations keep their own spans, exported without an extension, no log capture`, async () => {
          const fn = await startFunction({
            mode,
            taskRoot: FN,
            handler: "faults.slow",
            runtime,
            env: {
              OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
              AWS_LAMBDA_MAX_CONCURRENCY: "8",
              // aws-lambda-ric 4 runs the handler in worker threads, each taking several invocations.
              AWS_LAMBDA_NODEJS_WORKER_COUNT: "2",
            },
          });
          running.push(fn);
          assert.equal(
            fn.extensions,
            0,
            "no extension: its INVOKE events cannot follow overlapping invocations",
          );
          const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => fn.invoke({ ms: 300, n })));
          for (const r of results) assert.equal(r.ok, true, JSON.stringify(r.error));
          const spans = await receiver.waitForSpans(6);
          const ids = results.map((r) => r.requestId).sort();
          assert.deepEqual(spans.map((s) => String(s.attributes["faas.invocation_id"])).sort(), ids);
          assert.equal(new Set(spans.map((s) => s.traceId)).size, 6, "each invocation its own trace");
          // They did run at once: some two spans overlap in time.
          const overlap = spans.some((a) =>
            spans.some((b) => a !== b && a.startNs < b.endNs && b.startNs < a.endNs),
          );
          assert.ok(overlap, "the invocations overlapped");
          assert.equal(
            receiver.logs.length,
            0,
            "no log record, rather than one with another invocation's id",
          );
          // One line per worker thread, each naming how the layer was put in front of the handler.
          const lines = fn.log.match(/firefly: layer \S+ active, .*/g) ?? [];
          assert.equal(lines.length, 2, `one startup line per worker:\n${fn.log}`);
          for (const line of lines)
            assert.match(
              line,
              new RegExp(
                `active, ${mode === "wrapper" ? "wrapper" : "handler"} mode, multi-concurrent, .*export after the response, logs off`,
              ),
            );
          assert.doesNotMatch(fn.log, /\[firefly\]/);
        });

      it(`${mode}: says it is alive in one line at cold start, nothing per invocation, never as a log record; FIREFLY_QUIET=true silences it`, async () => {
        const token = "s3cret-token";
        const fn = await startFunction({
          mode,
          taskRoot: FN,
          handler: "faults.logs",
          runtime,
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${token}`,
          },
        });
        running.push(fn);
        for (const n of [1, 2, 3]) {
          const res = await fn.invoke({ n });
          assert.equal(res.ok, true, JSON.stringify(res.error));
          await fn.billedMs(res.requestId);
        }
        const host = new URL(receiver.url).host;
        const lines = fn.log.split("\n").filter((l) => l.includes("firefly: layer"));
        assert.equal(lines.length, 1, fn.log);
        assert.match(
          lines[0],
          new RegExp(
            `^firefly: layer \\d+\\.\\d+\\.\\d+ active, ${mode === "wrapper" ? "wrapper" : "handler"} mode, endpoint ${host.replaceAll(".", "\\.")}, sampler parentbased_always_on, export after the response, logs on$`,
          ),
        );
        assert.doesNotMatch(fn.log, new RegExp(token));
        assert.doesNotMatch(fn.log, /\[firefly\]/);
        assert.ok(receiver.logs.length > 0, "the invocations' own lines were captured");
        assert.equal(receiver.logs.filter((l) => String(l.body).includes("firefly: layer")).length, 0);

        const quiet = await startFunction({
          mode,
          taskRoot: FN,
          handler: "index.handler",
          runtime,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, FIREFLY_QUIET: "true" },
        });
        running.push(quiet);
        const res = await quiet.invoke({ n: 1 });
        assert.equal(res.ok, true);
        await quiet.billedMs(res.requestId);
        assert.doesNotMatch(quiet.log, /firefly: layer/);
      });

      it(`${mode}: memory and init: configured size and peak RSS on every span, init duration on the cold one`, async () => {
        const fn = await start(mode, FN, "faults.allocate");
        const cold = await fn.invoke({ mb: 0 });
        const big = await fn.invoke({ mb: 64 });
        assert.equal(big.ok, true, JSON.stringify(big.error));
        const spans = await receiver.waitForSpans(2);
        const of = (id: string) => spans.find((x) => x.attributes["faas.invocation_id"] === id)!;
        const [c, b] = [of(cold.requestId), of(big.requestId)];
        assert.equal(c.attributes["faas.max_memory"], 128 * 1024 * 1024);
        const init = Number(c.attributes["firefly.init.duration_ms"]);
        assert.ok(init > 0 && init < 10_000, `init ${init} ms`);
        assert.equal(b.attributes["firefly.init.duration_ms"], undefined, "only the cold invocation");
        const peak = Number(b.attributes["firefly.memory.peak_rss"]);
        assert.ok(peak >= Number(c.attributes["firefly.memory.peak_rss"]) + 50 * 1024 * 1024, `peak ${peak}`);
      });

      it(`${mode}: timeout: the span ends with ERROR and a timeout marker shortly before the deadline, and arrives`, async () => {
        const fn = await start(mode, FN, "faults.slow");
        void fn.invoke({ ms: 5000 }, { timeoutMs: 1000 });
        const [span] = await receiver.waitForSpans(1);
        assert.equal(span.attributes["firefly.timeout"], true);
        assert.equal(span.status.code, 2);
        assert.equal(span.events[0].attributes["exception.type"], "TimeoutError");
      });

      it(`${mode}: crash: an uncaught exception ends the span with ERROR before the runtime exits`, async () => {
        const fn = await start(mode, FN, "faults.crash");
        const res = await fn.invoke({ why: "boom" });
        assert.equal(res.ok, false);
        const [span] = await receiver.waitForSpans(1);
        assert.equal(span.attributes["firefly.crash"], true);
        assert.match(String(span.events[0].attributes["exception.message"]), /crashed: boom/);
        // The invocation's log records go with its spans, in the same last-moment export.
        const logs = await receiver.waitForLogs(1);
        const line = logs.find((l) => l.body === "about to crash: boom");
        assert.ok(line, JSON.stringify(logs.map((l) => l.body)));
        assert.equal(line.attributes["faas.invocation_id"], res.requestId);
        assert.equal(line.traceId, span.traceId);
        assert.equal(line.spanId, span.spanId);
      });

      it(`${mode}: logs: console and stdout/stderr lines become OTLP log records with severity and trace context; CloudWatch output unchanged`, async () => {
        const fn = await start(mode, FN, "faults.logs");
        const res = await fn.invoke({ who: "the test" });
        assert.equal(res.ok, true, JSON.stringify(res.error));
        const [span] = await receiver.waitForSpans(1);
        const logs = await receiver.waitForLogs(6);
        const find = (re: RegExp) => logs.find((l) => re.test(String(l.body)));
        const during = [
          [/^hello from the test$/, 9],
          [/^careful$/, 13],
          [/^Error: shown as an error/, 17],
          [/^raw stdout line$/, 9],
          [/^raw stderr line$/, 17],
        ] as const;
        for (const [re, severity] of during) {
          const record = find(re);
          assert.ok(record, `no log record for ${re}: ${JSON.stringify(logs.map((l) => l.body))}`);
          assert.equal(record.severityNumber, severity, String(re));
          assert.equal(record.attributes["faas.invocation_id"], res.requestId);
          assert.equal(record.traceId, span.traceId);
          assert.equal(record.spanId, span.spanId);
          assert.equal(record.resource["service.name"], "fixture");
        }
        // Written at init, between invocations: no invocation, no span.
        const init = find(/^faults module loaded$/);
        assert.ok(init);
        assert.equal(init.traceId, "");
        assert.equal(init.attributes["faas.invocation_id"], undefined);
        // The layer does not echo its captures: each line reached the function's log once, as before.
        for (const line of ["hello from the test", "raw stdout line", "raw stderr line"])
          assert.equal(fn.log.split(line).length - 1, 1, line);
        assert.equal(logs.filter((l) => /^hello from/.test(String(l.body))).length, 1);
      });

      it(`${mode}: logs are capped per invocation (records and bytes, cuts marked) and off with FIREFLY_LOGS=false`, async () => {
        const capped = await startFunction({
          mode,
          taskRoot: FN,
          handler: "faults.logs",
          runtime,
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            FIREFLY_LOGS_MAX_RECORDS: "8",
            FIREFLY_LOGS_MAX_BYTES: "400",
          },
        });
        running.push(capped);
        const res = await capped.invoke({ many: 20, width: 60 });
        await capped.billedMs(res.requestId);
        const mine = receiver.logs.filter((l) => l.attributes["faas.invocation_id"] === res.requestId);
        const summary = mine.find((l) => l.attributes["firefly.log.dropped_records"] !== undefined);
        assert.ok(summary, JSON.stringify(mine.map((l) => l.body)));
        assert.ok(Number(summary.attributes["firefly.log.dropped_records"]) >= 17);
        assert.ok(mine.length <= 9, `${mine.length} records`);
        assert.ok(
          mine.some((l) => l.attributes["firefly.log.truncated"] === true),
          "a cut record is marked",
        );
        const bytes = mine
          .filter((l) => l !== summary)
          .reduce((n, l) => n + Buffer.byteLength(String(l.body)), 0);
        assert.ok(bytes <= 400, `${bytes} bytes`);
        // The function's own output is not capped.
        assert.match(capped.log, /line 19 x{60}/);

        const before = receiver.logs.length;
        const off = await startFunction({
          mode,
          taskRoot: FN,
          handler: "faults.logs",
          runtime,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, FIREFLY_LOGS: "false" },
        });
        running.push(off);
        const quiet = await off.invoke({});
        await off.billedMs(quiet.requestId);
        assert.equal(receiver.logs.length, before);
        assert.match(off.log, /hello from the handler/);
      });

      it(`${mode}: the user's error reaches the runtime unchanged and marks the span`, async () => {
        const fn = await start(mode, ESM, "index.handler");
        const res = await fn.invoke({ fail: "bad order" });
        assert.equal(res.ok, false);
        assert.equal(res.error?.errorType, "TypeError");
        const [span] = await receiver.waitForSpans(1);
        assert.equal(span.status.code, 2);
      });
    }
  });
}
