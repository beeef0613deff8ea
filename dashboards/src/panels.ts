// Small helpers over the Grafana Foundation SDK so each dashboard file reads as a list of panels.
// Every query text comes from components/presentation/queries.ts; this file only decides looks.
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { DATASOURCE_TYPES, DATASOURCE_UIDS } from "../../components/presentation/datasources";

export const PROMETHEUS: dashboard.DataSourceRef = {
  type: DATASOURCE_TYPES.prometheus,
  uid: DATASOURCE_UIDS.prometheus,
};
export const JAEGER: dashboard.DataSourceRef = { type: DATASOURCE_TYPES.jaeger, uid: DATASOURCE_UIDS.jaeger };

export const DASHBOARD_UIDS = {
  overview: "firefly-overview",
  function: "firefly-function",
  pipeline: "firefly-pipeline",
} as const;

/** The function dashboard's variable; the overview links to it by this name. */
export const FUNCTION_VARIABLE = "function";

export interface Series {
  readonly expr: string;
  /** Legend template, e.g. `{{FunctionName}}`. */
  readonly legend: string;
}

function promTarget(s: Series, refId: string, instant = false) {
  const q = new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS)
    .expr(s.expr)
    .legendFormat(s.legend)
    .refId(refId);
  return instant ? q.instant().format(prometheus.PromQueryFormat.Table) : q.range();
}

const refId = (i: number) => String.fromCharCode(65 + i);

/** A time series graph, one query per series. */
export function graph(title: string, unit: string, series: Series[], description = "", width = 12) {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .min(0)
    .span(width)
    .height(8)
    .targets(series.map((s, i) => promTarget(s, refId(i))));
}

/** One number over the dashboard's range. */
export function single(title: string, unit: string, expr: string, width = 4) {
  return new stat.PanelBuilder()
    .title(title)
    .datasource(PROMETHEUS)
    .unit(unit)
    .span(width)
    .height(4)
    .targets([promTarget({ expr, legend: "" }, "A", true)]);
}

export interface Column {
  readonly header: string;
  readonly unit: string;
  readonly expr: string;
}

/**
 * One row per value of `key` (a label), one column per instant query, joined on `key`. The key column
 * links to `link` when given (a URL template in which `${__value.raw}` is the key's value).
 */
export function keyedTable(
  title: string,
  key: string,
  columns: Column[],
  link?: { title: string; url: string },
) {
  const builder = new table.PanelBuilder()
    .title(title)
    .datasource(PROMETHEUS)
    .span(24)
    .height(10)
    .targets(columns.map((c, i) => promTarget({ expr: c.expr, legend: "" }, refId(i), true)))
    // Each instant query is a frame of (Time, key, Value #X): join them on the key, drop Time.
    .withTransformation({ id: "merge", options: {} })
    .withTransformation({
      id: "organize",
      options: {
        excludeByName: { Time: true },
        renameByName: Object.fromEntries(columns.map((c, i) => [`Value #${refId(i)}`, c.header])),
      },
    });
  for (const c of columns) builder.overrideByName(c.header, [{ id: "unit", value: c.unit }]);
  if (link) builder.overrideByName(key, [{ id: "links", value: [link] }]);
  return builder;
}

/**
 * Last touches on a built dashboard: stable panel ids (Grafana keys panel links and state on them),
 * annotation and variable lists even when empty (Grafana's loader reads `annotations.list` and
 * `templating.list` without checking they exist), and no
 * link `placement` (a newer schema field than the pinned Grafana: links stay in the dashboard bar).
 */
export function finish(d: dashboard.Dashboard): dashboard.Dashboard {
  (d.panels ?? []).forEach((p, i) => {
    p.id = i + 1;
  });
  d.annotations = { list: d.annotations?.list ?? [] };
  d.templating = { list: d.templating?.list ?? [] };
  for (const link of d.links ?? []) delete link.placement;
  return d;
}

export type PanelBuilder = cog.Builder<dashboard.Panel>;

/** A dashboard with Firefly's common settings: fixed uid, read-only, refresh, tags, link to the others. */
export function fireflyDashboard(uid: string, title: string, description: string) {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["firefly", "lambda"])
    .readonly()
    .refresh("1m")
    .time({ from: "now-3h", to: "now" })
    .timezone("browser")
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder("Firefly")
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(["firefly"])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
}
