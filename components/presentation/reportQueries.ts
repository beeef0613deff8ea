// PromQL over the metrics the collector builds from Lambda's REPORT lines (components/shipping/logsConfig.ts,
// REPORT_METRICS): counters of invocations by outcome, billed duration, GB-seconds and cost, a gauge of
// the memory size and histograms of max memory used and its share of the size. Labelled `faas_name`;
// renamed FunctionName here so tables join them with the CloudWatch columns. Checked against the local
// pipeline by test/presentation/queries.pipeline.test.ts.
import { MEMORY_RATIO_BUCKETS, REPORT_METRICS } from "../shipping/logsConfig";
import { FUNCTION_LABEL, type FunctionScope } from "./queries";

const asFunction = (expr: string) => `label_replace(${expr}, "${FUNCTION_LABEL}", "$1", "faas_name", "(.*)")`;
const sel = (metric: string, scope: FunctionScope, ...extra: string[]) =>
  `${metric}{${[scope.spans, ...extra].filter((p) => p !== "").join(", ")}}`;

/**
 * What a counter gained over `range`, exactly: the difference from `range` ago, and a series born inside
 * the window counted whole (a function's first REPORT creates its series already at 1, so increase()
 * would miss it, and increase() also extrapolates past the samples). A counter reset (collector restart)
 * counts as 0 for that window.
 */
export function gained(series: string, range: string): string {
  return `clamp_min((${series} - ${series} offset ${range}) or (${series} unless ${series} offset ${range}), 0)`;
}

const byFunction = (expr: string, by = "") =>
  `sum by (${[FUNCTION_LABEL, by].filter(Boolean).join(", ")}) (${asFunction(expr)})`;

/** Every REPORT-based query for a scope, over `range` (`$__rate_interval` per graph point, `$__range`, `10m`). */
export function reportQueries(scope: FunctionScope, range: string) {
  const m = REPORT_METRICS;
  const count = (...extra: string[]) => byFunction(gained(sel(m.invocations, scope, ...extra), range));
  const memory = (q: number) =>
    `histogram_quantile(${q}, sum by (${FUNCTION_LABEL}, le) (${asFunction(gained(sel(`${m.maxMemoryUsedMb}_bucket`, scope), range))}))`;
  return {
    invocationsByStatus: byFunction(gained(sel(m.invocations, scope), range), "lambda_status"),
    timeouts: count('lambda_status="timeout"'),
    outOfMemory: count('lambda_status="out_of_memory"'),
    billedDurationMs: byFunction(gained(sel(m.billedDurationMs, scope), range)),
    billedGbSeconds: byFunction(gained(sel(m.gbSeconds, scope), range)),
    costUsd: byFunction(gained(sel(m.costUsd, scope), range)),
    memorySizeMb: `max by (${FUNCTION_LABEL}) (${asFunction(sel(m.memorySizeMb, scope))})`,
    // Bucket resolution (MEMORY_BUCKETS_MB): the log store holds each invocation's exact number.
    memoryUsedP99Mb: memory(0.99),
    memoryUsedMaxMb: memory(1),
    /** Invocations whose max memory used was above `share` of the memory size (a MEMORY_RATIO_BUCKETS bound). */
    memoryAboveShare: (share: number) =>
      `${byFunction(gained(sel(`${m.memoryUsedRatio}_bucket`, scope, 'le="+Inf"'), range))} - ` +
      `${byFunction(gained(sel(`${m.memoryUsedRatio}_bucket`, scope, `le="${share}"`), range))}`,
    timeoutRatePercent: `100 * ${count('lambda_status="timeout"')} / (${count()} > 0)`,
  };
}

/** The memory-share alert counts invocations above one of the ratio histogram's bucket bounds. */
export function validMemoryShare(share: number): boolean {
  return MEMORY_RATIO_BUCKETS.includes(share);
}

/** LogsQL for one function's lines in the log store (CloudWatch platform lines and the layer's OTLP logs). */
export const functionLogsQuery = (fn: string) => `faas.name:="${fn}"`;
