// Shared pieces of the benchmarks: percentiles, child processes that die with the runner, RSS sampling
// and scraping the collector's own Prometheus metrics.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "../..");
/** BENCH_QUICK=1: a few samples and seconds per figure, to prove the code runs (the smoke test). */
export const QUICK = process.env.BENCH_QUICK === "1";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile (p in 0–100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Summary {
  n: number;
  /** The least disturbed sample: on a shared, noisy machine the steadiest estimate of intrinsic cost. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    min: samples.length ? Math.min(...samples) : Number.NaN,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
  };
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

const children = new Set<ChildProcess>();
// A benchmark that throws must not leave a collector running on the machine.
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

export interface Started {
  child: ChildProcess;
  log: string;
}

/** Starts a long-running process whose output goes to `log`; it is killed when the runner exits. */
export function start(
  binary: string,
  args: string[],
  log: string,
  env: Record<string, string> = {},
): Started {
  const fd = fs.openSync(log, "w", 0o600);
  const child = spawn(binary, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  fs.closeSync(fd);
  children.add(child);
  child.on("exit", () => children.delete(child));
  return { child, log };
}

export async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((resolve) => s.child.once("exit", resolve));
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `url` until it answers 2xx; throws with the log tail if the process dies or time runs out. */
export async function waitReady(url: string, s: Started, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`process exited during start-up:\n${tail(s.log)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready at ${url} after ${timeoutMs} ms:\n${tail(s.log)}`);
    await sleep(100);
  }
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux, 100 ticks per second). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may contain spaces, start at the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last sample. */
export function rssSampler(pid: number, everyMs = 250): { stop(): { peak: number; last: number } } {
  let peak = 0;
  let last = 0;
  const take = () => {
    try {
      last = rssMiB(pid);
      peak = Math.max(peak, last);
    } catch {
      // process gone: keep what was seen
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peak, last };
    },
  };
}

/** Sum of every sample of a Prometheus text-format metric whose labels contain `labelFilter`. */
export async function scrapeSum(url: string, metric: string, labelFilter = ""): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric || !(m[2] ?? "").includes(labelFilter)) continue;
    sum += Number(m[3]);
  }
  return sum;
}
