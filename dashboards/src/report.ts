// Panels built from Lambda's REPORT lines and the log store: memory, billed duration, cost, timeouts and
// out-of-memory counts, and a function's log lines. Kept apart from function.ts and overview.ts so those
// stay lists of panels; the queries live in components/presentation/reportQueries.ts.
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as logs from "@grafana/grafana-foundation-sdk/logs";
import { DATASOURCE_TYPES, DATASOURCE_UIDS } from "../../components/presentation/datasources";
import type { FunctionScope } from "../../components/presentation/queries";
import { functionLogsQuery, reportQueries } from "../../components/presentation/reportQueries";
import { graph, single } from "./panels";

export const LOGS: dashboard.DataSourceRef = { type: DATASOURCE_TYPES.logs, uid: DATASOURCE_UIDS.logs };

const PER_POINT = "$__rate_interval";
const OVER_RANGE = "$__range";

/** The VictoriaLogs plugin's query model (no SDK builder exists for it). */
interface LogsQuery extends cog.Dataquery {
  _implementsDataqueryVariant: () => void;
  refId: string;
  datasource: dashboard.DataSourceRef;
  expr: string;
  queryType: "instant";
}

const logsQuery = (expr: string): cog.Builder<cog.Dataquery> => ({
  build: (): LogsQuery => ({
    // The SDK's marker for query types; a function, so it never reaches the JSON.
    _implementsDataqueryVariant: () => {},
    refId: "A",
    datasource: LOGS,
    expr,
    queryType: "instant",
  }),
});

/** The function dashboard's REPORT panels for one function (a dashboard variable such as `$function`). */
export function functionReportPanels(scope: FunctionScope, fn: string) {
  const q = reportQueries(scope, PER_POINT);
  const total = reportQueries(scope, OVER_RANGE);
  const one = (legend: string, expr: string) => ({ expr, legend });
  return [
    single("Timeouts", "short", total.timeouts),
    single("Out of memory", "short", total.outOfMemory),
    single("Cost", "currencyUSD", total.costUsd),
    single("Billed GB-seconds", "short", total.billedGbSeconds),
    graph(
      "Memory used against memory size",
      "decmbytes",
      [
        one("memory size", q.memorySizeMb),
        one("max used", q.memoryUsedMaxMb),
        one("p99 used", q.memoryUsedP99Mb),
      ],
      "From each invocation's REPORT line: Max Memory Used (to the histogram's bucket bound) against Memory Size.",
    ),
    graph(
      "Invocations by outcome",
      "short",
      [{ expr: q.invocationsByStatus, legend: "{{lambda_status}}" }],
      "From REPORT lines: success, error, timeout, out_of_memory.",
    ),
    graph("Billed duration", "ms", [one("billed", q.billedDurationMs)], "Sum of REPORT Billed Duration."),
    graph(
      "Cost",
      "currencyUSD",
      [one("cost", q.costUsd)],
      "Billed GB-seconds × the price per GB-second of the function's architecture, plus the request price (firefly lambdaPrices).",
    ),
    new logs.PanelBuilder()
      .title("Logs")
      .description(
        "The function's lines in the log store: Lambda's platform lines and, with the layer, its own output. A trace_id opens the trace.",
      )
      .datasource(LOGS)
      .span(24)
      .height(12)
      .showTime(true)
      .wrapLogMessage(true)
      .sortOrder("Descending" as never)
      .targets([logsQuery(functionLogsQuery(fn))]),
  ];
}

/** The overview's cost per function, from REPORT lines. */
export function costPerFunctionQuery(scope: FunctionScope): string {
  return reportQueries(scope, PER_POINT).costUsd;
}

/**
 * The function dashboard with the REPORT panels appended below its own, laid out left to right in
 * Grafana's 24-column grid, with ids continuing its own (a separate step so function.ts stays a list).
 */
export function withReportPanels(
  d: dashboard.Dashboard,
  scope: FunctionScope,
  fn: string,
): dashboard.Dashboard {
  const panels = d.panels ?? [];
  let y = Math.max(0, ...panels.map((p) => (p.gridPos?.y ?? 0) + (p.gridPos?.h ?? 0)));
  let x = 0;
  let rowHeight = 0;
  let id = Math.max(0, ...panels.map((p) => p.id ?? 0));
  for (const builder of functionReportPanels(scope, fn)) {
    const panel = builder.build();
    const w = panel.gridPos?.w ?? 12;
    const h = panel.gridPos?.h ?? 8;
    if (x + w > 24) [x, y, rowHeight] = [0, y + rowHeight, 0];
    panel.gridPos = { x, y, w, h };
    // Grafana's panel loader reads fieldConfig.overrides on every panel, the logs panel included.
    panel.fieldConfig ??= { defaults: {}, overrides: [] };
    panel.id = ++id;
    panels.push(panel);
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  d.panels = panels;
  return d;
}
