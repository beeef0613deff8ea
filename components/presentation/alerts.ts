// Grafana alerting provisioning: the rules, and (when addresses are given) an email contact point with a
// notification policy routing every Firefly alert to it. Pure: thresholds in, YAML out. Each rule is one
// instant PromQL query (A) and a threshold on it (B), so test/presentation can run every query as is.
import { stringify } from "yaml";
import { DATASOURCE_UIDS, FOLDER } from "./datasources";
import {
  FUNCTION_LABEL,
  lambdaQueries,
  over,
  p99VersusTimeout,
  pipelineLossRate,
  pipelineSilent,
  uninstrumentedInvocations,
} from "./queries";
import { reportQueries, validMemoryShare } from "./reportQueries";

export const ALERT_DEFAULTS = {
  errorRatePercent: 5,
  coldStartRatePercent: 20,
  durationTimeoutRatio: 0.8,
  memoryUsedShare: 0.9,
  timeoutRatePercent: 1,
} as const;

export interface AlertOptions {
  /** Contact point addresses; none means rules show in Grafana but notify nobody. */
  emails: string[];
  errorRatePercent: number;
  coldStartRatePercent: number;
  durationTimeoutRatio: number;
  /** Alert when an invocation's max memory used is above this share of its memory size (0.5, 0.6, 0.7, 0.8, 0.9, 0.95 or 1). Default: 0.9. */
  memoryUsedShare?: number;
  /** Alert when more than this percentage of a function's invocations time out. Default: 1. */
  timeoutRatePercent?: number;
  /** Function name → configured timeout in ms; functions missing here get no p99-vs-timeout rule. */
  functionTimeoutsMs: Record<string, number>;
}

export interface AlertRule {
  uid: string;
  title: string;
  /** Instant PromQL query; the rule fires per series whose value is above `threshold`. */
  expr: string;
  threshold: number;
  /** How long the condition must hold. */
  for: string;
  summary: string;
}

export const CONTACT_POINT = "firefly-email";
const WINDOW = "10m";

export function alertRules(o: AlertOptions): AlertRule[] {
  // CloudWatch minutes arrive a few minutes late: a 10-minute window always holds some of them.
  const q = lambdaQueries({ cloudwatch: "", spans: "" }, over(WINDOW));
  const fn = `{{ $labels.${FUNCTION_LABEL} }}`;
  const rules: AlertRule[] = [
    {
      uid: "firefly-error-rate",
      title: "Lambda error rate",
      expr: q.errorRatePercent,
      threshold: o.errorRatePercent,
      for: "5m",
      summary: `${fn}: {{ humanize $values.A.Value }}% of invocations failed (threshold ${o.errorRatePercent}%).`,
    },
    {
      uid: "firefly-throttles",
      title: "Lambda throttles",
      expr: q.throttles,
      threshold: 0,
      for: "0s",
      summary: `${fn}: {{ $values.A.Value }} throttled invocations in the last ${WINDOW}.`,
    },
    {
      uid: "firefly-cold-start-rate",
      title: "Lambda cold-start rate",
      expr: q.coldStartRatePercent,
      threshold: o.coldStartRatePercent,
      for: "15m",
      summary: `${fn}: {{ humanize $values.A.Value }}% of invocations were cold starts (threshold ${o.coldStartRatePercent}%).`,
    },
    {
      uid: "firefly-pipeline-loss",
      title: "Telemetry refused or lost by the pipeline",
      // Over 10 m with `for: 5m`: one burst of loss stays visible long enough to fire once.
      expr: pipelineLossRate("10m"),
      threshold: 0,
      for: "5m",
      summary:
        "The gateway collector is refusing or failing to export {{ humanize $values.A.Value }} items/s: see the pipeline-health dashboard.",
    },
    {
      uid: "firefly-pipeline-silent",
      title: "Telemetry pipeline not reporting",
      expr: pipelineSilent("5m"),
      threshold: 0,
      for: "5m",
      summary:
        "The gateway collector has reported nothing for 5 minutes: it is down, or cannot reach the store.",
    },
    {
      uid: "firefly-uninstrumented",
      title: "Lambda functions invoked without traces",
      // 30 m: CloudWatch minutes arrive minutes late, spans at once; a short window would flap.
      expr: uninstrumentedInvocations("30m"),
      threshold: 0,
      for: "15m",
      summary: `${fn}: CloudWatch counted {{ $values.A.Value }} invocations in 30 minutes but no spans arrived. It is not instrumented, another tool redeployed it without the layer, or its layer cannot export: run pulumi up (docs/troubleshooting.md).`,
    },
  ];
  // From Lambda's REPORT lines (CloudWatch Logs through Firehose): only there when logs are forwarded.
  const report = reportQueries({ cloudwatch: "", spans: "" }, WINDOW);
  const share = o.memoryUsedShare ?? ALERT_DEFAULTS.memoryUsedShare;
  const timeoutRate = o.timeoutRatePercent ?? ALERT_DEFAULTS.timeoutRatePercent;
  rules.push(
    {
      uid: "firefly-memory-near-size",
      title: "Lambda memory close to its size",
      expr: report.memoryAboveShare(share),
      threshold: 0,
      for: "0s",
      summary: `${fn}: {{ $values.A.Value }} invocations in the last ${WINDOW} used more than ${share * 100}% of their memory size.`,
    },
    {
      uid: "firefly-out-of-memory",
      title: "Lambda out of memory",
      expr: report.outOfMemory,
      threshold: 0,
      for: "0s",
      summary: `${fn}: {{ $values.A.Value }} invocations ran out of memory (Runtime.OutOfMemory) in the last ${WINDOW}.`,
    },
    {
      uid: "firefly-timeouts",
      title: "Lambda timeouts",
      expr: report.timeoutRatePercent,
      threshold: timeoutRate,
      for: "0s",
      summary: `${fn}: {{ humanize $values.A.Value }}% of invocations timed out in the last ${WINDOW} (threshold ${timeoutRate}%).`,
    },
  );
  if (Object.keys(o.functionTimeoutsMs).length > 0) {
    rules.push({
      uid: "firefly-p99-near-timeout",
      title: "Lambda p99 duration close to timeout",
      expr: p99VersusTimeout(o.functionTimeoutsMs, WINDOW),
      threshold: o.durationTimeoutRatio,
      for: "10m",
      summary: `${fn}: p99 duration is {{ humanizePercentage $values.A.Value }} of the timeout (threshold ${o.durationTimeoutRatio * 100}%).`,
    });
  }
  return rules;
}

function provisionedRule(r: AlertRule) {
  return {
    uid: r.uid,
    title: r.title,
    condition: "B",
    data: [
      {
        refId: "A",
        relativeTimeRange: { from: 900, to: 0 },
        datasourceUid: DATASOURCE_UIDS.prometheus,
        model: {
          refId: "A",
          expr: r.expr,
          instant: true,
          range: false,
          intervalMs: 60000,
          maxDataPoints: 43200,
        },
      },
      {
        refId: "B",
        datasourceUid: "__expr__",
        model: {
          refId: "B",
          type: "threshold",
          expression: "A",
          conditions: [{ evaluator: { type: "gt", params: [r.threshold] } }],
        },
      },
    ],
    // No data means no invocations (or no pipeline yet): nothing to alert on.
    noDataState: "OK",
    execErrState: "Error",
    for: r.for,
    annotations: { summary: r.summary, runbook_url: "" },
    labels: { source: "firefly" },
    isPaused: false,
  };
}

export function renderAlerting(o: AlertOptions): string {
  const file: Record<string, unknown> = {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: "firefly",
        folder: FOLDER,
        interval: "1m",
        rules: alertRules(o).map(provisionedRule),
      },
    ],
  };
  if (o.emails.length > 0) {
    file.contactPoints = [
      {
        orgId: 1,
        name: CONTACT_POINT,
        receivers: [{ uid: CONTACT_POINT, type: "email", settings: { addresses: o.emails.join(";") } }],
      },
    ];
    file.policies = [{ orgId: 1, receiver: CONTACT_POINT, group_by: ["grafana_folder", "alertname"] }];
  }
  return stringify(file, { lineWidth: 0 });
}

/** Problems with alert settings, each naming the setting and the fix; empty when valid. */
export function validateAlertOptions(o: AlertOptions): string[] {
  const problems: string[] = [];
  const pct = (name: keyof AlertOptions, v: number) => {
    if (!(v > 0 && v <= 100))
      problems.push(`alerts.${name}: ${v} must be a percentage above 0 and at most 100`);
  };
  pct("errorRatePercent", o.errorRatePercent);
  pct("coldStartRatePercent", o.coldStartRatePercent);
  if (!(o.durationTimeoutRatio > 0 && o.durationTimeoutRatio <= 1)) {
    problems.push(
      `alerts.durationTimeoutRatio: ${o.durationTimeoutRatio} must be above 0 and at most 1 (e.g. 0.8)`,
    );
  }
  if (o.memoryUsedShare !== undefined && !validMemoryShare(o.memoryUsedShare)) {
    problems.push(
      `alerts.memoryUsedShare: ${o.memoryUsedShare} must be one of 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1 (the memory histogram's bounds)`,
    );
  }
  if (o.timeoutRatePercent !== undefined) pct("timeoutRatePercent", o.timeoutRatePercent);
  for (const e of o.emails) {
    if (!/^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$/.test(e))
      problems.push(`alerts.emails: "${e}" is not an email address`);
  }
  for (const [name, ms] of Object.entries(o.functionTimeoutsMs)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      problems.push(`functionTimeoutsMs: "${name}" is not a Lambda function name`);
    if (!(Number.isInteger(ms) && ms >= 1000 && ms <= 900_000)) {
      problems.push(`functionTimeoutsMs.${name}: ${ms} must be the function's timeout in ms (1000–900000)`);
    }
  }
  return problems;
}
