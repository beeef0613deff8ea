// Every PromQL expression the presentation phase ships, read back from the artifacts themselves (the
// committed dashboard JSON and the rendered alert rules), so the tests check what users get.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { type AlertOptions, renderAlerting } from "../../components/presentation/alerts";
import { DATASOURCE_UIDS } from "../../components/presentation/datasources";

export const DASHBOARD_DIR = path.resolve(__dirname, "../../dashboards");

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Record<string, any>[];
  fieldConfig?: { defaults: Record<string, any>; overrides: { properties: { id: string; value: any }[] }[] };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list: { name: string; type: string; datasource?: { uid: string }; query: any }[] };
  links?: { type: string; url?: string; tags?: string[] }[];
}

export function loadDashboards(): Record<string, Dashboard> {
  return Object.fromEntries(
    fs
      .readdirSync(DASHBOARD_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => [
        path.basename(f, ".json"),
        JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, f), "utf8")),
      ]),
  );
}

export interface Expression {
  /** Where it comes from, for failure messages: `overview / Error rate / B`. */
  where: string;
  expr: string;
}

export function dashboardExpressions(dashboards = loadDashboards()): Expression[] {
  const out: Expression[] = [];
  for (const [name, d] of Object.entries(dashboards)) {
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        // LogsQL targets (the log store's datasource) are checked against the log store, not Prometheus.
        if (typeof t.expr === "string" && t.datasource?.uid !== DATASOURCE_UIDS.logs)
          out.push({ where: `${name} / #${p.id} ${p.title} / ${t.refId}`, expr: t.expr });
      }
    }
  }
  return out;
}

/** The selector inside each `label_values(<selector>, <label>)` or the expression in `query_result(<expr>)`. */
export function variableExpressions(dashboards = loadDashboards()): Expression[] {
  const out: Expression[] = [];
  for (const [name, d] of Object.entries(dashboards)) {
    for (const v of d.templating?.list ?? []) {
      const query = typeof v.query === "string" ? v.query : v.query?.query;
      const m =
        /^label_values\((.*),\s*(\w+)\)$/.exec(query ?? "") ?? /^query_result\((.*)\)$/.exec(query ?? "");
      if (m) out.push({ where: `${name} / variable ${v.name}`, expr: m[1] });
    }
  }
  return out;
}

export function alertExpressions(options: AlertOptions): Expression[] {
  const file = parse(renderAlerting(options));
  const out: Expression[] = [];
  for (const group of file.groups) {
    for (const rule of group.rules) {
      for (const q of rule.data) {
        if (q.datasourceUid === DATASOURCE_UIDS.prometheus) {
          out.push({ where: `alert ${rule.title} / ${q.refId}`, expr: q.model.expr });
        }
      }
    }
  }
  return out;
}

/**
 * Grafana's built-in variables as Grafana would expand them for a 1-hour range with the datasource's
 * 60 s interval ($__rate_interval = max(4 × 60 s, interval + 60 s)), and dashboard variables as given.
 */
export function substitute(expr: string, variables: Record<string, string>): string {
  const builtins: Record<string, string> = {
    __rate_interval: "4m",
    __range: "1h",
    __interval: "1m",
  };
  const all = { ...builtins, ...variables };
  // `$1` is label_replace's capture group, which Grafana leaves alone too (no variable has that name).
  return expr.replace(/\$\{(\w+)\}|\$([A-Za-z_]\w*)/g, (match, braced, bare) => {
    const name = braced ?? bare;
    if (!(name in all)) throw new Error(`unknown variable ${match} in ${expr}`);
    return all[name];
  });
}
