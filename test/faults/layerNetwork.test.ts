// Fault 3: the collector is unreachable, slow, black-holed or refusing, seen from a function. Handlers
// run through the real runtime interface client with the built layer (handler redirection and the exec
// wrapper) must still return their results, with zero handler errors. The layer exports after the
// response (as an extension), so the caller's wait (the runtime's part) must not grow with the fault,
// and the billed part must stay within the flush budget (FIREFLY_FLUSH_TIMEOUT_MS) instead of growing
// to the function's timeout; after 3 failures the circuit breaker stops even that. The numbers are
// printed; the bounds are asserted with a margin for a busy 2-core machine, because without them a
// black hole would hold every invocation until its timeout (30 s here).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type OtlpReceiver, startOtlpReceiver } from "../layer/otlp";
import { LAYER_ZIP, type LayerMode, startFunction } from "../layer/runtime";
import { blackHole, type FaultServer, freePort, slowServer, waitFor } from "./control";
import { record } from "./ledger";
import { usePipeline } from "./pipeline";
import { pipelineMissing } from "./settings";

const TASK_ROOT = path.resolve(__dirname, "../layer/fixtures/fn");
const FLUSH_BUDGET_MS = 500;
/** Scheduling slack on a loaded 2-core CI machine; far below what an unbounded wait would cost. */
const MARGIN_MS = 1_000;
const INVOCATIONS = 8;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

describe("fault: collector unreachable, slow, black-holed or refusing (real runtime + layer)", function () {
  this.timeout(180_000);
  let receiver: OtlpReceiver;
  const servers: FaultServer[] = [];
  let baselineMedian = 0;
  const lines: string[] = [];
  let handlerErrors = 0;
  let invocations = 0;

  before(() => {
    if (!fs.existsSync(LAYER_ZIP)) throw new Error(`${LAYER_ZIP} is missing: run npm run build:layer`);
  });
  after(async () => {
    await receiver?.close();
    for (const s of servers) await s.close();
    if (invocations > 0) {
      record({
        fault: "collector-unreachable",
        injected: `${invocations} invocations against the real collector (up, then SIGKILLed) and unreachable, slow, black-holed and refusing endpoints`,
        notes: `${handlerErrors} handler errors; added latency p50/max ms vs healthy: ${lines.join(", ")}`,
      });
    }
  });

  /** Billed part (response + post-response export) of each invocation of the last run, in order. */
  let billed: number[] = [];

  /** Invokes the fixture INVOCATIONS times with the endpoint at `endpoint`; returns sorted durations. */
  async function run(mode: LayerMode, endpoint: string, env: Record<string, string> = {}): Promise<number[]> {
    const fn = await startFunction({
      mode,
      taskRoot: TASK_ROOT,
      handler: "index.handler",
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        FIREFLY_FLUSH_TIMEOUT_MS: String(FLUSH_BUDGET_MS),
        ...env,
      },
    });
    const durations: number[] = [];
    billed = [];
    try {
      for (let i = 0; i < INVOCATIONS; i++) {
        const event = { n: i, payload: "x".repeat(100) };
        const out = await fn.invoke(event, { timeoutMs: 30_000 });
        invocations++;
        if (!out.ok) handlerErrors++;
        assert.ok(out.ok, `invocation ${i} failed: ${JSON.stringify(out.error)}\n${fn.log}`);
        assert.deepEqual(
          (out.result as { echo: unknown }).echo,
          event,
          "the handler's result did not come back",
        );
        durations.push(out.durationMs);
        billed.push(await fn.billedMs(out.requestId));
      }
    } finally {
      await fn.stop();
    }
    return durations.sort((a, b) => a - b);
  }

  it("healthy endpoint (baseline): every invocation exported", async () => {
    receiver = await startOtlpReceiver();
    const durations = await run("redirect", receiver.url);
    await receiver.waitForSpans(INVOCATIONS, 5_000);
    baselineMedian = quantile(durations, 0.5);
    lines.push(`healthy ${baselineMedian.toFixed(0)} (absolute)`);
  });

  /** A misbehaving peer as the OTLP endpoint; closed after the suite. */
  async function served(starting: Promise<FaultServer>) {
    const server = await starting;
    servers.push(server);
    return { url: `http://127.0.0.1:${server.port}`, tried: server.accepted };
  }

  const collector = usePipeline(pipelineMissing);
  const collectorEnv = () => ({
    // What instrumentation sets: the token URL-encoded, as the layer reads the header list baggage-style.
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${encodeURIComponent(collector().otlpToken)}`,
  });
  const collectorUrl = () => `http://127.0.0.1:${collector().ports.otlpHttp}`;

  it("the real collector: every invocation's span reaches the trace store", async () => {
    const before = collector().traceStore.spans.size;
    const durations = await run("redirect", collectorUrl(), collectorEnv());
    // Tail sampling decides after 10 s; everything is kept in the suite's configuration.
    await waitFor(
      "the layer's spans in the trace store",
      async () => collector().traceStore.spans.size - before >= INVOCATIONS,
      30_000,
    );
    lines.push(
      `real collector ${(quantile(durations, 0.5) - baselineMedian).toFixed(0)}/${(durations[durations.length - 1] - baselineMedian).toFixed(0)}`,
    );
  });

  it("the real collector SIGKILLed: results returned, zero handler errors, within the flush budget", async () => {
    await collector().collector.kill();
    try {
      const durations = await run("redirect", collectorUrl(), collectorEnv());
      const max = durations[durations.length - 1] - baselineMedian;
      lines.push(
        `collector killed ${(quantile(durations, 0.5) - baselineMedian).toFixed(0)}/${max.toFixed(0)}`,
      );
      assert.ok(
        max <= FLUSH_BUDGET_MS + MARGIN_MS,
        `an invocation took ${max.toFixed(0)} ms longer than on a healthy endpoint`,
      );
    } finally {
      await collector().collector.start();
    }
  });

  const scenarios: [string, LayerMode, () => Promise<{ url: string; tried: () => number }>][] = [
    [
      "unreachable (nothing listening)",
      "redirect",
      async () => ({ url: `http://127.0.0.1:${await freePort()}`, tried: () => Number.NaN }),
    ],
    ["slow (answers after 5 s)", "redirect", () => served(slowServer(5_000))],
    ["black hole (accepts, never answers)", "redirect", () => served(blackHole())],
    ["black hole, exec wrapper mode", "wrapper", () => served(blackHole())],
    [
      "refusing (HTTP 503)",
      "redirect",
      async () => {
        const r = await startOtlpReceiver();
        r.respondWith(503);
        servers.push({ port: 0, accepted: () => r.requests.length, close: () => r.close() });
        return { url: r.url, tried: () => r.requests.length };
      },
    ],
  ];

  for (const [name, mode, endpoint] of scenarios) {
    it(`${name}: results returned, zero handler errors, the response never waits, billed time within the ${FLUSH_BUDGET_MS} ms budget until the breaker opens`, async () => {
      const { url, tried } = await endpoint();
      const durations = await run(mode, url);
      const added = durations.map((d) => d - baselineMedian);
      const [p50, max] = [quantile(added, 0.5), added[added.length - 1]];
      const billedMax = Math.max(...billed);
      const afterBreaker = quantile(
        billed.slice(3).sort((a, b) => a - b),
        0.5,
      );
      lines.push(
        `${name} ${p50.toFixed(0)}/${max.toFixed(0)} (billed max ${billedMax.toFixed(0)}, p50 with the breaker open ${afterBreaker.toFixed(0)})`,
      );
      const attempts = tried();
      if (!Number.isNaN(attempts))
        assert.ok(attempts > 0, "the layer never tried the endpoint: the fault was not felt");
      // The caller does not wait for the export: far below the budget, unlike before the extension.
      assert.ok(
        max <= FLUSH_BUDGET_MS / 2,
        `an invocation's response came ${max.toFixed(0)} ms later than on a healthy endpoint`,
      );
      assert.ok(
        billedMax <= FLUSH_BUDGET_MS + MARGIN_MS,
        `an invocation was billed ${billedMax.toFixed(0)} ms (budget ${FLUSH_BUDGET_MS} ms)`,
      );
      // After 3 failures in a row the breaker skips the export: no more budget paid per invocation.
      assert.ok(
        afterBreaker < FLUSH_BUDGET_MS / 2,
        `billed ${afterBreaker.toFixed(0)} ms per invocation with the breaker open`,
      );
    });
  }
});
