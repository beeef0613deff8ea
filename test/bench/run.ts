// `npm run bench`: cold start, warm overhead, layer size, gateway throughput and program scale. Prints a
// table, writes test/bench/results/latest.json and refreshes the table in docs/benchmarks.md.
// Benchmarks report; they never fail on a timing. BENCH_QUICK=1 runs a few samples of each (the smoke
// test) and writes results/quick.json.tmp instead. BENCH_ONLY=lambda,gateway,scale picks sections.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LAYER_ZIP } from "../layer/runtime";
import { benchGateway, type GatewayResult } from "./gateway";
import { benchLambda, type LambdaBenchResult } from "./lambda";
import { benchProgramScale, type ProgramScaleResult } from "./programScale";
import { QUICK, REPO, round } from "./util";

export interface BenchResults {
  date: string;
  command: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; kernel: string };
  /** 1-minute load average before and after: other work on the machine skews every timing. */
  loadAverage: { before: number; after?: number };
  lambda?: LambdaBenchResult;
  size?: { fireflyZipBytes: number; upstreamZipBytes: number; ratio: number };
  gateway?: GatewayResult;
  programScale?: ProgramScaleResult;
  errors: Record<string, string>;
}

export interface Row {
  figure: string;
  value: string;
  target: string;
  met: "yes" | "no" | "—";
}

const yes = (ok: boolean): Row["met"] => (ok ? "yes" : "no");

/** The report table: one row per figure the issue names, with its target where it has one. */
export function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const l = r.lambda;
  if (l) {
    const c = l.coldStart;
    const i = c.initMs;
    out.push({
      figure: `Init Duration on ${c.runtime} (ric ${c.ric}), median / p90 / min (n=${c.runs}): no layer`,
      value: `${i.none.p50} / ${i.none.p90} / ${i.none.min} ms`,
      target: "",
      met: "—",
    });
    for (const [v, label] of [
      ["firefly", "Firefly (handler redirection)"],
      ["firefly-wrapper", "Firefly (exec wrapper)"],
      ["firefly-inline", "Firefly (handler redirection, FIREFLY_EXPORT_AFTER_RESPONSE=false)"],
      ["upstream", "upstream OTel layer (rebuilt)"],
    ] as const) {
      // The target is the default configuration's; the export-before-response variant is for comparison.
      const targeted = v === "firefly" || v === "firefly-wrapper";
      out.push({
        figure: `Init Duration, median / p90 / min: ${label}`,
        value: `${i[v].p50} / ${i[v].p90} / ${i[v].min} ms (added: +${c.addedMedianMs[v]} median, +${c.addedPairedMs[v]} paired median, +${c.addedMinMs[v]} min; ${c.ratio[v]}×)`,
        target: targeted ? "added ≤ 10 ms" : "",
        met: targeted ? yes(c.addedPairedMs[v] <= 10) : "—",
      });
    }
    out.push({
      figure: "Cold start added: upstream ÷ Firefly",
      value: `${c.upstreamOverFirefly}× (medians), ${c.upstreamOverFireflyMin}× (fastest runs)`,
      target: "≥ 20×",
      met: yes(c.upstreamOverFirefly >= 20),
    });
    for (const r of l.coldStartByRuntime ?? []) {
      const i = r.initMs;
      out.push({
        figure: `Init Duration on ${r.runtime} (ric ${r.ric}), median (n=${r.runs}): no layer → handler redirection / exec wrapper`,
        value: `${i.none.p50} → ${i.firefly.p50} / ${i["firefly-wrapper"].p50} ms (added, paired median: +${r.addedPairedMs.firefly} / +${r.addedPairedMs["firefly-wrapper"]})`,
        target: "added ≤ 10 ms",
        met: yes(Math.max(r.addedPairedMs.firefly, r.addedPairedMs["firefly-wrapper"]) <= 10),
      });
    }
    const w = l.warm;
    if (w)
      out.push({
        figure: `Warm invocation on ${w.runtime} p50 / p99 (n=${w.invocations}): no layer`,
        value: `${w.durationMs.none.p50} / ${w.durationMs.none.p99} ms`,
        target: "",
        met: "—",
      });
    if (w)
      out.push({
        figure: "Warm invocation p50 / p99: Firefly, flush to collector included",
        value: `${w.durationMs.firefly.p50} / ${w.durationMs.firefly.p99} ms (+${w.addedP50Ms} / +${w.addedP99Ms})`,
        target: "added ≤ 1 ms p50",
        met: yes(w.addedP50Ms <= 1),
      });
    const e = l.export;
    if (e) {
      out.push({
        figure: `Export after the response (${e.runtime}, n=${e.invocations}): no layer, runtime part p50 / p99`,
        value: `${e.baseline.p50} / ${e.baseline.p99} ms`,
        target: "",
        met: "—",
      });
      for (const p of e.paths) {
        const added = round(p.runtimeMs.p50 - e.baseline.p50, 3);
        out.push({
          figure: `Export after the response, collector ${p.path}: runtime part (caller waits) / billed part, p50 / p99`,
          value: `${p.runtimeMs.p50} / ${p.runtimeMs.p99} ms (+${added} p50) · billed ${p.billedMs.p50} / ${p.billedMs.p99} ms`,
          target: p.path === "black hole" ? "runtime part added < 2 ms" : "runtime part added ≤ 1 ms p50",
          met: yes(p.path === "black hole" ? added < 2 : added <= 1),
        });
      }
    }
    for (const r of l.rie ?? []) {
      const added = r.addedPairedMs;
      out.push({
        figure: `Under aws-lambda-rie, ${r.runtime} (ric ${r.ric}): INIT REPORT median / min, no layer → Firefly (n=${r.initMs.none.n})`,
        value: `${r.initMs.none.p50} / ${r.initMs.none.min} → ${r.initMs.firefly.p50} / ${r.initMs.firefly.min} ms (added, paired median: +${added})`,
        target: "added ≤ 10 ms",
        met: yes(added <= 10),
      });
      const healthy = round(r.runtimeMs.healthy.p50 - r.runtimeMs.none.p50, 3);
      const holed = round(r.runtimeMs.blackHoled.p50 - r.runtimeMs.none.p50, 3);
      out.push({
        figure: `Under aws-lambda-rie, ${r.runtime}: runtime's part (RTDONE) p50 / p99, no layer · healthy · black-holed (n=${r.runtimeMs.none.n})`,
        value: `${r.runtimeMs.none.p50} / ${r.runtimeMs.none.p99} · ${r.runtimeMs.healthy.p50} / ${r.runtimeMs.healthy.p99} (+${healthy}) · ${r.runtimeMs.blackHoled.p50} / ${r.runtimeMs.blackHoled.p99} (+${holed}) ms`,
        target: "≤ 1 ms p50 healthy, < 2 ms black-holed",
        met: yes(healthy <= 1 && holed < 2),
      });
    }
    if (w)
      out.push({
        figure: "Warm invocation p50 / p99: upstream OTel layer (rebuilt)",
        value: `${w.durationMs.upstream.p50} / ${w.durationMs.upstream.p99} ms (+${w.upstreamAddedP50Ms} / +${w.upstreamAddedP99Ms})`,
        target: "",
        met: "—",
      });
  }
  if (r.size) {
    out.push({
      figure: "Layer zip: Firefly / upstream (rebuilt)",
      value: `${round(r.size.fireflyZipBytes / 1024, 1)} KiB / ${round(r.size.upstreamZipBytes / 1024, 1)} KiB (${r.size.ratio}× smaller)`,
      target: "Firefly ≤ 150 KB",
      met: yes(r.size.fireflyZipBytes <= 150_000),
    });
  }
  const g = r.gateway;
  if (g) {
    for (const v of g.variants) {
      out.push({
        figure: `Gateway ${v.config}: spans/s, peak RSS, collector CPU`,
        value: `${v.spansPerSecond} spans/s, ${v.spanRssPeakMiB} MiB, ${v.spanCollectorCores} cores (${v.spansPerCpuSecond} spans per CPU s)`,
        target: "",
        met: "—",
      });
      out.push({
        figure: `Gateway ${v.config}: Firehose records/s (data points/s), peak RSS, collector CPU`,
        value: `${v.firehoseRecordsPerSecond} (${v.firehoseDatapointsPerSecond}), ${v.firehoseRssPeakMiB} MiB, ${v.firehoseCollectorCores} cores (${v.firehoseRecordsPerCpuSecond} records per CPU s)`,
        target: "",
        met: "—",
      });
    }
    const prod = g.variants.find((v) => v.config === "production");
    if (prod) {
      // num_traces bounds how many traces tail sampling holds through its decision wait; beyond that
      // it drops traces undecided, error traces included.
      const decided = prod.tracesSampled + prod.tracesNotSampled;
      // The default configuration keeps every trace and has no tail sampling: then there is nothing to judge.
      out.push(
        decided + prod.tracesDroppedTooEarly === 0
          ? {
              figure: "Gateway production tail sampling",
              value: "off (default sampling 100 %: spans go straight to the on-disk queue)",
              target: "",
              met: "—",
            }
          : {
              figure: "Gateway production tail sampling: traces decided (kept) / dropped before a decision",
              value: `${decided} (${prod.tracesSampled}) / ${prod.tracesDroppedTooEarly}`,
              target: "none dropped",
              met: yes(prod.tracesDroppedTooEarly === 0),
            },
      );
    }
    out.push({
      figure: "Gateway production ÷ pass-through, rates reached: spans / Firehose records",
      value: `${g.ratios.spans} / ${g.ratios.firehoseRecords}`,
      target: "",
      met: "—",
    });
    // The collector rarely saturates here (the load generators share its 2 cores), so capacity is
    // compared per CPU second it used.
    out.push({
      figure: "Gateway production ÷ pass-through, per collector CPU second: spans / Firehose records",
      value: `${g.ratios.spansPerCpu} / ${g.ratios.firehoseRecordsPerCpu}`,
      target: "≥ 0.6",
      met: yes(g.ratios.spansPerCpu >= 0.6 && g.ratios.firehoseRecordsPerCpu >= 0.6),
    });
    // Replicas share this machine's 2 cores with each other and the load generators: spans per
    // collector CPU second is the figure that carries over to one replica per node.
    for (const r of g.replicas ?? []) {
      out.push({
        figure: `Gateway scale-out, ${r.replicas} replica${r.replicas === 1 ? "" : "s"} (sampling ${g.replicaSamplingPercent} %, routed by trace id)`,
        value: `${r.spansPerSecond} spans/s, ${r.spansPerCpuSecond} spans per collector CPU s, ${r.collectorCores} cores`,
        target: "",
        met: "—",
      });
    }
  }
  const p = r.programScale;
  if (p) {
    for (const s of p.samples) {
      out.push({
        figure: `Program under mocks, ${s.functions} functions${s.instrumented ? " instrumented" : " (plain, for scale)"}`,
        value: `${s.programMs} ms, max RSS ${s.maxRssMiB} MiB`,
        target: s.instrumented && s.functions === 1000 ? "≤ 5000 ms" : "",
        met: s.instrumented && s.functions === 1000 ? yes(s.programMs <= 5000) : "—",
      });
    }
    out.push({
      figure: "Program growth, largest two sizes (1 = linear)",
      value: `${p.growthVsLinear}`,
      target: "linear",
      met: yes(p.growthVsLinear <= 1.2),
    });
  }
  for (const [section, message] of Object.entries(r.errors)) {
    out.push({ figure: `${section}: did not run`, value: message.split("\n")[0], target: "", met: "no" });
  }
  return out;
}

export function markdownTable(list: Row[]): string {
  const lines = ["| figure | value | target | met |", "|---|---|---|---|"];
  for (const row of list) lines.push(`| ${row.figure} | ${row.value} | ${row.target} | ${row.met} |`);
  return lines.join("\n");
}

function machine(): BenchResults["machine"] {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
  };
}

// Progress goes to stderr from the CLI only; the smoke test keeps the test log clean.
let progress = (_line: string) => {};

async function section<T>(name: string, errors: Record<string, string>, run: () => Promise<T> | T) {
  const t0 = Date.now();
  progress(`bench: ${name}…`);
  try {
    const result = await run();
    progress(`bench: ${name} done in ${round((Date.now() - t0) / 1000, 1)} s`);
    return result;
  } catch (error) {
    errors[name] = (error as Error).message;
    progress(`bench: ${name} failed: ${(error as Error).stack}`);
    return undefined;
  }
}

const BEGIN = "<!-- bench:begin (written by npm run bench) -->";
const END = "<!-- bench:end -->";

/** Replaces the generated part of docs/benchmarks.md, keeping the notes around it. */
function updateDoc(r: BenchResults, table: string): void {
  const file = path.join(REPO, "docs/benchmarks.md");
  if (!fs.existsSync(file)) return;
  const doc = fs.readFileSync(file, "utf8");
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) return;
  const m = r.machine;
  const body = [
    BEGIN,
    `Run ${r.date} with \`${r.command}\` on ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.kernel}; ` +
      `1-minute load average ${r.loadAverage.before} before, ${r.loadAverage.after} after (other work shared the machine).`,
    "",
    table,
    END,
  ].join("\n");
  fs.writeFileSync(file, doc.slice(0, start) + body + doc.slice(end + END.length));
}

export async function runBenchmarks(): Promise<BenchResults> {
  const only = new Set((process.env.BENCH_ONLY ?? "lambda,gateway,scale").split(",").map((s) => s.trim()));
  const errors: Record<string, string> = {};
  const results: BenchResults = {
    date: new Date().toISOString(),
    command: QUICK ? "BENCH_QUICK=1 npm run bench" : "npm run bench",
    quick: QUICK,
    machine: machine(),
    loadAverage: { before: round(os.loadavg()[0], 1) },
    errors,
  };
  if (only.has("lambda")) {
    results.lambda = await section("cold start and warm overhead", errors, benchLambda);
    if (results.lambda && fs.existsSync(LAYER_ZIP)) {
      const fireflyZipBytes = fs.statSync(LAYER_ZIP).size;
      const upstreamZipBytes = results.lambda.upstreamZipBytes;
      results.size = {
        fireflyZipBytes,
        upstreamZipBytes,
        ratio: round(upstreamZipBytes / fireflyZipBytes, 1),
      };
    }
  }
  if (only.has("gateway")) results.gateway = await section("gateway throughput", errors, benchGateway);
  if (only.has("scale")) results.programScale = await section("program scale", errors, benchProgramScale);
  results.loadAverage.after = round(os.loadavg()[0], 1);
  return results;
}

async function main() {
  progress = (line) => console.error(line);
  const results = await runBenchmarks();
  const table = markdownTable(rows(results));
  console.log(table);
  const dir = path.join(__dirname, "results");
  fs.mkdirSync(dir, { recursive: true });
  // Only a full run replaces latest.json; quick and partial runs keep it intact.
  const name = QUICK ? "quick.json.tmp" : process.env.BENCH_ONLY ? "partial.json.tmp" : "latest.json";
  const out = path.join(dir, name);
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  progress(`bench: wrote ${path.relative(REPO, out)}`);
  if (!QUICK && !process.env.BENCH_ONLY) updateDoc(results, table);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
