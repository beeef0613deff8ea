// Overview: every function at a glance, and a table linking each to its own dashboard.
import {
  ALL_FUNCTIONS,
  accountConcurrentExecutions,
  FUNCTION_LABEL,
  lambdaQueries,
  OVER_RANGE,
  PER_POINT,
  uninstrumentedInvocations,
} from "../../components/presentation/queries";
import { DASHBOARD_UIDS, FUNCTION_VARIABLE, finish, fireflyDashboard, graph, keyedTable } from "./panels";
import { costPerFunctionQuery } from "./report";

// Grafana's data-link variable for a series' FunctionName label.
const FIELD_FUNCTION = `__field.labels.${FUNCTION_LABEL}`;

export function overviewDashboard() {
  const q = lambdaQueries(ALL_FUNCTIONS, PER_POINT);
  const total = lambdaQueries(ALL_FUNCTIONS, OVER_RANGE);
  const each = (expr: string) => [{ expr, legend: `{{${FUNCTION_LABEL}}}` }];
  const toFunction = (value: string) =>
    `/d/${DASHBOARD_UIDS.function}/firefly-function?var-${FUNCTION_VARIABLE}=${value}&\${__url_time_range}`;
  // Every per-function series links to that function's dashboard.
  const perFunction = (title: string, unit: string, expr: string, description = "") =>
    graph(title, unit, each(expr), description).overrideByRegexp(".*", [
      {
        id: "links",
        value: [{ title: `Open \${${FIELD_FUNCTION}}`, url: toFunction(`\${${FIELD_FUNCTION}}`) }],
      },
    ]);

  return finish(
    fireflyDashboard(
      DASHBOARD_UIDS.overview,
      "Firefly / Overview",
      "Every instrumented Lambda function at a glance.",
    )
      .withPanel(
        keyedTable(
          "Functions",
          FUNCTION_LABEL,
          [
            { header: "Invocations", unit: "short", expr: total.invocations },
            { header: "Errors", unit: "short", expr: total.errors },
            { header: "Error rate", unit: "percent", expr: total.errorRatePercent },
            { header: "Avg duration", unit: "ms", expr: total.durationAvgMs },
            { header: "p99 duration", unit: "ms", expr: total.durationP99Ms },
            { header: "Throttles", unit: "short", expr: total.throttles },
            { header: "Cold starts", unit: "short", expr: total.coldStarts },
          ],
          { title: "Open the function dashboard", url: toFunction(`\${__value.raw}`) },
        ),
      )
      .withPanel(
        keyedTable(
          "Invoked without traces (drift)",
          FUNCTION_LABEL,
          [
            {
              header: "Invocations without spans",
              unit: "short",
              expr: uninstrumentedInvocations("$__range"),
            },
          ],
          { title: "Open the function dashboard", url: toFunction(`\${__value.raw}`) },
        ).description(
          "Functions CloudWatch reports invoking that sent no spans in the time range: not instrumented, redeployed by another tool without the layer, or a layer that cannot export. Re-run pulumi up; see docs/troubleshooting.md. Needs the metric stream (firefly:metrics).",
        ),
      )
      .withPanel(
        perFunction(
          "Invocations per minute",
          "short",
          q.invocations,
          "CloudWatch when the metric stream is on; otherwise counted from invocation spans.",
        ),
      )
      .withPanel(perFunction("Errors per minute", "short", q.errors))
      .withPanel(perFunction("Error rate", "percent", q.errorRatePercent))
      .withPanel(
        perFunction(
          "Throttles per minute",
          "short",
          q.throttles,
          "CloudWatch only (firefly:metrics): a throttled request never runs the function, so it has no span.",
        ),
      )
      .withPanel(
        perFunction(
          "Average duration",
          "ms",
          q.durationAvgMs,
          "CloudWatch Duration (sum / count per minute), or the invocation spans' for functions without CloudWatch data.",
        ),
      )
      .withPanel(
        perFunction(
          "p99 duration",
          "ms",
          q.durationP99Ms,
          "CloudWatch's p99 statistic, streamed per minute, or interpolated from the span duration histogram for functions without CloudWatch data.",
        ),
      )
      .withPanel(
        perFunction(
          "Cost per function",
          "currencyUSD",
          costPerFunctionQuery(ALL_FUNCTIONS),
          "From Lambda's REPORT lines: billed GB-seconds × the architecture's price per GB-second, plus the request price.",
        ),
      )
      .withPanel(
        graph(
          "Concurrent executions",
          "short",
          [
            { expr: accountConcurrentExecutions(PER_POINT), legend: "account" },
            { expr: q.concurrentExecutions, legend: `{{${FUNCTION_LABEL}}}` },
          ],
          "CloudWatch reports concurrency for the whole account, and per function only for functions with reserved concurrency.",
        ),
      )
      .withPanel(
        perFunction("Cold starts", "short", q.coldStarts, "Invocation spans with faas.coldstart=true."),
      )
      .build(),
  );
}
