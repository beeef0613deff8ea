// Configuration-level checks of the dashboards (Grafana itself cannot run here: no package, no container
// engine): the committed JSON is the generator's output, is structurally valid for the pinned Grafana,
// references only provisioned datasources, uses only variables that exist, links only to dashboards and
// variables that exist, and every PromQL expression parses (promtool, from Debian's prometheus).
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ALERT_DEFAULTS, renderAlerting } from "../../components/presentation/alerts";
import { DATASOURCE_TYPES, renderDatasources } from "../../components/presentation/datasources";
import {
  alertExpressions,
  type Dashboard,
  dashboardExpressions,
  loadDashboards,
  substitute,
  variableExpressions,
} from "./expressions";

const REPO = path.resolve(__dirname, "../..");
// Grafana 12.4's dashboard migrator knows schema versions up to 42 and migrates anything older.
const MAX_SCHEMA_VERSION = 42;
const CORE_PANELS = new Set(["timeseries", "stat", "table", "row", "text", "logs"]);
const BUILTIN_VARIABLES = new Set([
  "__rate_interval",
  "__range",
  "__interval",
  "__value",
  "__field",
  "__url_time_range",
]);

function provisioned(sql: boolean): Map<string, string> {
  const file = parse(
    renderDatasources({
      prometheusUrl: "http://prometheus:9090",
      jaegerUrl: "http://jaeger:16686",
      sql: sql
        ? { host: "db", port: 5432, database: "postgres", user: "reader", sslMode: "disable" }
        : undefined,
    }),
  );
  return new Map(file.datasources.map((d: { uid: string; type: string }) => [d.uid, d.type]));
}

const dashboards = loadDashboards();
const variablesOf = (d: Dashboard) => new Set((d.templating?.list ?? []).map((v) => v.name));

describe("dashboards", () => {
  it("are exactly what `npm run build:dashboards` generates", () => {
    const tsx = path.join(REPO, "node_modules/.bin/tsx");
    const run = spawnSync(tsx, [path.join(REPO, "dashboards/build.ts"), "--check"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(Object.keys(dashboards).sort(), ["function", "overview", "pipeline"]);
  });

  it("are structurally valid for the pinned Grafana (12.4)", () => {
    const uids = new Set<string>();
    for (const [name, d] of Object.entries(dashboards)) {
      assert.match(d.uid, /^[A-Za-z0-9_-]{1,40}$/, `${name}: uid`);
      assert.ok(!uids.has(d.uid), `${name}: duplicate uid ${d.uid}`);
      uids.add(d.uid);
      assert.ok(d.title.length > 0, `${name}: title`);
      assert.ok(
        Number.isInteger(d.schemaVersion) && d.schemaVersion <= MAX_SCHEMA_VERSION,
        `${name}: schemaVersion`,
      );
      assert.ok(d.panels.length > 0, `${name}: no panels`);
      // Grafana's dashboard loader reads these lists without checking they exist.
      const raw = d as unknown as Record<string, any>;
      assert.ok(Array.isArray(raw.annotations?.list), `${name}: annotations.list`);
      assert.ok(Array.isArray(raw.templating?.list), `${name}: templating.list`);
      assert.ok(raw.time?.from && raw.time?.to, `${name}: time range`);
      const ids = new Set<number>();
      const cells = new Set<string>();
      for (const p of d.panels) {
        const where = `${name} / ${p.title}`;
        assert.ok(CORE_PANELS.has(p.type), `${where}: panel type ${p.type} is not a core panel`);
        assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `${where}: panel id ${p.id}`);
        ids.add(p.id);
        const { x, y, w, h } = p.gridPos;
        assert.ok(
          [x, y, w, h].every(Number.isInteger) && w >= 1 && h >= 1 && x >= 0 && x + w <= 24,
          `${where}: gridPos`,
        );
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            assert.ok(!cells.has(`${i},${j}`), `${where}: overlaps another panel at ${i},${j}`);
            cells.add(`${i},${j}`);
          }
        }
        const refIds = (p.targets ?? []).map((t) => t.refId);
        assert.ok(refIds.length > 0, `${where}: no queries`);
        assert.equal(new Set(refIds).size, refIds.length, `${where}: duplicate refIds`);
        assert.ok(p.fieldConfig && Array.isArray(p.fieldConfig.overrides), `${where}: fieldConfig`);
      }
      const names = (d.templating?.list ?? []).map((v) => v.name);
      assert.equal(new Set(names).size, names.length, `${name}: duplicate variable names`);
    }
    // The SDK's marker methods must never leak into the files.
    assert.ok(!JSON.stringify(dashboards).includes("_implementsDataqueryVariant"));
  });

  it("reference only datasources provisioned for both storages, by uid and type (alert rules too)", () => {
    const promscale = provisioned(true);
    const prometheus = provisioned(false);
    assert.equal(promscale.size, 4);
    assert.equal(prometheus.size, 3);
    for (const [name, d] of Object.entries(dashboards)) {
      for (const p of d.panels) {
        const refs = [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)];
        for (const v of d.templating?.list ?? []) refs.push(v.datasource as { uid: string; type: string });
        for (const ref of refs) {
          assert.ok(ref, `${name} / ${p.title}: a query without a datasource`);
          // Storage-neutral: only what both storages provision (the SQL datasource is promscale-only).
          assert.equal(prometheus.get(ref.uid), ref.type, `${name} / ${p.title}: datasource ${ref.uid}`);
          assert.equal(promscale.get(ref.uid), ref.type, `${name} / ${p.title}: datasource ${ref.uid}`);
        }
      }
    }
    for (const uid of new Set(
      parse(renderDatasources({ prometheusUrl: "u", jaegerUrl: "u" })).datasources.map((d: any) => d.uid),
    )) {
      assert.ok(prometheus.has(uid as string));
    }
    assert.equal(promscale.get("firefly-promscale-sql"), DATASOURCE_TYPES.sql);
    // Alert queries too: a provisioned datasource, or Grafana's expression engine.
    const alerting = parse(
      renderAlerting({ ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: { orders: 3000 } }),
    );
    for (const rule of alerting.groups[0].rules) {
      for (const q of rule.data) {
        assert.ok(
          q.datasourceUid === "__expr__" || prometheus.has(q.datasourceUid),
          `${rule.title}: ${q.datasourceUid}`,
        );
      }
    }
  });

  it("use only variables the dashboard defines or Grafana provides", () => {
    for (const [name, d] of Object.entries(dashboards)) {
      const defined = variablesOf(d);
      const text = JSON.stringify(d.panels);
      for (const m of text.matchAll(/\$\{([A-Za-z_]\w*)|\$([A-Za-z_]\w*)/g)) {
        const v = m[1] ?? m[2];
        assert.ok(defined.has(v) || BUILTIN_VARIABLES.has(v), `${name}: uses $${v}, which is not defined`);
      }
    }
    assert.deepEqual([...variablesOf(dashboards.function)], ["function"]);
  });

  it("link only to dashboards that exist, with variables the target defines", () => {
    const byUid = new Map(Object.values(dashboards).map((d) => [d.uid, d]));
    const tags = new Set(Object.values(dashboards).flatMap((d) => (d as any).tags as string[]));
    let checked = 0;
    for (const [name, d] of Object.entries(dashboards)) {
      const urls = (d.links ?? []).filter((l) => l.type === "link").map((l) => l.url!);
      for (const l of d.links ?? []) {
        if (l.type === "dashboards")
          for (const t of l.tags ?? []) assert.ok(tags.has(t), `${name}: link tag ${t}`);
      }
      for (const p of d.panels) {
        for (const o of p.fieldConfig?.overrides ?? []) {
          for (const prop of o.properties)
            if (prop.id === "links") urls.push(...prop.value.map((l: any) => l.url));
        }
      }
      for (const url of urls) {
        const m = /^\/d\/([^/?]+)(?:\/[^?]*)?(?:\?(.*))?$/.exec(url);
        assert.ok(m, `${name}: link ${url} is not a dashboard link`);
        const target = byUid.get(m[1]);
        assert.ok(target, `${name}: link to unknown dashboard ${m[1]}`);
        for (const param of (m[2] ?? "").split("&").filter(Boolean)) {
          const v = /^var-(\w+)=/.exec(param);
          if (v)
            assert.ok(variablesOf(target).has(v[1]), `${name}: link sets var-${v[1]}, unknown to ${m[1]}`);
        }
        checked++;
      }
    }
    // Overview table → function dashboard, function dashboard → overview.
    assert.ok(checked >= 2, `only ${checked} links checked`);
  });

  it("every PromQL expression in dashboards and alert rules parses (promtool check rules)", () => {
    const expressions = [
      ...dashboardExpressions(),
      ...variableExpressions(),
      ...alertExpressions({
        ...ALERT_DEFAULTS,
        emails: [],
        functionTimeoutsMs: { orders: 30_000, billing: 6_000 },
      }),
    ];
    assert.ok(expressions.length > 40, `only ${expressions.length} expressions found`);
    const rules = {
      groups: [
        {
          name: "firefly-check",
          rules: expressions.map((e, i) => ({
            record: `firefly:check:${i}`,
            expr: substitute(e.expr, { function: "orders" }),
          })),
        },
      ],
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-promql-"));
    try {
      const file = path.join(dir, "rules.yml");
      fs.writeFileSync(file, stringify(rules));
      execFileSync("promtool", ["check", "rules", file], { encoding: "utf8", stdio: "pipe" });
    } catch (error: any) {
      assert.fail(`promtool rejected an expression:\n${error.stdout ?? ""}${error.stderr ?? error.message}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
