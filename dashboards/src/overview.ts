// Overview: every function at a glance, and a table linking each to its own dashboard.
import {
  ALL_FUNCTIONS,
  accountConcurrentExecutions,
  FUNCTION_LABEL,
  lambdaQueries,
  OVER_RANGE,
  PER_POINT,
} from "../../components/presentation/queries";
import {
  DASHBOARD_UIDS,
  FUNCTION_VARIABLE,
  fireflyDashboard,
  graph,
  keyedTable,
  numberPanels,
} from "./panels";

export function overviewDashboard() {
  const q = lambdaQueries(ALL_FUNCTIONS, PER_POINT);
  const total = lambdaQueries(ALL_FUNCTIONS, OVER_RANGE);
  const each = (expr: string) => [{ expr, legend: `{{${FUNCTION_LABEL}}}` }];
  const functionUrl = `/d/${DASHBOARD_UIDS.function}/firefly-function?var-${FUNCTION_VARIABLE}=\${__value.raw}&\${__url_time_range}`;

  return numberPanels(
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
          { title: "Open the function dashboard", url: functionUrl },
        ),
      )
      .withPanel(graph("Invocations per minute", "short", each(q.invocations)))
      .withPanel(graph("Errors per minute", "short", each(q.errors)))
      .withPanel(graph("Error rate", "percent", each(q.errorRatePercent)))
      .withPanel(graph("Throttles per minute", "short", each(q.throttles)))
      .withPanel(
        graph(
          "Average duration",
          "ms",
          each(q.durationAvgMs),
          "CloudWatch Duration: sum / count per minute.",
        ),
      )
      .withPanel(
        graph(
          "p99 duration",
          "ms",
          each(q.durationP99Ms),
          "CloudWatch's p99 statistic, streamed per minute.",
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
        graph("Cold starts", "short", each(q.coldStarts), "Invocation spans with faas.coldstart=true."),
      )
      .build(),
  );
}
