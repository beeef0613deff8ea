// The PromQL behind every dashboard panel and alert rule, in one place so the two cannot disagree and
// the names the pipeline really produces are written down once (checked against the local pipeline's
// Prometheus by test/presentation/queries.pipeline.test.ts).
//
// Two sources, joined on the function name:
// - CloudWatch `AWS/Lambda` metrics from the metric stream (OpenTelemetry 1.0 format → summaries →
//   remote write, renamed by the collector to `aws_lambda_<metric in snake case>`, no unit suffix):
//   `aws_lambda_invocations_sum|_count` and `aws_lambda_invocations{quantile="0"|"1"|…}` (min, max and
//   the stream's percentiles), dimensions as labels. Each sample is a one-minute aggregate, not a
//   counter, so there is no rate(): sums over time add minutes up. CloudWatch also streams
//   account-wide (no FunctionName) and alias/version (Resource set) series; per-function queries keep
//   only FunctionName set and Resource empty.
// - Span metrics from the collector's spanmetrics connector: cumulative counters and a duration
//   histogram per function (`faas_name`, from the layer's resource) and trigger. Cold starts come from
//   here: CloudWatch has no such metric.
//
// Invocations, errors and durations prefer CloudWatch (it also counts invocations the layer never saw,
// such as init failures) and fall back, function by function, to the invocation spans: `A or B` keeps
// B's series only for functions A has none for. So with the metric stream off (the default) every
// instrumented function still has them. Throttles, max duration and concurrency exist only in
// CloudWatch: a throttled request never runs the function, and a histogram has no maximum.

import { lambdaMetricName } from "../contracts/metrics";

/** Which functions a query covers: all of them (grouped by function) or one (a dashboard variable). */
export interface FunctionScope {
  /** Extra matcher on CloudWatch series, e.g. `FunctionName="$function"`; empty for all functions. */
  readonly cloudwatch: string;
  /** Extra matcher on span metrics, e.g. `faas_name="$function"`; empty for all functions. */
  readonly spans: string;
}

export const ALL_FUNCTIONS: FunctionScope = { cloudwatch: "", spans: "" };

/** One function, by name or by a dashboard variable reference such as `$function`. */
export function oneFunction(name: string): FunctionScope {
  return { cloudwatch: `FunctionName="${name}"`, spans: `faas_name="${name}"` };
}

/** Label every function-level result carries, whichever source it came from. */
export const FUNCTION_LABEL = "FunctionName";

const PER_FUNCTION = 'FunctionName!="", Resource=""';
const PER_FUNCTION_NAMED = 'Resource=""';
const ACCOUNT_WIDE = 'FunctionName=""';

// Span metrics: the connector's namespace; the remote-write exporter adds the unit and `_total`.
export const SPAN_CALLS = "traces_span_metrics_calls_total";
export const SPAN_DURATION = "traces_span_metrics_duration_milliseconds";
// Only the invocation span carries faas.trigger (a spanmetrics dimension): one span per invocation,
// whatever the trigger's span kind (SERVER, or CONSUMER for queue batches).
const INVOCATION_SPANS = 'faas_trigger!=""';
const COLD_START = 'faas_coldstart="true"';
const SPAN_ERROR = 'status_code="STATUS_CODE_ERROR"';

function matchers(...parts: string[]): string {
  return `{${parts.filter((p) => p !== "").join(", ")}}`;
}

/**
 * A CloudWatch series for one statistic: `sum`, `count`, `min`, `max`, or a percentile such as `0.99`.
 * `metric` is the CloudWatch name (`Invocations`); the collector decides the Prometheus name.
 */
export function cloudwatch(
  metric: string,
  stat: string,
  scope: FunctionScope,
  series: "function" | "account" = "function",
): string {
  const name = lambdaMetricName(metric);
  const base = stat === "sum" || stat === "count" ? `${name}_${stat}` : name;
  const quantiles: Record<string, string> = { min: "0", max: "1" };
  const quantile = stat === "sum" || stat === "count" ? "" : `quantile="${quantiles[stat] ?? stat}"`;
  const which =
    series === "account" ? ACCOUNT_WIDE : scope.cloudwatch === "" ? PER_FUNCTION : PER_FUNCTION_NAMED;
  return `${base}${matchers(which, quantile, scope.cloudwatch)}`;
}

const byFunction = (expr: string, agg = "sum") => `${agg} by (${FUNCTION_LABEL}) (${expr})`;
// Span metrics name the function `faas_name`; rename it so tables can join both sources.
const asFunction = (expr: string) => `label_replace(${expr}, "${FUNCTION_LABEL}", "$1", "faas_name", "(.*)")`;
const spans = (metric: string, scope: FunctionScope, ...extra: string[]) =>
  `${metric}${matchers(INVOCATION_SPANS, scope.spans, ...extra)}`;

/** The window a query aggregates over: per point on a graph, or over a whole range (tables, alerts). */
export interface Window {
  /** CloudWatch minutes are summed over this range; empty means "the sample at each point". */
  readonly cloudwatch: string;
  /** Range for increase()/rate() on span-metric counters. */
  readonly spans: string;
}

/** Per graph point: the one-minute CloudWatch sample itself; span counters over Grafana's rate interval. */
export const PER_POINT: Window = { cloudwatch: "", spans: "$__rate_interval" };
/** Over the dashboard's time range (table rows). */
export const OVER_RANGE: Window = { cloudwatch: "$__range", spans: "$__range" };
/** Over a fixed range, e.g. an alert's evaluation window. */
export const over = (range: string): Window => ({ cloudwatch: range, spans: range });

const cwSum = (series: string, w: Window) =>
  w.cloudwatch === "" ? series : `sum_over_time(${series}[${w.cloudwatch}])`;
const cwMax = (series: string, w: Window) =>
  w.cloudwatch === "" ? series : `max_over_time(${series}[${w.cloudwatch}])`;

/** CloudWatch's series for a function where it has them, else the spans' (see the header). */
// Parenthesized whole: `or` binds loosest, and callers divide and compare the result.
const preferCloudWatch = (cw: string, fromSpans: string) => `((${cw}) or (${fromSpans}))`;

/**
 * How much a counter grew over `range`, per function, exactly: now minus `range` ago, a series born
 * inside the range counting from 0 (the exporter writes a counter's zero when it starts). increase()
 * extrapolates to the range's edges, which doubles a short burst's count; a reset (collector restart)
 * counts as no growth rather than negative.
 */
function growth(series: string, range: string): string {
  const now = byFunction(asFunction(series));
  const before = byFunction(asFunction(`${series} offset ${range}`));
  return `clamp_min(${now} - (${before} or (0 * ${now})), 0)`;
}

/** Every function-level query, by function, for a scope and window. */
export function lambdaQueries(scope: FunctionScope, w: Window) {
  const total = (metric: string) => byFunction(cwSum(cloudwatch(metric, "sum", scope), w));
  const perPoint = w === PER_POINT;
  // Span counters as CloudWatch counts: per minute on a graph point, an exact count over a range.
  const spanCount = (...extra: string[]) =>
    perPoint
      ? `${byFunction(asFunction(`rate(${spans(SPAN_CALLS, scope, ...extra)}[${w.spans}])`))} * 60`
      : growth(spans(SPAN_CALLS, scope, ...extra), w.spans);
  const spanInvocations = spanCount();
  // A function without failures has no error series: count it as 0, not as absent.
  const spanErrors = `(${spanCount(SPAN_ERROR)} or (0 * ${spanInvocations}))`;
  const invocations = preferCloudWatch(total("Invocations"), spanInvocations);
  const errors = preferCloudWatch(total("Errors"), spanErrors);
  const spanDuration = (part: "sum" | "count") =>
    byFunction(asFunction(`increase(${spans(`${SPAN_DURATION}_${part}`, scope)}[${w.spans}])`));
  // A function with no spans in the window has an all-zero histogram, whose quantile is NaN: drop it.
  const spanQuantile = (q: number) =>
    `(histogram_quantile(${q}, sum by (${FUNCTION_LABEL}, le) (${asFunction(
      `rate(${spans(`${SPAN_DURATION}_bucket`, scope)}[${w.spans}])`,
    )})) >= 0)`;
  const cwQuantile = (q: string) => byFunction(cwMax(cloudwatch("Duration", q, scope), w), "max");
  const coldStarts = perPoint
    ? byFunction(asFunction(`increase(${spans(SPAN_CALLS, scope, COLD_START)}[${w.spans}])`))
    : growth(spans(SPAN_CALLS, scope, COLD_START), w.spans);
  const allSpans = perPoint
    ? byFunction(asFunction(`increase(${spans(SPAN_CALLS, scope)}[${w.spans}])`))
    : growth(spans(SPAN_CALLS, scope), w.spans);
  return {
    invocations,
    errors,
    throttles: total("Throttles"),
    // Invocations of 0 would divide into NaN/Inf: keep only functions that ran.
    errorRatePercent: `100 * ${errors} / (${invocations} > 0)`,
    durationAvgMs: preferCloudWatch(
      `${byFunction(cwSum(cloudwatch("Duration", "sum", scope), w))}` +
        ` / (${byFunction(cwSum(cloudwatch("Duration", "count", scope), w))} > 0)`,
      `${spanDuration("sum")} / (${spanDuration("count")} > 0)`,
    ),
    durationMaxMs: byFunction(cwMax(cloudwatch("Duration", "max", scope), w), "max"),
    // The stream's `p50`/`p99` statistics (statisticsConfigurations); over a range, the worst minute's.
    // From spans: interpolated within the histogram's buckets (components/shipping/collectorConfig.ts).
    durationP50Ms: preferCloudWatch(cwQuantile("0.5"), spanQuantile(0.5)),
    durationP99Ms: preferCloudWatch(cwQuantile("0.99"), spanQuantile(0.99)),
    // CloudWatch reports per-function concurrency only for functions with reserved concurrency.
    concurrentExecutions: byFunction(cwMax(cloudwatch("ConcurrentExecutions", "max", scope), w), "max"),
    coldStarts,
    coldStartRatePercent: `100 * ${coldStarts} / (${allSpans} > 0)`,
  };
}

/**
 * p99 duration as a fraction of each function's timeout (only functions whose timeout is known: the
 * metrics do not carry it). Timeouts become a constant vector labelled by function to divide by.
 */
export function p99VersusTimeout(timeoutsMs: Record<string, number>, range: string): string {
  const timeouts = Object.entries(timeoutsMs)
    .map(([fn, ms]) => `label_replace(vector(${ms}), "${FUNCTION_LABEL}", "${fn}", "", "")`)
    .join(" or ");
  return `${lambdaQueries(ALL_FUNCTIONS, over(range)).durationP99Ms} / on (${FUNCTION_LABEL}) (${timeouts})`;
}

/**
 * Functions CloudWatch reports invoking that sent no invocation span over `range` (the value is
 * CloudWatch's count): never instrumented, redeployed by another tool (SAM, CDK, another stack) that put
 * back its own handler, layers or environment, or a layer that cannot export. Needs the metric stream.
 * A function whose span counter still exists but stopped growing counts as sending nothing.
 */
export function uninstrumentedInvocations(range: string): string {
  const invoked = `${byFunction(cwSum(cloudwatch("Invocations", "sum", ALL_FUNCTIONS), over(range)))} > 0`;
  const traced = `${growth(spans(SPAN_CALLS, ALL_FUNCTIONS), range)} > 0`;
  return `(${invoked}) unless on (${FUNCTION_LABEL}) (${traced})`;
}

/** Account-wide concurrency (every function together), the series CloudWatch always streams. */
export const accountConcurrentExecutions = (w: Window) =>
  `max(${cwMax(cloudwatch("ConcurrentExecutions", "max", ALL_FUNCTIONS, "account"), w)})`;

// The collector's own telemetry (service.telemetry.metrics, pushed through its own OTLP receiver, job
// `firefly-gateway`): counters per receiver/exporter and signal, queue gauges, process memory.
const SIGNALS = ["spans", "metric_points"] as const;
export type Signal = (typeof SIGNALS)[number];

const ratePer = (by: string, metric: string, range: string) => `sum by (${by}) (rate(${metric}[${range}]))`;

/** Everything the pipeline-health dashboard and alert read, for one signal. */
export function pipelineQueries(signal: Signal, range: string) {
  return {
    accepted: ratePer("receiver", `otelcol_receiver_accepted_${signal}_total`, range),
    // Refused: pushed back to the sender (memory limit, a failing store): Firehose and the SDK retry.
    refused: ratePer("receiver", `otelcol_receiver_refused_${signal}_total`, range),
    // Failed: any other error on the way in (not back-pressure).
    failed: ratePer("receiver", `otelcol_receiver_failed_${signal}_total`, range),
    sent: ratePer("exporter", `otelcol_exporter_sent_${signal}_total`, range),
    sendFailed: ratePer("exporter", `otelcol_exporter_send_failed_${signal}_total`, range),
  };
}

// Counters of telemetry at risk. enqueue_failed exists only once a full queue dropped something.
const AT_RISK = ["receiver_refused", "receiver_failed", "exporter_send_failed", "exporter_enqueue_failed"];

/**
 * Items refused at the door or lost on the way out, all signals together (per second over `range`).
 * Not rate(): some loss counters (enqueue_failed) are created by their first loss, so their first
 * sample already holds it and rate() reads 0 — one burst of such loss would never fire the alert. The counter's growth since
 * `range` ago, counting an absent series as 0, sees it; a restart's reset counts as no loss rather than
 * negative loss. One term per counter: a name regex would mix same-labelled series of different counters.
 */
export const pipelineLossRate = (range: string) =>
  `(${AT_RISK.flatMap((counter) =>
    SIGNALS.map((signal) => {
      const c = `otelcol_${counter}_${signal}_total`;
      return `clamp_min((sum(${c}) or vector(0)) - (sum(${c} offset ${range}) or vector(0)), 0)`;
    }),
  ).join(" + ")}) / ${rangeSeconds(range)}`;

/** Seconds in a Prometheus duration like `5m`. */
function rangeSeconds(range: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(range);
  if (!m) throw new Error(`pipelineLossRate: ${range} is not a duration like 5m`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
}

/**
 * 1 when no collector has reported its own metrics for `range`, else 0: a dead collector (or a dead
 * path to the store, which its own metrics also take) refuses nothing, so the loss rate cannot see it.
 */
export const pipelineSilent = (range: string) =>
  `1 - (count(max_over_time(otelcol_process_uptime_seconds_total[${range}])) > bool 0 or vector(0))`;

export const pipelineQueue = {
  size: "max by (exporter) (otelcol_exporter_queue_size)",
  capacity: "max by (exporter) (otelcol_exporter_queue_capacity)",
};

export const pipelineMemory = {
  rss: "max(otelcol_process_memory_rss_bytes)",
  heap: "max(otelcol_process_runtime_heap_alloc_bytes)",
};

/**
 * Every function that reported CloudWatch invocations or sent invocation spans in the dashboard's range,
 * one series per function. `label_values()` takes one series selector, and the two sources name the
 * function differently, so the variable runs this through `query_result()` and FUNCTION_NAMES_REGEX.
 */
export const FUNCTION_NAMES_EXPR =
  `count by (${FUNCTION_LABEL}) (last_over_time(${cloudwatch("Invocations", "sum", ALL_FUNCTIONS)}[$__range])` +
  ` or ${asFunction(`last_over_time(${spans(SPAN_CALLS, ALL_FUNCTIONS)}[$__range])`)})`;

/** Grafana variable query listing every function that sent spans or CloudWatch metrics. */
export const FUNCTION_NAMES_QUERY = `query_result(${FUNCTION_NAMES_EXPR})`;
/** Picks the function name out of each `query_result` line (`{FunctionName="orders"} 1 1700000000000`). */
export const FUNCTION_NAMES_REGEX = `/${FUNCTION_LABEL}="([^"]+)"/`;
