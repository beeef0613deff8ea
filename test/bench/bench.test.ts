// Smoke test of `npm run bench` in quick mode: every section runs end to end against the real pieces
// (aws-lambda-ric, the built layer, the rebuilt upstream layer, the built collector, telemetrygen) and
// yields well-formed figures. No timing is asserted: benchmarks report, they do not judge.
import * as assert from "node:assert/strict";
import type { BenchResults } from "./run";

describe("npm run bench (BENCH_QUICK=1 smoke)", function () {
  this.timeout(120_000);
  let results: BenchResults;
  let rows: typeof import("./run").rows;

  before(async () => {
    // util.ts reads BENCH_QUICK when first loaded, so set it before the import.
    process.env.BENCH_QUICK = "1";
    const run = await import("./run");
    rows = run.rows;
    results = await run.runBenchmarks();
  });
  after(() => {
    delete process.env.BENCH_QUICK;
  });

  it("runs every section without error", () => {
    assert.deepEqual(results.errors, {});
  });

  it("measures cold starts of every variant through the runtime, with the layers live", () => {
    const c = results.lambda!.coldStart;
    for (const v of ["none", "firefly", "firefly-wrapper", "firefly-inline", "upstream"] as const) {
      assert.equal(c.initMs[v].n, c.runs);
      assert.ok(
        c.initMs[v].min > 0 && c.initMs[v].p50 >= c.initMs[v].min,
        `${v}: ${JSON.stringify(c.initMs[v])}`,
      );
    }
    for (const v of ["firefly", "firefly-wrapper", "firefly-inline", "upstream"] as const)
      assert.ok(Number.isFinite(c.addedPairedMs[v]) && c.ratio[v] > 0, `${v}: paired ${c.addedPairedMs[v]}`);
    assert.deepEqual(
      results.lambda!.coldStartByRuntime!.map((r) => [r.runtime, r.initMs.firefly.n]),
      [
        ["nodejs20.x", c.runs],
        ["nodejs22.x", c.runs],
        ["nodejs24.x", c.runs],
      ],
    );
    // The collector received the check invocation's spans from every layer, none without one.
    assert.equal(c.spansFromCheckInvoke.none, 0);
    assert.ok(c.spansFromCheckInvoke.firefly >= 1, "Firefly (redirect) sent no span");
    assert.ok(c.spansFromCheckInvoke["firefly-wrapper"] >= 1, "Firefly (wrapper) sent no span");
    assert.ok(
      c.spansFromCheckInvoke["firefly-inline"] >= 1,
      "Firefly (export before the response) sent no span",
    );
    assert.ok(c.spansFromCheckInvoke.upstream >= 1, "the rebuilt upstream layer sent no span");
  });

  it("measures the runtime's part and the billed part apart, on loopback, behind a 20 ms proxy and black-holed", () => {
    const e = results.lambda!.export!;
    assert.deepEqual(
      e.paths.map((p) => p.path),
      ["loopback", "proxy +20 ms RTT", "black hole"],
    );
    for (const p of e.paths) assert.equal(p.runtimeMs.n, e.invocations);
    const proxied = e.paths[1];
    // The round trip is real: the billed part carries it, the runtime's part does not.
    assert.ok(proxied.billedMs.p50 >= 20, `billed p50 ${proxied.billedMs.p50} ms behind a 20 ms proxy`);
    assert.ok(proxied.runtimeMs.p50 < proxied.billedMs.p50);
  });

  it("measures init and the runtime's part under aws-lambda-rie on every runtime", () => {
    const rie = results.lambda!.rie!;
    assert.deepEqual(
      rie.map((r) => r.runtime),
      ["nodejs20.x", "nodejs22.x", "nodejs24.x"],
    );
    for (const r of rie) {
      assert.ok(r.initMs.firefly.n > 0 && r.initMs.none.n > 0, JSON.stringify(r.initMs));
      assert.ok(Number.isFinite(r.addedPairedMs), `paired: ${r.addedPairedMs}`);
      for (const s of [r.runtimeMs.none, r.runtimeMs.healthy, r.runtimeMs.blackHoled])
        assert.ok(s.n > 0 && s.p50 > 0);
    }
  });

  it("measures warm invocations and both zips", () => {
    const w = results.lambda!.warm!;
    for (const v of ["none", "firefly", "upstream"] as const) assert.equal(w.durationMs[v].n, w.invocations);
    assert.ok(
      results.size!.fireflyZipBytes > 0 && results.size!.upstreamZipBytes > results.size!.fireflyZipBytes,
    );
  });

  it("drives both gateway configurations with spans and Firehose deliveries that reach the sinks", () => {
    const g = results.gateway!;
    assert.deepEqual(
      g.variants.map((v) => v.config),
      ["pass-through", "production"],
    );
    for (const v of g.variants) {
      assert.ok(v.spansPerSecond > 0, `${v.config}: no span accepted`);
      assert.ok(v.firehoseRecordsPerSecond > 0, `${v.config}: no Firehose record accepted`);
      assert.ok(v.sinkWriteRequests > 0, `${v.config}: nothing reached the remote-write sink`);
      assert.ok(v.spanRssPeakMiB > 0 && v.spansPerCpuSecond > 0 && v.firehoseRecordsPerCpuSecond > 0);
    }
  });

  it("evaluates the program at two sizes, instrumented and plain", () => {
    const s = results.programScale!.samples;
    assert.equal(s.length, 4);
    for (const sample of s) assert.equal(sample.redirected, sample.instrumented ? sample.functions : 0);
  });

  it("prints one table row per figure", () => {
    const table = rows(results);
    assert.ok(table.some((r) => r.figure.startsWith("Cold start added")));
    assert.ok(table.some((r) => r.figure.startsWith("Layer zip")));
    assert.ok(table.some((r) => r.figure.startsWith("Gateway production ÷ pass-through, per collector CPU")));
    assert.ok(table.some((r) => r.figure.startsWith("Program growth")));
  });
});
