// Cold start and warm overhead, through the real runtime interface client (aws-lambda-ric) against the
// Runtime API that test/layer/runtime.ts serves. Init Duration is measured as Lambda measures it:
// process start → the runtime's first GET /invocation/next. Every variant exports to the built
// collector (production configuration) on loopback, so the warm figures include the per-invocation
// flush of a real OTLP/HTTP exchange.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startRie } from "../layer/rie";
import { LAYER_ZIP, type LambdaFunction, RUNTIMES, runtimeBinaries, startFunction } from "../layer/runtime";
import { type Gateway, startGateway } from "./gateway";
import { buildUpstreamLayer } from "./upstream/build.mjs";
import { percentile, QUICK, round, type Summary, scrapeSum, summarize } from "./util";

const TASK_ROOT = path.join(__dirname, "fixtures/fn");
/**
 * The runtime of the headline cold-start and warm figures, a pairing Lambda runs (Node 22 with
 * aws-lambda-ric 3.x), not whatever Node runs the bench. Not nodejs24.x: under aws-lambda-ric 4 the
 * rebuilt upstream layer's check invocation sends no span, so it would be compared doing nothing.
 */
const HEADLINE_RUNTIME = "nodejs22.x" as const;
const HANDLER = "index.handler";

/**
 * `firefly-inline`: handler redirection with FIREFLY_EXPORT_AFTER_RESPONSE=false (no extension
 * registered; spans exported before each response), to show what export after the response costs init.
 */
export type Variant = "none" | "firefly" | "firefly-wrapper" | "firefly-inline" | "upstream";

export interface ColdStartResult {
  runtime: string;
  ric: string;
  runs: number;
  /** Init Duration per variant, ms. */
  initMs: Record<Variant, Summary>;
  /** Median added over no layer, ms. */
  addedMedianMs: Record<Exclude<Variant, "none">, number>;
  /**
   * Median over rounds of (this variant's Init Duration − no layer's in the same round), ms: each round
   * starts every variant once, in a shuffled order, so load that drifts over the run cancels out.
   */
  addedPairedMs: Record<Exclude<Variant, "none">, number>;
  /** Fastest run minus fastest no-layer run, ms: less sensitive to other load on the machine. */
  addedMinMs: Record<Exclude<Variant, "none">, number>;
  /** Median Init Duration ÷ no layer's. */
  ratio: Record<Exclude<Variant, "none">, number>;
  /** Upstream's added median ÷ Firefly's (handler redirection). */
  upstreamOverFirefly: number;
  /** The same ratio from the fastest runs. */
  upstreamOverFireflyMin: number;
  /** Spans the collector accepted from one invocation of each variant after its cold starts (proof the layer was live). */
  spansFromCheckInvoke: Record<Variant, number>;
}

/** Cold starts on each Lambda runtime with the client Lambda uses for it (the harness's Runtime API). */
export interface RuntimeColdStartResult {
  runtime: string;
  ric: string;
  runs: number;
  initMs: Record<"none" | "firefly" | "firefly-wrapper", Summary>;
  /** Paired medians, as ColdStartResult.addedPairedMs. */
  addedPairedMs: Record<"firefly" | "firefly-wrapper", number>;
}

export interface WarmResult {
  runtime: string;
  invocations: number;
  /** Invocation duration (event handed to the runtime → response received), ms. */
  durationMs: Record<"none" | "firefly" | "upstream", Summary>;
  addedP50Ms: number;
  addedP99Ms: number;
  upstreamAddedP50Ms: number;
  upstreamAddedP99Ms: number;
}

/** The runtime's part (what a caller waits for) and the billed part of warm invocations, per collector path. */
export interface ExportPathResult {
  path: "loopback" | "proxy +20 ms RTT" | "black hole";
  runtimeMs: Summary;
  billedMs: Summary;
}

export interface ExportResult {
  invocations: number;
  runtime: string;
  /** No layer: runtime part = billed part. */
  baseline: Summary;
  paths: ExportPathResult[];
}

/** Under AWS's Runtime Interface Emulator: its INIT REPORT and RTDONE figures, per runtime. */
export interface RieRuntimeResult {
  runtime: string;
  ric: string;
  /** INIT REPORT durationMs: no layer, and with the layer (handler redirection). */
  initMs: { none: Summary; firefly: Summary };
  /** Median over rounds of (the layer's INIT REPORT − no layer's in the same round), ms. */
  addedPairedMs: number;
  /** RTDONE duration of warm invocations (the runtime's part): no layer, healthy collector, black-holed. */
  runtimeMs: { none: Summary; healthy: Summary; blackHoled: Summary };
}

export interface LambdaBenchResult {
  coldStart: ColdStartResult;
  coldStartByRuntime?: RuntimeColdStartResult[];
  /** Unset with BENCH_LAMBDA=coldstart, which runs the cold-start parts only. */
  warm?: WarmResult;
  export?: ExportResult;
  rie?: RieRuntimeResult[];
  upstreamZipBytes: number;
}

function variantOptions(variant: Variant, gw: Gateway, upstreamDir: string) {
  const env: Record<string, string> = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${gw.ports.otlpHttp}`,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${gw.token}`,
  };
  switch (variant) {
    case "none":
      return { mode: "none" as const, env };
    case "firefly":
      return { mode: "redirect" as const, env };
    case "firefly-wrapper":
      return { mode: "wrapper" as const, env };
    case "firefly-inline":
      return { mode: "redirect" as const, env: { ...env, FIREFLY_EXPORT_AFTER_RESPONSE: "false" } };
    case "upstream":
      // What upstream's otel-handler exports before `exec`, set directly: the harness runs only
      // Firefly's wrapper script, so upstream is spared one bash start (it is measured a little kindly).
      // Upstream exports metrics and logs too; they go to the same collector.
      return {
        mode: "none" as const,
        env: {
          ...env,
          NODE_OPTIONS: `--import ${upstreamDir}/init.mjs`,
          NODE_PATH: `${upstreamDir}/node_modules`,
          OTEL_RESOURCE_ATTRIBUTES: "service.name=fixture",
          OTEL_PROPAGATORS: "tracecontext,baggage,xray",
        },
      };
  }
}

async function start(variant: Variant, gw: Gateway, upstreamDir: string): Promise<LambdaFunction> {
  return startFunction({
    ...variantOptions(variant, gw, upstreamDir),
    runtime: HEADLINE_RUNTIME,
    taskRoot: TASK_ROOT,
    handler: HANDLER,
    layerZip: LAYER_ZIP,
  });
}

const EVENT = { version: "2.0", rawPath: "/bench", headers: { "content-type": "application/json" } };

async function acceptedSpans(gw: Gateway): Promise<number> {
  return scrapeSum(gw.metricsUrl, "otelcol_receiver_accepted_spans_total");
}

/** One invocation, then the number of spans the collector accepted for it (flushes are awaited by the layers). */
async function checkInvoke(fn: LambdaFunction, gw: Gateway): Promise<number> {
  const before = await acceptedSpans(gw);
  const r = await fn.invoke(EVENT);
  if (!r.ok) throw new Error(`check invocation failed: ${JSON.stringify(r.error)}\n${fn.log}`);
  // Upstream's BatchSpanProcessor is force-flushed by its aws-lambda instrumentation if it wrapped the
  // handler; give a late export a moment before counting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return (await acceptedSpans(gw)) - before;
}

const median = (xs: readonly number[]) => percentile(xs, 50);

/** A random order of the variants for one round, so that no variant always runs after the same one. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Median of the per-round differences from the baseline's run in the same round. */
function pairedAdded(samples: readonly number[], baseline: readonly number[]): number {
  return round(median(samples.map((x, i) => x - baseline[i])));
}

export async function benchColdStart(gw: Gateway, upstreamDir: string): Promise<ColdStartResult> {
  const variants: Variant[] = ["none", "firefly", "firefly-wrapper", "firefly-inline", "upstream"];
  const runs = QUICK ? 3 : 60;
  const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  const spans = Object.fromEntries(variants.map((v) => [v, 0])) as Record<Variant, number>;
  // Warm the file cache once per variant, so run 1 does not pay for reading the layer from disk.
  for (const v of variants) await (await start(v, gw, upstreamDir)).stop();
  // Rounds of every variant in a shuffled order, so drift in machine load spreads over every variant
  // alike, and each variant is compared with the baseline run of its own round.
  for (let i = 0; i < runs; i++) {
    for (const v of shuffled(variants)) {
      const fn = await start(v, gw, upstreamDir);
      samples[v].push(fn.initDurationMs);
      if (i === runs - 1) spans[v] = await checkInvoke(fn, gw);
      await fn.stop();
    }
  }
  const initMs = Object.fromEntries(variants.map((v) => [v, roundSummary(summarize(samples[v]))])) as Record<
    Variant,
    Summary
  >;
  const layers = ["firefly", "firefly-wrapper", "firefly-inline", "upstream"] as const;
  const per = (f: (v: (typeof layers)[number]) => number) =>
    Object.fromEntries(layers.map((v) => [v, f(v)])) as Record<(typeof layers)[number], number>;
  const added = (v: Variant) => round(initMs[v].p50 - initMs.none.p50);
  const addedMin = (v: Variant) => round(initMs[v].min - initMs.none.min);
  return {
    runtime: HEADLINE_RUNTIME,
    ric: runtimeBinaries(HEADLINE_RUNTIME).ricVersion,
    runs,
    initMs,
    addedMedianMs: per(added),
    addedPairedMs: per((v) => pairedAdded(samples[v], samples.none)),
    addedMinMs: per(addedMin),
    ratio: per((v) => round(initMs[v].p50 / initMs.none.p50, 2)),
    upstreamOverFirefly: round(added("upstream") / Math.max(added("firefly"), 0.01), 1),
    upstreamOverFireflyMin: round(addedMin("upstream") / Math.max(addedMin("firefly"), 0.01), 1),
    spansFromCheckInvoke: spans,
  };
}

/**
 * Cold starts on every supported runtime, each on its own Node with the client Lambda uses for it
 * (aws-lambda-ric 3.x on Node 20 and 22, 4.x on Node 24): what the layer adds depends on both.
 */
export async function benchColdStartByRuntime(gw: Gateway): Promise<RuntimeColdStartResult[]> {
  const runs = QUICK ? 3 : 40;
  const variants = ["none", "firefly", "firefly-wrapper"] as const;
  const out: RuntimeColdStartResult[] = [];
  for (const runtime of RUNTIMES) {
    const boot = (v: (typeof variants)[number]) =>
      startFunction({
        ...variantOptions(v, gw, ""),
        runtime,
        taskRoot: TASK_ROOT,
        handler: HANDLER,
        layerZip: LAYER_ZIP,
      });
    const samples = { none: [] as number[], firefly: [] as number[], "firefly-wrapper": [] as number[] };
    for (const v of variants) await (await boot(v)).stop();
    for (let i = 0; i < runs; i++) {
      for (const v of shuffled(variants)) {
        const fn = await boot(v);
        samples[v].push(fn.initDurationMs);
        await fn.stop();
      }
    }
    out.push({
      runtime,
      ric: runtimeBinaries(runtime).ricVersion,
      runs,
      initMs: {
        none: roundSummary(summarize(samples.none)),
        firefly: roundSummary(summarize(samples.firefly)),
        "firefly-wrapper": roundSummary(summarize(samples["firefly-wrapper"])),
      },
      addedPairedMs: {
        firefly: pairedAdded(samples.firefly, samples.none),
        "firefly-wrapper": pairedAdded(samples["firefly-wrapper"], samples.none),
      },
    });
  }
  return out;
}

export async function benchWarm(gw: Gateway, upstreamDir: string): Promise<WarmResult> {
  const invocations = QUICK ? 50 : 2000;
  const variants = ["none", "firefly", "upstream"] as const;
  const durationMs = {} as WarmResult["durationMs"];
  for (const v of variants) {
    const fn = await start(v, gw, upstreamDir);
    try {
      // JIT and connection warm-up are not what a warm invocation costs.
      for (let i = 0; i < Math.min(100, invocations); i++) await fn.invoke(EVENT);
      const samples: number[] = [];
      for (let i = 0; i < invocations; i++) {
        const r = await fn.invoke(EVENT);
        if (!r.ok) throw new Error(`warm ${v}: invocation failed: ${JSON.stringify(r.error)}\n${fn.log}`);
        samples.push(r.durationMs);
      }
      durationMs[v] = roundSummary(summarize(samples), 3);
    } finally {
      await fn.stop();
    }
  }
  return {
    runtime: HEADLINE_RUNTIME,
    invocations,
    durationMs,
    addedP50Ms: round(durationMs.firefly.p50 - durationMs.none.p50, 3),
    addedP99Ms: round(durationMs.firefly.p99 - durationMs.none.p99, 3),
    upstreamAddedP50Ms: round(durationMs.upstream.p50 - durationMs.none.p50, 3),
    upstreamAddedP99Ms: round(durationMs.upstream.p99 - durationMs.none.p99, 3),
  };
}

/**
 * A TCP proxy on loopback that holds every chunk `oneWayMs` in each direction: a collector a realistic
 * network round trip away (an HTTPS front in another zone), without leaving the machine.
 */
async function startDelayProxy(
  targetPort: number,
  oneWayMs: number,
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const delayed = (from: net.Socket, to: net.Socket) =>
    from.on("data", (chunk) => setTimeout(() => to.writable && to.write(chunk), oneWayMs));
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Warm invocations with the layer exporting after the response (as an internal extension), on the
 * newest runtime: the runtime's part (event handed over → response received, what a caller waits for)
 * and the billed part (→ the environment released, the export included), against the collector on
 * loopback, behind a proxy adding 20 ms of round trip, and black-holed (the breaker opens after 3).
 */
export async function benchExport(gw: Gateway): Promise<ExportResult> {
  const invocations = QUICK ? 20 : 500;
  const runtime = "nodejs24.x";
  const collector = `http://127.0.0.1:${gw.ports.otlpHttp}`;
  const proxy = await startDelayProxy(gw.ports.otlpHttp, 10);
  const hole = net.createServer(() => {});
  const held = new Set<net.Socket>();
  hole.on("connection", (s) => held.add(s));
  await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
  const run = async (mode: "none" | "redirect", endpoint: string) => {
    const fn = await startFunction({
      mode,
      runtime,
      taskRoot: TASK_ROOT,
      handler: HANDLER,
      layerZip: LAYER_ZIP,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${gw.token}`,
        FIREFLY_FLUSH_TIMEOUT_MS: "300",
      },
    });
    try {
      const runtimeMs: number[] = [];
      const billedMs: number[] = [];
      for (let i = 0; i < Math.min(20, invocations); i++)
        await fn.billedMs((await fn.invoke(EVENT)).requestId);
      for (let i = 0; i < invocations; i++) {
        const r = await fn.invoke(EVENT);
        if (!r.ok) throw new Error(`export bench: invocation failed: ${JSON.stringify(r.error)}\n${fn.log}`);
        runtimeMs.push(r.durationMs);
        billedMs.push(await fn.billedMs(r.requestId));
      }
      return {
        runtimeMs: roundSummary(summarize(runtimeMs), 3),
        billedMs: roundSummary(summarize(billedMs), 3),
      };
    } finally {
      await fn.stop();
    }
  };
  try {
    const baseline = (await run("none", collector)).runtimeMs;
    const paths: ExportPathResult[] = [];
    paths.push({ path: "loopback", ...(await run("redirect", collector)) });
    paths.push({ path: "proxy +20 ms RTT", ...(await run("redirect", `http://127.0.0.1:${proxy.port}`)) });
    paths.push({
      path: "black hole",
      ...(await run("redirect", `http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`)),
    });
    return { invocations, runtime, baseline, paths };
  } finally {
    proxy.close();
    for (const s of held) s.destroy();
    hole.close();
  }
}

/**
 * The same fixture under aws-lambda-rie on every runtime: Init Duration from its INIT REPORT (cold
 * starts in shuffled pairs, reported as the paired median, as the harness's are), and the runtime's
 * part of warm invocations from its RTDONE lines, with no layer, with the layer and a healthy
 * collector, and with the layer and a black-holed collector.
 */
export async function benchRie(gw: Gateway): Promise<RieRuntimeResult[]> {
  const colds = QUICK ? 3 : 40;
  const invocations = QUICK ? 10 : 300;
  const hole = net.createServer(() => {});
  const held = new Set<net.Socket>();
  hole.on("connection", (s) => held.add(s));
  await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
  const collector = `http://127.0.0.1:${gw.ports.otlpHttp}`;
  const holeUrl = `http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`;
  const start = (runtime: (typeof RUNTIMES)[number], mode: "none" | "redirect", endpoint: string) =>
    startRie({
      runtime,
      mode,
      taskRoot: TASK_ROOT,
      handler: HANDLER,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${gw.token}`,
        FIREFLY_FLUSH_TIMEOUT_MS: "300",
      },
    });
  const out: RieRuntimeResult[] = [];
  try {
    for (const runtime of RUNTIMES) {
      const init = { none: [] as number[], firefly: [] as number[] };
      const modes = { none: "none", firefly: "redirect" } as const;
      for (let i = 0; i < colds; i++) {
        const pair: Partial<Record<keyof typeof modes, number>> = {};
        for (const variant of shuffled(["none", "firefly"] as const)) {
          const fn = await start(runtime, modes[variant], collector);
          await fn.invoke(EVENT);
          pair[variant] = fn.initMs;
          await fn.stop();
        }
        // Only whole rounds: a pair is what cancels the machine's drifting load.
        if (pair.none !== undefined && pair.firefly !== undefined) {
          init.none.push(pair.none);
          init.firefly.push(pair.firefly);
        }
      }
      const warm = async (mode: "none" | "redirect", endpoint: string) => {
        const fn = await start(runtime, mode, endpoint);
        try {
          for (let i = 0; i < Math.min(20, invocations); i++) await fn.invoke(EVENT);
          const samples: number[] = [];
          for (let i = 0; i < invocations; i++) samples.push((await fn.invoke(EVENT)).runtimeMs);
          return roundSummary(summarize(samples.filter(Number.isFinite)), 3);
        } finally {
          await fn.stop();
        }
      };
      out.push({
        runtime,
        ric: runtimeBinaries(runtime).ricVersion,
        initMs: { none: roundSummary(summarize(init.none)), firefly: roundSummary(summarize(init.firefly)) },
        addedPairedMs: pairedAdded(init.firefly, init.none),
        runtimeMs: {
          none: await warm("none", collector),
          healthy: await warm("redirect", collector),
          blackHoled: await warm("redirect", holeUrl),
        },
      });
    }
    return out;
  } finally {
    for (const s of held) s.destroy();
    hole.close();
  }
}

function roundSummary(s: Summary, digits = 2): Summary {
  return {
    n: s.n,
    min: round(s.min, digits),
    p50: round(s.p50, digits),
    p90: round(s.p90, digits),
    p99: round(s.p99, digits),
  };
}

export async function benchLambda(): Promise<LambdaBenchResult> {
  if (!fs.existsSync(LAYER_ZIP))
    throw new Error(`lambda bench: ${LAYER_ZIP} is missing; run \`npm run build:layer\``);
  const upstream = await buildUpstreamLayer();
  // Unpacked from its zip away from the source tree, as /opt is: a module missing from the bundle must
  // fail here, not quietly resolve from test/bench/upstream/node_modules.
  const upstreamDir = fs.mkdtempSync(path.join(os.tmpdir(), "upstream-opt-"));
  execFileSync("unzip", ["-q", upstream.zip, "-d", upstreamDir]);
  const gw = await startGateway("production");
  try {
    const coldStart = await benchColdStart(gw, upstreamDir);
    const coldStartByRuntime = await benchColdStartByRuntime(gw);
    // BENCH_LAMBDA=coldstart: the cold-start parts alone (a few minutes less), e.g. to compare two builds.
    if (process.env.BENCH_LAMBDA === "coldstart")
      return { coldStart, coldStartByRuntime, upstreamZipBytes: upstream.zipBytes };
    const warm = await benchWarm(gw, upstreamDir);
    const exported = await benchExport(gw);
    const rie = await benchRie(gw);
    return {
      coldStart,
      coldStartByRuntime,
      warm,
      export: exported,
      rie,
      upstreamZipBytes: upstream.zipBytes,
    };
  } finally {
    await gw.stop();
    fs.rmSync(upstreamDir, { recursive: true, force: true });
  }
}
