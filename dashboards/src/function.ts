// One function over time (variable `function`), with its recent traces from the Jaeger query API.
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as table from "@grafana/grafana-foundation-sdk/table";
import {
  FUNCTION_NAMES_QUERY,
  FUNCTION_NAMES_REGEX,
  lambdaQueries,
  OVER_RANGE,
  oneFunction,
  PER_POINT,
} from "../../components/presentation/queries";
import {
  DASHBOARD_UIDS,
  FUNCTION_VARIABLE,
  finish,
  fireflyDashboard,
  graph,
  JAEGER,
  PROMETHEUS,
  single,
} from "./panels";

/** Grafana's Jaeger query model (no SDK builder exists for it). */
interface JaegerSearch extends cog.Dataquery {
  _implementsDataqueryVariant: () => void;
  refId: string;
  datasource: dashboard.DataSourceRef;
  queryType: "search";
  service: string;
  tags?: string;
  limit: number;
}

const jaegerSearch = (refId: string, tags?: string): cog.Builder<cog.Dataquery> => ({
  build: (): JaegerSearch => ({
    // The SDK's marker for query types; a function, so it never reaches the JSON.
    _implementsDataqueryVariant: () => {},
    refId,
    datasource: JAEGER,
    queryType: "search",
    service: `$${FUNCTION_VARIABLE}`,
    ...(tags ? { tags } : {}),
    limit: 20,
  }),
});

// The Jaeger datasource links each trace id to Grafana's trace view by itself; the panels add only looks.
function traces(title: string, description: string, query: cog.Builder<cog.Dataquery>, highlight?: string) {
  const panel = new table.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(JAEGER)
    .span(12)
    .height(10)
    .targets([query]);
  if (highlight) {
    panel
      .colorScheme(
        new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Fixed).fixedColor(highlight),
      )
      .cellOptions({ type: "color-background" } as never);
  }
  return panel;
}

export function functionDashboard() {
  const scope = oneFunction(`$${FUNCTION_VARIABLE}`);
  const q = lambdaQueries(scope, PER_POINT);
  const total = lambdaQueries(scope, OVER_RANGE);
  const one = (legend: string, expr: string) => ({ expr, legend });

  return finish(
    fireflyDashboard(
      DASHBOARD_UIDS.function,
      "Firefly / Function",
      "One Lambda function: metrics and recent traces.",
    )
      .withVariable(
        new dashboard.QueryVariableBuilder(FUNCTION_VARIABLE)
          .label("Function")
          .datasource(PROMETHEUS)
          // The classic string form: every Grafana version parses it into its variable editor's model.
          .query(FUNCTION_NAMES_QUERY)
          .regex(FUNCTION_NAMES_REGEX)
          .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
          .sort(dashboard.VariableSort.AlphabeticalAsc),
      )
      .link(
        new dashboard.DashboardLinkBuilder("Overview")
          .type(dashboard.DashboardLinkType.Link)
          .url(`/d/${DASHBOARD_UIDS.overview}/firefly-overview`)
          .keepTime(true),
      )
      .withPanel(single("Invocations", "short", total.invocations))
      .withPanel(single("Errors", "short", total.errors))
      .withPanel(single("Error rate", "percent", total.errorRatePercent))
      .withPanel(single("p99 duration", "ms", total.durationP99Ms))
      .withPanel(single("Throttles", "short", total.throttles))
      .withPanel(single("Cold starts", "short", total.coldStarts))
      .withPanel(
        graph(
          "Invocations and errors per minute",
          "short",
          [one("invocations", q.invocations), one("errors", q.errors)],
          "CloudWatch when the metric stream is on; otherwise the function's invocation spans (errors: span status ERROR).",
        ),
      )
      .withPanel(graph("Error rate", "percent", [one("error rate", q.errorRatePercent)]))
      .withPanel(
        graph(
          "Duration",
          "ms",
          [
            one("average", q.durationAvgMs),
            one("p50", q.durationP50Ms),
            one("p99", q.durationP99Ms),
            one("max", q.durationMaxMs),
          ],
          "CloudWatch Duration per minute (average, p50, p99, max) when the metric stream is on; otherwise from the invocation spans (average, and p50/p99 interpolated in the span histogram's buckets; no max).",
        ),
      )
      .withPanel(
        graph(
          "Throttles per minute",
          "short",
          [one("throttles", q.throttles)],
          "CloudWatch only (firefly:metrics): a throttled request never runs the function, so it has no span.",
        ),
      )
      .withPanel(
        graph(
          "Cold starts",
          "short",
          [one("cold starts", q.coldStarts)],
          "Invocation spans with faas.coldstart=true.",
        ),
      )
      .withPanel(
        graph(
          "Cold-start rate",
          "percent",
          [one("cold-start rate", q.coldStartRatePercent)],
          "Share of invocations that started a new execution environment.",
        ),
      )
      .withPanel(
        graph(
          "Concurrent executions",
          "short",
          [one("concurrent", q.concurrentExecutions)],
          // Not every function has data here: CloudWatch sends this per function only with reserved concurrency.
          "Reported per function only when it has reserved concurrency; otherwise see the overview's account-wide graph.",
          24,
        ),
      )
      .withPanel(
        traces(
          "Recent traces",
          "The last 20 traces of this function; click a trace id to open it in the trace view.",
          jaegerSearch("A"),
        ),
      )
      .withPanel(
        traces(
          "Recent failed traces",
          "Traces with a span in error (error=true); click a trace id to open it in the trace view.",
          jaegerSearch("A", "error=true"),
          "red",
        ),
      )
      .build(),
  );
}
