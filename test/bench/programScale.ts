// Program scale: time and memory to evaluate the Pulumi program under mocks with 10, 100 and 1,000
// instrumented functions, each size in a fresh child process (programScaleChild.ts), next to the same
// program without instrumentation so Firefly's share is visible apart from the Pulumi SDK's own.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { QUICK, round } from "./util";

export interface ScaleSample {
  functions: number;
  instrumented: boolean;
  redirected: number;
  resources: number;
  importMs: number;
  programMs: number;
  processToDoneMs: number;
  maxRssMiB: number;
  heapUsedMiB: number;
}

export interface ProgramScaleResult {
  samples: ScaleSample[];
  /** programMs at the largest size ÷ at the size before it, over the ratio of sizes (1 = linear). */
  growthVsLinear: number;
  /** Firefly's own share at the largest size: instrumented programMs − plain programMs, per function. */
  instrumentationMsPerFunction: number;
}

function runChild(functions: number, plain: boolean): ScaleSample {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(__dirname, "programScaleChild.ts"),
      String(functions),
      ...(plain ? ["plain"] : []),
    ],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] },
  );
  const last = out.trim().split("\n").pop() ?? "";
  const s = JSON.parse(last) as ScaleSample;
  if (!plain && s.redirected !== functions) {
    throw new Error(`program scale: ${s.redirected} of ${functions} functions were instrumented`);
  }
  return {
    ...s,
    importMs: round(s.importMs, 0),
    programMs: round(s.programMs, 0),
    processToDoneMs: round(s.processToDoneMs, 0),
    maxRssMiB: round(s.maxRssMiB, 0),
    heapUsedMiB: round(s.heapUsedMiB, 0),
  };
}

export function benchProgramScale(): ProgramScaleResult {
  const sizes = QUICK ? [5, 10] : [10, 100, 1000];
  const samples: ScaleSample[] = [];
  for (const n of sizes) {
    samples.push(runChild(n, false));
    samples.push(runChild(n, true));
  }
  const at = (n: number, instrumented: boolean) =>
    samples.find((s) => s.functions === n && s.instrumented === instrumented)!;
  const [prev, last] = sizes.slice(-2);
  return {
    samples,
    growthVsLinear: round(at(last, true).programMs / at(prev, true).programMs / (last / prev), 2),
    instrumentationMsPerFunction: round((at(last, true).programMs - at(last, false).programMs) / last, 2),
  };
}
