// Every PromQL expression in every dashboard panel and alert rule, run against the local pipeline's
// Prometheus after real data went through the real collector: CloudWatch Metric Stream records
// (opentelemetry1.0, delivered the way Firehose does) and spans from the real Firefly layer (through
// the spanmetrics connector), with the dashboard variables set to a function that only this test uses.
// Every expression must return data; the function dashboard's Jaeger queries run against Jaeger.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { ALERT_DEFAULTS, alertRules } from "../../components/presentation/alerts";
import { cloudwatch, lambdaQueries, oneFunction, PER_POINT } from "../../components/presentation/queries";
import { collectorConfigObject } from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { waitForLogs } from "../pipeline/cloudwatchLogs";
import { deliver, lambdaMetricData, metricStreamRecord } from "../pipeline/firehose";
import { ensureLocalPipeline, type LocalPipeline } from "../pipeline/local";
import { sleep } from "../pipeline/processes";
import { promQuery, waitForSamples } from "../pipeline/query";
import {
  alertExpressions,
  dashboardExpressions,
  loadDashboards,
  substitute,
  variableExpressions,
} from "./expressions";
import { sendReports } from "./reportData";

const FN = `orders-${randomBytes(3).toString("hex")}`;
// A function CloudWatch reports but that sends no spans (redeployed without the layer): the drift
// panel and alert must name it, and must not name FN.
const DRIFTED = `legacy-${randomBytes(3).toString("hex")}`;
const isDrift = (expr: string) => expr.includes(" unless on (FunctionName) ");
const ACCOUNT = String(100_000_000_000 + randomBytes(4).readUInt32BE());
const REPO = path.resolve(__dirname, "../..");
const INVOCATIONS = 20;
const ERRORS = 3;

/** One execution environment of FN: a process running the built layer around the fixture function. */
function runEnvironment(local: LocalPipeline, invocations: number, failing: number): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    AWS_LAMBDA_FUNCTION_NAME: FN,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    AWS_REGION: "eu-west-1",
    OTEL_EXPORTER_OTLP_ENDPOINT: local.otlp.url,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(local.otlp.headers.authorization)}`,
    INVOCATIONS: String(invocations),
    FAILING: String(failing),
  };
  const child = spawn(process.execPath, [path.join(__dirname, "fixtures/environment.mjs")], {
    cwd: REPO,
    env,
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  // The layer reports its own trouble as "[firefly] …" on stderr and carries on untraced: fail on it.
  return new Promise((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 && !stderr.includes("[firefly]")
        ? resolve()
        : reject(new Error(`fixture exited ${code} (is the layer built? npm run build:layer):\n${stderr}`)),
    ),
  );
}

async function sendMinute(local: LocalPipeline, endMs: number, functionName = FN) {
  const data = lambdaMetricData({
    functionName,
    alias: "live",
    invocations: INVOCATIONS,
    errors: ERRORS,
    throttles: 1,
    concurrentExecutions: 4,
    endMs,
  });
  // An account of its own: account-wide series are shared, and an older sample than another test's
  // would be out of order, which makes Prometheus reject the whole write.
  const result = await deliver([metricStreamRecord(data, { accountId: ACCOUNT })], {
    ...local.firehose,
    retryForMs: 20_000,
  });
  assert.equal(result.status, 200, `Firehose delivery: ${JSON.stringify(result.body)}`);
}

describe("dashboard and alert queries against the local pipeline", function () {
  this.timeout(240_000);
  let local: LocalPipeline;
  const variables = { function: FN };
  const expressions = [
    ...dashboardExpressions(),
    ...variableExpressions(),
    ...alertExpressions({ ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: { [FN]: 3000 } }),
  ];

  before(async () => {
    local = await ensureLocalPipeline();
    const prom = local.prometheus.url;
    const now = Date.now();
    // Two minutes of CloudWatch data, oldest first (remote write rejects out-of-order samples).
    await sendMinute(local, now - 60_000);
    await sendMinute(local, now);
    await sendMinute(local, now - 60_000, DRIFTED);
    await sendMinute(local, now, DRIFTED);
    await sendReports(local, FN);
    // Two execution environments, one span-metrics flush apart, so counters rise between samples.
    await runEnvironment(local, 3, 1);
    const calls = `traces_span_metrics_calls_total{faas_name="${FN}"}`;
    await waitForSamples(prom, calls, { timeoutMs: 60_000 });
    await runEnvironment(local, 3, 1);
    await waitForSamples(prom, `increase(${calls}[4m]) > 0`, { timeoutMs: 60_000 });
    // The collector's own counters are pushed every 15 s, each first appearing one push after it is
    // created: rates need two samples, for spans and for metric points alike.
    for (const counter of [
      "otelcol_receiver_accepted_spans_total",
      "otelcol_receiver_accepted_metric_points_total",
    ]) {
      await waitForSamples(prom, `rate(${counter}[4m]) > 0`, { timeoutMs: 90_000 });
    }
  });

  it("per-function CloudWatch queries count the function once: not its alias, not the account", async () => {
    const [sample] = await promQuery(
      local.prometheus.url,
      substitute(lambdaQueries(oneFunction(FN), PER_POINT).invocations, {}),
    );
    assert.equal(sample.value, INVOCATIONS);
    const all = await promQuery(local.prometheus.url, cloudwatch("Invocations", "sum", oneFunction(FN)));
    assert.equal(all.length, 1, `series: ${JSON.stringify(all.map((s) => s.metric))}`);
    const rate = await promQuery(
      local.prometheus.url,
      substitute(lambdaQueries(oneFunction(FN), PER_POINT).errorRatePercent, {}),
    );
    assert.equal(rate[0].value, (100 * ERRORS) / INVOCATIONS);
  });

  it("the collector's span metrics carry faas.coldstart, which every cold-start panel and alert needs", () => {
    const spanmetrics = (collectorConfigObject({ storage: Storage.Prometheus }).connectors as any)
      .spanmetrics;
    const dimensions = spanmetrics.dimensions.map((d: { name: string }) => d.name);
    assert.ok(
      dimensions.includes("faas.coldstart"),
      `spanmetrics dimensions are ${dimensions.join(", ")}: add { name: "faas.coldstart" } in components/shipping/collectorConfig.ts`,
    );
  });

  it("alert conditions hold as the test data says: errors, throttles, cold starts fire; p99, silence do not", async () => {
    const rules = alertRules({ ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: { [FN]: 3000 } });
    const value = async (uid: string) => {
      const rule = rules.find((r) => r.uid === uid)!;
      const samples = await promQuery(local.prometheus.url, rule.expr);
      const sample = samples.find((x) => x.metric.FunctionName === FN) ?? samples[0];
      assert.ok(sample, `${uid}: no data`);
      return { value: sample.value, fires: sample.value > rule.threshold };
    };
    assert.deepEqual(await value("firefly-error-rate"), { value: (100 * ERRORS) / INVOCATIONS, fires: true });
    assert.equal((await value("firefly-throttles")).fires, true);
    // Two environments of three invocations each: two cold starts in six.
    const coldStarts = await value("firefly-cold-start-rate");
    assert.ok(Math.abs(coldStarts.value - 100 / 3) < 0.01 && coldStarts.fires, JSON.stringify(coldStarts));
    // Durations 20…115 ms against a 3 s timeout.
    assert.deepEqual(await value("firefly-p99-near-timeout"), { value: 115 / 3000, fires: false });
    assert.deepEqual(await value("firefly-pipeline-silent"), { value: 0, fires: false });
    // From the REPORT lines (reportData.ts): one of four invocations out of memory, one timed out.
    assert.deepEqual(await value("firefly-out-of-memory"), { value: 1, fires: true });
    assert.deepEqual(await value("firefly-memory-near-size"), { value: 1, fires: true });
    assert.deepEqual(await value("firefly-timeouts"), { value: 25, fires: true });
    // Drift: CloudWatch counted DRIFTED's invocations and no span came; FN sent spans.
    const drift = await promQuery(
      local.prometheus.url,
      rules.find((r) => r.uid === "firefly-uninstrumented")!.expr,
    );
    const names = drift.map((x) => x.metric.FunctionName);
    assert.ok(names.includes(DRIFTED), `drift alert: ${JSON.stringify(names)}`);
    assert.ok(!names.includes(FN), `drift alert names a traced function: ${JSON.stringify(names)}`);
    assert.equal(drift.find((x) => x.metric.FunctionName === DRIFTED)!.value, 2 * INVOCATIONS);
  });

  it("found every expression (dashboards, variables, alerts)", () => {
    assert.ok(dashboardExpressions().length >= 30, `${dashboardExpressions().length} dashboard expressions`);
    assert.equal(variableExpressions().length, 1);
    assert.equal(
      alertExpressions({ ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: { x: 1000 } }).length,
      10,
    );
  });

  for (const e of expressions) {
    it(`returns data: ${e.where}`, async () => {
      const expr = substitute(e.expr, variables);
      const samples = await promQuery(local.prometheus.url, expr);
      assert.ok(samples.length > 0, `no data for ${e.where}:\n${expr}`);
      if (isDrift(expr)) {
        const names = samples.map((s) => s.metric.FunctionName);
        assert.ok(names.includes(DRIFTED) && !names.includes(FN), `${e.where}: ${JSON.stringify(names)}`);
        return;
      }
      // Per-function results must include the test's function (other tests' functions share this
      // Prometheus), and a query scoped to it must return nothing else.
      if (samples.some((s) => s.metric.FunctionName !== undefined)) {
        const where = `${e.where}: ${JSON.stringify(samples.map((s) => s.metric))}`;
        assert.ok(
          samples.some((s) => s.metric.FunctionName === FN),
          `no result for ${FN} in ${where}`,
        );
        if (expr.includes(FN))
          assert.ok(
            samples.every((s) => s.metric.FunctionName === FN),
            where,
          );
      }
      assert.ok(
        samples.every((s) => !Number.isNaN(s.value)),
        `${e.where}: NaN in ${JSON.stringify(samples)}`,
      );
    });
  }

  it("the function dashboard's logs panel finds the function's REPORT and timeout lines in the log store", async () => {
    const panel = loadDashboards().function.panels.find((p) => p.type === "logs");
    assert.ok(panel?.targets?.[0], "no logs panel");
    const rows = await waitForLogs(local.logs.url, substitute(panel.targets[0].expr, variables), 5);
    assert.equal(rows.length, 5, JSON.stringify(rows.map((r) => r._msg)));
    assert.equal(rows.filter((r) => r._msg.startsWith("REPORT")).length, 4);
  });

  it("the function dashboard's trace panels find the function's traces in Jaeger, failed ones by error=true", async () => {
    const dashboard = loadDashboards().function;
    const searches = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).filter((t) => t.queryType === "search"),
    );
    assert.equal(searches.length, 2);
    const [all, failed] = [searches.find((q) => !q.tags)!, searches.find((q) => q.tags === "error=true")!];
    const recent = await jaegerSearch(local, all, 1);
    assert.ok(recent.length > 0, "no recent traces");
    // The layer marks a thrown error as span status ERROR, which the query API shows as error=true.
    assert.ok(recent.some(hasError), "the failed invocations' traces are not among the recent ones");
    // The panel's own filter cannot be proven here: the memory store of Jaeger 1.76.0 (the newest the
    // module proxy serves) reads the `error` filter as a boolean while the query API passes the string
    // "true", so it keeps only spans with status OK (tenant.go validSpan; fixed by jaeger PR 8217, in
    // the 2.x image hosts run). This pins that: the day the local Jaeger answers the filter, this fails,
    // and the assertion becomes "finds exactly the failed traces".
    const filtered = await jaegerSearch(local, failed, 0);
    assert.deepEqual(
      filtered,
      [],
      "the local Jaeger now honours error=true: assert that it finds exactly the failed traces instead",
    );
  });
});

interface Trace {
  spans: { tags: { key: string; value: unknown }[] }[];
}
const hasError = (t: Trace) => t.spans.some((s) => s.tags.some((g) => g.key === "error" && g.value === true));

/** What Grafana's Jaeger datasource sends for a search panel (logfmt tags as JSON), retried until `min` traces. */
async function jaegerSearch(local: LocalPipeline, q: Record<string, any>, min: number): Promise<Trace[]> {
  const params = new URLSearchParams({
    service: substitute(q.service, { function: FN }),
    limit: String(q.limit),
    start: String((Date.now() - 3_600_000) * 1000),
    end: String(Date.now() * 1000),
  });
  if (q.tags)
    params.set(
      "tags",
      JSON.stringify(Object.fromEntries(q.tags.split(" ").map((kv: string) => kv.split("=")))),
    );
  for (let attempt = 0; ; attempt++) {
    const body = (await (await fetch(`${local.traces.jaegerUrl}/api/traces?${params}`)).json()) as {
      data: Trace[] | null;
    };
    const traces = body.data ?? [];
    if (traces.length >= min || attempt >= 30) return traces;
    await sleep(1000);
  }
}
