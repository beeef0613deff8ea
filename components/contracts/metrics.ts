// Metric names and formats that the emit side (the Metric Stream), the collector (its transform) and
// the presentation side (dashboards, alerts) must agree on. Pure.

/**
 * Output format the CloudWatch Metric Stream must use. `opentelemetry1.0`, not `json`: the collector's
 * JSON decoder keeps only min/max/sum/count and drops the percentiles (p50/p90/p99) the dashboards need.
 */
export const METRIC_STREAM_OUTPUT_FORMAT = "opentelemetry1.0";

/**
 * Prometheus name of a CloudWatch `AWS/Lambda` metric after the collector's transform:
 * `aws_lambda_<snake_case>` (Duration → aws_lambda_duration). Each is a summary: `<name>_sum`,
 * `<name>_count` and `<name>{quantile="0"|"0.5"|…|"1"}` (0 = Minimum, 1 = Maximum). See docs/collector.md.
 */
export function lambdaMetricName(cloudWatchName: string): string {
  return "aws_lambda_" + cloudWatchName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Namespace of the span metrics the collector derives from every span (before sampling). */
export const SPAN_METRICS_NAMESPACE = "traces.span.metrics";
/**
 * Span-metric attribute naming the collector replica that counted the span (Prometheus label
 * `firefly_replica`): replicas each write their own cumulative series, and queries sum over them.
 */
export const SPAN_METRICS_REPLICA_ATTRIBUTE = "firefly.replica";
