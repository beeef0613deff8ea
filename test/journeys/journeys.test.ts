// Journeys: stack config in, data on the dashboards out, for the defaults and every configuration the
// README shows (each host, each storage, metrics on and off, both instrumentation modes). For each:
// 1. index.ts runs under Pulumi mocks with that stack config (deployment.ts reads what each part gets);
// 2. the instrumented function's configuration is the existing-function provider's own merge of the
//    settings the program gave it (handler, wrapper, OTLP endpoint and token, flush budget);
// 3. the real collector runs the rendered config with its secrets as env (collector.ts maps only
//    addresses), and the function's public OTLP URL is mapped to that collector on loopback;
// 4. the built layer runs under the Lambda runtime interface client with exactly that environment:
//    two execution environments of three invocations each, one failing in each;
// 5. with metrics on, Firehose records go to the URL and key the delivery stream was given;
// 6. every PromQL query of every provisioned dashboard panel, variable and alert rule runs against the
//    shared Prometheus; each returns data for the journey's function, or is one that must be empty in
//    that configuration, for the reason given in EMPTY_WITHOUT_CLOUDWATCH. Traces are searched in Jaeger.
// Promscale cannot run here (no TimescaleDB): its remote-write and OTLP endpoints are stood in by
// Prometheus and Jaeger, which speak the same protocols. One Prometheus and one Jaeger serve every
// journey, each journey's function and CloudWatch account being its own.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { FIREFLY_HANDLER, FIREFLY_WRAPPER, mergeConfiguration } from "../../components/emit/instrument";
import { DATASOURCE_UIDS } from "../../components/presentation/datasources";
import { METRIC_STREAM_OUTPUT_FORMAT } from "../../components/shipping/collectorConfig";
import { startFunction } from "../layer/runtime";
import { deliver, lambdaMetricData, metricStreamRecord } from "../pipeline/firehose";
import { freePorts, type StartedProcess, stopProcess } from "../pipeline/processes";
import { promQuery, waitForSamples } from "../pipeline/query";
import { startJaeger, startPrometheus } from "../pipeline/stack";
import { substitute } from "../presentation/expressions";
import { type RunningCollector, runRenderedCollector } from "./collector";
import { type Deployment, deploy, provisionedAlerts } from "./deployment";

const run = randomBytes(2).toString("hex");
const json = JSON.stringify;

interface Journey {
  name: string;
  /** Where the configuration is shown. */
  source: string;
  config: (fn: string) => Record<string, string>;
  metrics: boolean;
  mode: "handler" | "wrapper";
}

const JOURNEYS: Journey[] = [
  {
    name: "ec2-promscale-handler",
    source: "README, Run it",
    config: (fn) => ({ host: "ec2", functions: json([fn]) }),
    metrics: false,
    mode: "handler",
  },
  {
    name: "docker-publicurl-promscale",
    source: "README, Run it (own Docker engine)",
    config: (fn) => ({ docker: json({ publicUrl: "https://ingest.example.com" }), functions: json([fn]) }),
    metrics: false,
    mode: "handler",
  },
  {
    name: "ec2-metrics",
    source: "README, Configuration examples (EC2 with Lambda metrics)",
    config: (fn) => ({
      host: "ec2",
      metrics: "true",
      ec2: json({ adminCidrs: ["203.0.113.0/24"] }),
      functions: json([fn]),
    }),
    metrics: true,
    mode: "handler",
  },
  {
    name: "kubernetes-prometheus-ingress",
    source: "README, Configuration examples (Kubernetes with an Ingress)",
    config: (fn) => ({
      host: "kubernetes",
      storage: "prometheus",
      kubernetes: json({ ingressHost: "ingest.example.com" }),
      functions: json([fn]),
    }),
    metrics: false,
    mode: "handler",
  },
  {
    name: "docker-prometheus-wrapper-metrics",
    source: "settings table: instrumentation wrapper, storage prometheus, metrics with docker.publicUrl",
    config: (fn) => ({
      docker: json({ publicUrl: "https://ingest.example.com" }),
      storage: "prometheus",
      instrumentation: "wrapper",
      metrics: "true",
      functions: json([fn]),
    }),
    metrics: true,
    mode: "wrapper",
  },
];

/**
 * Panels that read CloudWatch only and so are empty without the metric stream, and why: a throttled
 * request never reaches the function (no span), a histogram has no maximum, and Lambda reports
 * concurrency only to CloudWatch.
 */
const EMPTY_WITHOUT_CLOUDWATCH: [RegExp, string][] = [
  [/aws_lambda_throttles/, "throttles: a throttled request never runs the function, so no span exists"],
  [/aws_lambda_duration\{[^}]*quantile="1"/, "max duration: the span histogram has buckets, not a maximum"],
  [/aws_lambda_concurrent_executions/, "concurrency: Lambda reports it to CloudWatch only"],
];

const cloudWatchOnly = (expr: string) =>
  !expr.includes("traces_span_metrics") && expr.includes("aws_lambda_");

interface Prepared {
  journey: Journey;
  fn: string;
  account: string;
  deployment: Deployment;
  collector: RunningCollector;
  env: Record<string, string>;
  handler: string;
}

describe("journeys: stack config in, dashboards out", function () {
  this.timeout(600_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-journeys-"));
  const stores: StartedProcess[] = [];
  const prepared: Prepared[] = [];
  let prometheusUrl = "";
  let jaegerUrl = "";
  // Set when the journeys begin, not when mocha loads this file (other files' tests run in between).
  let started = 0;

  it("refuses the bare defaults: functions would export to their own loopback inside Lambda", async () => {
    await assert.rejects(
      () => deploy({ functions: json(["orders"]) }),
      /firefly:docker\.publicUrl: instrumented functions would export to http:\/\/127\.0\.0\.1:4318/,
    );
  });

  describe("each configuration the README shows", () => {
    before(async () => {
      started = Date.now();
      const [prom, otlp, query, queryGrpc] = await freePorts(4);
      const prometheus = await startPrometheus(dir, prom);
      stores.push(prometheus.process);
      const jaeger = await startJaeger(dir, { otlpGrpc: otlp, query, queryGrpc });
      stores.push(jaeger.process);
      prometheusUrl = prometheus.url;
      jaegerUrl = jaeger.url;

      for (const journey of JOURNEYS) {
        const fn = `orders-${journey.name}-${run}`;
        const deployment = await deploy(journey.config(fn)).catch((error: Error) => {
          error.message = `${journey.name}: ${error.message}`;
          throw error;
        });
        const collector = await runRenderedCollector(
          deployment.collector.yaml,
          deployment.collector.env,
          { writeUrl: prometheus.writeUrl, jaegerOtlp: jaeger.otlpGrpc },
          path.join(dir, journey.name),
        );
        stores.push(collector.process);
        // The provider's merge, applied to a function that had nothing of Firefly's.
        const applied = mergeConfiguration(
          fn,
          { handler: "index.handler", env: {}, layers: [] },
          deployment.functionSettings[fn],
        );
        const endpoint = applied.env.OTEL_EXPORTER_OTLP_ENDPOINT;
        assert.equal(
          endpoint,
          deployment.outputs.otlpEndpoint,
          "the function exports to the stack's endpoint",
        );
        assert.match(endpoint, /^https:\/\//, `${journey.name}: the token travels over HTTPS only`);
        prepared.push({
          journey,
          fn,
          account: String(100_000_000_000 + randomBytes(4).readUInt32BE()),
          deployment,
          collector,
          // Only the public URL is mapped: to this journey's collector on loopback.
          env: { ...applied.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl },
          handler: applied.handler!,
        });
      }

      const phases: string[] = [];
      let mark = started;
      const phase = (name: string) => {
        phases.push(`${name} ${((Date.now() - mark) / 1000).toFixed(1)} s`);
        mark = Date.now();
      };
      phase("deploy and start collectors");
      // Two execution environments per function, one span-metrics flush apart, so counters rise.
      await Promise.all(prepared.map((p) => runEnvironment(p)));
      phase("first environments");
      await Promise.all(
        prepared.map((p) =>
          waitForSamples(prometheusUrl, `traces_span_metrics_calls_total{faas_name="${p.fn}"}`, {
            timeoutMs: 90_000,
          }),
        ),
      );
      phase("first span metrics");
      await Promise.all(prepared.map((p) => runEnvironment(p)));
      await Promise.all(prepared.filter((p) => p.journey.metrics).map((p) => sendCloudWatchMinutes(p)));
      phase("second environments and Firehose");
      // Both environments' invocations counted. (Waiting for increase() > 0 is not enough: the
      // exporter writes a zero at a counter's start, so the first environment alone satisfies it, and
      // the duration histogram, which gets no such zero, would not have risen yet.)
      await Promise.all(
        prepared.map((p) =>
          waitForSamples(
            prometheusUrl,
            `sum(traces_span_metrics_duration_milliseconds_count{faas_name="${p.fn}", faas_trigger!=""}) >= 6`,
            { timeoutMs: 90_000 },
          ),
        ),
      );
      phase("both environments in span metrics");
      for (const counter of [
        "otelcol_receiver_accepted_spans_total",
        "otelcol_receiver_accepted_metric_points_total",
      ]) {
        await waitForSamples(prometheusUrl, `rate(${counter}[4m]) > 0`, { timeoutMs: 90_000 });
      }
      phase("collector self-metrics");
      console.log(`      journeys: ${phases.join(", ")}`);
      console.log(
        `      journeys: ${prepared.length} prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });

    after(async () => {
      for (const p of stores.reverse()) await stopProcess(p);
      fs.rmSync(dir, { recursive: true, force: true });
      console.log(`      journeys: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
    });

    for (const journey of JOURNEYS) {
      const get = () => prepared.find((p) => p.journey === journey)!;

      it(`${journey.name} (${journey.source}): the function gets the layer in ${journey.mode} mode, the token, and the flush budget`, () => {
        const p = get();
        assert.ok(p, "journey was not prepared");
        if (journey.mode === "handler") {
          assert.equal(p.handler, FIREFLY_HANDLER);
          assert.equal(p.env.FIREFLY_HANDLER, "index.handler");
        } else {
          assert.equal(p.handler, "index.handler");
          assert.equal(p.env.AWS_LAMBDA_EXEC_WRAPPER, FIREFLY_WRAPPER);
        }
        assert.equal(
          p.env.OTEL_EXPORTER_OTLP_HEADERS,
          `authorization=Bearer ${encodeURIComponent(p.deployment.collector.env.FIREFLY_OTLP_TOKEN)}`,
          "the function presents the token the collector was given",
        );
        assert.equal(p.env.FIREFLY_FLUSH_TIMEOUT_MS, "500");
        assert.ok(p.collector.mappings.length > 0);
      });

      it(`${journey.name}: the public front forwards the layer's and Firehose's paths to the collector's ports`, () => {
        const p = get();
        const routes = p.deployment.frontRoutes;
        if (journey.config(p.fn).docker) {
          // docker.publicUrl is the user's own proxy: the README and docs/hosts.md give its routes.
          assert.deepEqual(routes, {});
          return;
        }
        const rendered = parse(p.deployment.collector.yaml);
        const port = (endpoint: string) => Number(endpoint.split(":").pop());
        assert.equal(
          routes["/v1/traces"],
          port(rendered.receivers.otlp.protocols.http.endpoint),
          "traces route",
        );
        if (journey.metrics)
          assert.equal(routes["/firehose"], port(rendered.receivers.awsfirehose.endpoint), "Firehose route");
      });

      if (journey.metrics) {
        it(`${journey.name}: Firehose is given the collector's public /firehose URL and its key; the stream sends what the collector reads`, () => {
          const p = get();
          assert.ok(p.deployment.firehose, "no Firehose delivery stream");
          assert.equal(p.deployment.firehose.url, p.deployment.outputs.firehoseUrl);
          assert.match(p.deployment.firehose.url, /^https:\/\/[^/:]+\/firehose$/);
          assert.equal(
            p.deployment.firehose.accessKey,
            p.deployment.collector.env.FIREFLY_FIREHOSE_ACCESS_KEY,
          );
          assert.equal(p.deployment.metricStream?.outputFormat, METRIC_STREAM_OUTPUT_FORMAT);
          for (const m of ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"])
            assert.ok(p.deployment.metricStream?.metricNames.includes(m), `the stream leaves out ${m}`);
        });
      } else {
        it(`${journey.name}: no Firehose stream or metric stream is created with metrics off`, () => {
          assert.equal(get().deployment.firehose, undefined);
          assert.equal(get().deployment.metricStream, undefined);
        });
      }

      it(`${journey.name}: every provisioned dashboard panel, variable and alert query returns data for the function, or must be empty here`, async () => {
        const p = get();
        const queries = provisionedQueries(p.deployment);
        assert.ok(queries.length >= 30, `${queries.length} queries found in the provisioned files`);
        const failures: string[] = [];
        const empty: string[] = [];
        for (const q of queries) {
          const expr = substitute(q.expr, { function: p.fn });
          const samples = await promQuery(prometheusUrl, expr);
          const perFunction = samples.some((s) => s.metric.FunctionName !== undefined);
          const has = perFunction ? samples.some((s) => s.metric.FunctionName === p.fn) : samples.length > 0;
          const mustBeEmpty = !journey.metrics && cloudWatchOnly(expr);
          if (/\blambda_(report|platform)_/.test(expr)) {
            // Lambda's REPORT lines arrive only with firefly:logs, which no journey turns on
            // (test/pipeline/logs.test.ts and the dashboards' pipeline test cover them).
            if (samples.some((s) => s.metric.FunctionName === p.fn))
              failures.push(`${q.where}: REPORT data without firefly:logs`);
            else empty.push(`${q.where} (report: needs firefly:logs)`);
          } else if (expr.includes(" unless on (FunctionName) ")) {
            // Drift: functions CloudWatch reports without spans. The journey's function sent spans.
            if (samples.some((s) => s.metric.FunctionName === p.fn))
              failures.push(`${q.where}: names ${p.fn}, which sent spans`);
            else empty.push(`${q.where} (drift: the function sent spans)`);
          } else if (mustBeEmpty) {
            const why = EMPTY_WITHOUT_CLOUDWATCH.find(([re]) => re.test(expr))?.[1];
            if (!why)
              failures.push(`${q.where}: reads CloudWatch only, and no reason says why it may be empty`);
            else if (samples.some((s) => s.metric.FunctionName === p.fn))
              failures.push(`${q.where}: has CloudWatch data with metrics off`);
            else empty.push(`${q.where} (${why})`);
          } else if (!has) failures.push(`${q.where}: no data for ${p.fn}\n      ${expr}`);
          else if (samples.some((s) => Number.isNaN(s.value))) failures.push(`${q.where}: NaN`);
        }
        assert.deepEqual(failures, [], `${failures.length} of ${queries.length} queries failed`);
        const drift = empty.filter((e) => e.includes("(drift:"));
        assert.ok(drift.length >= 2, "the drift panel and alert were checked");
        assert.ok(
          empty.some((e) => e.includes("(report:")),
          "the REPORT panels were checked",
        );
        const byDesign = empty.filter((e) => !e.includes("(drift:") && !e.includes("(report:"));
        if (!journey.metrics) {
          assert.equal(byDesign.length > 0, true, "some panel reads CloudWatch only");
          console.log(
            `        empty by design without CloudWatch:\n${byDesign.map((e) => `          - ${e}`).join("\n")}`,
          );
        } else assert.deepEqual(byDesign, []);
      });

      it(`${journey.name}: the function dashboard counts what happened (${journey.metrics ? "CloudWatch's numbers win" : "from the spans"})`, async () => {
        const p = get();
        const stat = async (title: string) => {
          const panel = p.deployment.dashboards["firefly-function"].panels.find(
            (x: any) => x.title === title,
          );
          const [sample] = await promQuery(
            prometheusUrl,
            substitute(panel.targets[0].expr, { function: p.fn }),
          );
          return sample?.value;
        };
        // Spans: two environments of three invocations, one failing in each, each starting cold.
        // CloudWatch (metrics on): two minutes of 6 invocations and 2 errors each.
        assert.equal(await stat("Invocations"), journey.metrics ? 12 : 6);
        assert.equal(await stat("Errors"), journey.metrics ? 4 : 2);
        assert.equal(await stat("Cold starts"), 2);
      });

      it(`${journey.name}: the function dashboard's trace search finds the function's traces, failed ones included`, async () => {
        const p = get();
        const traces = await jaegerTraces(jaegerUrl, p.fn);
        assert.ok(traces.length >= 6, `${traces.length} traces for ${p.fn}`);
        const failed = traces.filter((t) =>
          t.spans.some((s) => s.tags.some((g) => g.key === "error" && g.value === true)),
        );
        assert.equal(failed.length, 2, "one failed invocation per execution environment");
      });
    }
  });

  /** One execution environment of the journey's function: the built layer under aws-lambda-ric. */
  async function runEnvironment(p: Prepared): Promise<void> {
    const redirected = p.handler === FIREFLY_HANDLER;
    const wrapped = p.env.AWS_LAMBDA_EXEC_WRAPPER === FIREFLY_WRAPPER;
    assert.ok(redirected !== wrapped, "exactly one instrumentation mode");
    // The harness lays the layer out in a temp dir standing in for /opt and sets the handler or
    // wrapper at that place; the rest of the environment is the program's, as given.
    const { AWS_LAMBDA_EXEC_WRAPPER: _w, FIREFLY_HANDLER: own, ...env } = p.env;
    const fn = await startFunction({
      mode: redirected ? "redirect" : "wrapper",
      taskRoot: path.join(__dirname, "fixtures/orders"),
      handler: redirected ? own : p.handler,
      functionName: p.fn,
      env,
    });
    try {
      let last = "";
      for (let i = 0; i < 3; i++) {
        const fail = i === 0;
        const result = await fn.invoke(httpEvent(fail));
        assert.equal(result.ok, !fail, `invocation ${i}: ${json(result)}\n${fn.log}`);
        last = result.requestId;
      }
      // The layer exports after the response, as an extension: the environment is released (and may
      // be stopped) only once that export is done, as on Lambda.
      await fn.billedMs(last);
      assert.doesNotMatch(fn.log, /\[firefly\]/, `the layer reported trouble:\n${fn.log}`);
    } finally {
      await fn.stop();
    }
  }

  /** Two CloudWatch minutes of the function, delivered as Firehose does, to where Firehose was told. */
  async function sendCloudWatchMinutes(p: Prepared): Promise<void> {
    const publicUrl = new URL(p.deployment.firehose!.url);
    // Only the public URL is mapped: its origin becomes this journey's collector on loopback.
    const url = new URL(publicUrl.pathname, p.collector.firehoseUrl).toString();
    const now = Date.now();
    for (const endMs of [now - 60_000, now]) {
      const data = lambdaMetricData({
        functionName: p.fn,
        invocations: 6,
        errors: 2,
        throttles: 1,
        concurrentExecutions: 2,
        endMs,
      });
      const result = await deliver([metricStreamRecord(data, { accountId: p.account })], {
        url,
        accessKey: p.deployment.firehose!.accessKey,
        retryForMs: 20_000,
      });
      assert.equal(result.status, 200, `Firehose delivery: ${json(result.body)}`);
    }
  }
});

function httpEvent(fail: boolean) {
  return {
    version: "2.0",
    routeKey: "GET /orders",
    rawPath: "/orders",
    rawQueryString: fail ? "fail=1" : "",
    headers: { host: "api.example.com" },
    queryStringParameters: fail ? { fail: "1" } : undefined,
    requestContext: {
      http: { method: "GET", path: "/orders" },
      requestId: randomBytes(4).toString("hex"),
      stage: "$default",
    },
    isBase64Encoded: false,
  };
}

/** Every PromQL expression in the provisioned dashboards (panels and variables) and alert rules. */
function provisionedQueries(d: Deployment): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const [uid, dash] of Object.entries<any>(d.dashboards)) {
    // PromQL only: the logs panel's LogsQL runs against the log store (test/pipeline/logs.test.ts).
    for (const panel of dash.panels)
      for (const t of panel.targets ?? [])
        if (
          typeof t.expr === "string" &&
          (t.datasource?.uid ?? panel.datasource?.uid) !== DATASOURCE_UIDS.logs
        )
          out.push({ where: `${uid} / ${panel.title} / ${t.refId}`, expr: t.expr });
    for (const v of dash.templating?.list ?? []) {
      const m = /^query_result\((.*)\)$/.exec(typeof v.query === "string" ? v.query : (v.query?.query ?? ""));
      if (m) out.push({ where: `${uid} / variable ${v.name}`, expr: m[1] });
    }
  }
  for (const a of provisionedAlerts(d.alerting, DATASOURCE_UIDS.prometheus))
    out.push({ where: `alert ${a.uid}`, expr: a.expr });
  return out;
}

interface Trace {
  spans: { tags: { key: string; value: unknown }[] }[];
}

async function jaegerTraces(jaegerUrl: string, service: string): Promise<Trace[]> {
  const params = new URLSearchParams({
    service,
    limit: "20",
    start: String((Date.now() - 3_600_000) * 1000),
    end: String(Date.now() * 1000),
  });
  const body = (await (await fetch(`${jaegerUrl}/api/traces?${params}`)).json()) as { data: Trace[] | null };
  return body.data ?? [];
}
