// The built layer under AWS's own Runtime Interface Emulator, with the real runtime interface client on
// every supported runtime: the emulator serves the Extensions API, enforces the timeout and reports the
// runtime's part of each invocation (RTDONE), which is what a caller waits for on Lambda.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as path from "node:path";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp";
import { type RieFunction, startRie } from "./rie";
import { type LayerMode, RUNTIMES } from "./runtime";

const FN = path.join(__dirname, "fixtures/fn");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
const INVOCATIONS = 25;

for (const runtime of RUNTIMES) {
  describe(`layer under aws-lambda-rie on ${runtime}`, function () {
    this.timeout(90_000);
    let receiver: OtlpReceiver;
    const running: RieFunction[] = [];
    const sockets = new Set<Socket>();
    let hole: http.Server;
    let holeUrl: string;
    const start = async (
      mode: LayerMode,
      handler: string,
      env: Record<string, string> = {},
      timeoutS?: number,
    ) => {
      const fn = await startRie({
        runtime,
        mode,
        taskRoot: FN,
        handler,
        timeoutS,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, FIREFLY_FLUSH_TIMEOUT_MS: "300", ...env },
      });
      running.push(fn);
      return fn;
    };
    const invocation = (spans: ReceivedSpan[]) => spans.find((s) => s.kind === 2) as ReceivedSpan;

    beforeEach(async () => {
      receiver = await startOtlpReceiver();
      hole = http.createServer(() => {});
      hole.on("connection", (s) => sockets.add(s));
      await new Promise<void>((r) => hole.listen(0, "127.0.0.1", r));
      holeUrl = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((f) => f.stop()));
      await receiver.close();
      for (const s of sockets) s.destroy();
      hole.close();
    });

    for (const mode of ["redirect", "wrapper"] as const) {
      it(`${mode}: registers as an extension; a black-holed collector adds < 2 ms to the runtime's part (medians)`, async () => {
        const runtimePart = async (endpoint: string) => {
          const fn = await start(mode, "index.handler", { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
          const runtimeMs: number[] = [];
          const billedMs: number[] = [];
          for (let i = 0; i < INVOCATIONS; i++) {
            const out = await fn.invoke({ i });
            assert.equal(out.status, 200);
            assert.deepEqual((out.body as { echo: unknown }).echo, { i });
            assert.equal(out.rtdoneStatus, "success");
            // The cold invocation includes first-use compilation: the warm ones are the comparison.
            if (i > 0) runtimeMs.push(out.runtimeMs);
            if (i > 0) billedMs.push(out.billedMs);
          }
          assert.match(fn.log, /Internal agent firefly \([^)]+\) registered, subscribed to \[INVOKE\]/);
          return { fn, runtimeMs, billedMs };
        };
        const healthy = await runtimePart(receiver.url);
        await receiver.waitForSpans(INVOCATIONS);
        await healthy.fn.stop();
        const holed = await runtimePart(holeUrl);
        const added = median(holed.runtimeMs) - median(healthy.runtimeMs);
        console.log(
          `      ${runtime} ${mode}: runtime part p50/p99 healthy ${median(healthy.runtimeMs).toFixed(2)}/${p99(healthy.runtimeMs).toFixed(2)} ms, black-holed ${median(holed.runtimeMs).toFixed(2)}/${p99(holed.runtimeMs).toFixed(2)} ms (added ${added.toFixed(2)}); answer (billed) p50 healthy ${median(healthy.billedMs).toFixed(2)}, black-holed ${median(holed.billedMs).toFixed(2)} ms`,
        );
        assert.ok(added < 2, `a black-holed collector added ${added.toFixed(2)} ms to the runtime's part`);
        assert.match(holed.fn.log, /\[firefly\] dropping spans until export recovers/);
      });
    }

    it("timeout: the invocation span and its open child end with ERROR and a timeout marker, and arrive", async () => {
      // A 3 s timeout and a 300 ms margin (the most allowed: a tenth): room for the export on a busy
      // machine before the emulator stops the runtime at the deadline.
      const fn = await start(
        "redirect",
        "faults.slow",
        { FIREFLY_FLUSH_TIMEOUT_MS: "1000", FIREFLY_TIMEOUT_MARGIN_MS: "300" },
        3,
      );
      const out = await fn.invoke({ url: holeUrl });
      assert.match(JSON.stringify(out.body), /timed out|Task timed out/i);
      const spans = await receiver.waitForSpans(2);
      const span = invocation(spans);
      assert.equal(span.status.code, 2);
      assert.equal(span.attributes["firefly.timeout"], true);
      assert.equal(span.events[0].name, "exception");
      assert.equal(span.events[0].attributes["exception.type"], "TimeoutError");
      const child = spans.find((s) => s.kind === 3) as ReceivedSpan;
      assert.equal(child.parentSpanId, span.spanId);
      assert.equal(child.attributes["firefly.timeout"], true);
      assert.equal(child.status.code, 2);
      // Ended before the 3 s deadline (which also counts a lazy init, so the start is not exact).
      const ms = Number(span.endNs - span.startNs) / 1e6;
      assert.ok(ms > 1500 && ms < 3000, `the span lasted ${ms} ms`);
    });

    for (const mode of ["redirect", "wrapper"] as const) {
      it(`${mode}: crash (uncaught exception): the span ends with ERROR and the exception, and arrives; the runtime still fails`, async () => {
        const fn = await start(mode, "faults.crash");
        const out = await fn.invoke({ why: "bad input" });
        assert.match(JSON.stringify(out.body), /crashed: bad input|exited|Runtime/);
        const [span] = await receiver.waitForSpans(1);
        assert.equal(span.status.code, 2);
        assert.equal(span.attributes["firefly.crash"], true);
        assert.match(String(span.events[0].attributes["exception.message"]), /crashed: bad input/);
        const logs = await receiver.waitForLogs(1);
        const line = logs.find((l) => l.body === "about to crash: bad input");
        assert.ok(line, JSON.stringify(logs.map((l) => l.body)));
        assert.equal(line.traceId, span.traceId);
        assert.equal(line.attributes["faas.invocation_id"], span.attributes["faas.invocation_id"]);
        // The environment recovers: the next invocation starts a fresh runtime and succeeds.
        const next = await fn.invoke({});
        assert.equal(next.status, 200, fn.log);
      });
    }

    it("logs: console output arrives as OTLP log records carrying the invocation's trace and span ids", async () => {
      const fn = await start("wrapper", "faults.logs");
      const out = await fn.invoke({ who: "rie" });
      assert.equal(out.status, 200);
      const [span] = await receiver.waitForSpans(1);
      const logs = await receiver.waitForLogs(6);
      const hello = logs.find((l) => l.body === "hello from rie");
      assert.ok(hello, JSON.stringify(logs.map((l) => l.body)));
      assert.equal(hello.traceId, span.traceId);
      assert.equal(hello.spanId, span.spanId);
      assert.equal(hello.attributes["faas.invocation_id"], span.attributes["faas.invocation_id"]);
      assert.match(fn.log, /hello from rie/);
    });

    it("crash (unhandled rejection): the span ends with ERROR and the rejection, and arrives", async () => {
      const fn = await start("redirect", "faults.reject");
      await fn.invoke({ why: "nobody caught it" });
      const [span] = await receiver.waitForSpans(1);
      assert.equal(span.status.code, 2);
      assert.equal(span.attributes["firefly.crash"], true);
      assert.match(String(span.events[0].attributes["exception.message"]), /rejected: nobody caught it/);
    });
  });
}
