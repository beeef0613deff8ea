// End to end on the local pipeline: CloudWatch Metric Stream records for Lambda metrics, delivered as
// Firehose does (plain and gzip), land in Prometheus under the names docs/collector.md lists; a wrong
// or missing access key is refused with 401 and stores nothing.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { lambdaMetricName } from "../../components/shipping/collectorConfig";
import { deliver, type LambdaMetricsOptions, lambdaMetricData, metricStreamRecord } from "./firehose";
import { ensureLocalPipeline, type LocalPipeline } from "./local";
import { promQuery, promSeries, waitForSamples } from "./query";

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const account = () => String(100000000000 + Math.floor(Math.random() * 899999999999));

describe("pipeline: Firehose metric stream → Prometheus", function () {
  this.timeout(90_000);
  let local: LocalPipeline;
  before(async () => {
    local = await ensureLocalPipeline();
  });

  const metrics: Omit<LambdaMetricsOptions, "functionName"> = {
    alias: "live",
    executedVersion: "7",
    invocations: 12,
    errors: 2,
    throttles: 1,
    concurrentExecutions: 3,
    durationsMs: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  };

  for (const gzip of [false, true]) {
    it(`${gzip ? "gzip" : "plain"} delivery: every Lambda metric and statistic is queryable by function, alias and account`, async () => {
      const fn = unique(gzip ? "fh-gzip" : "fh-plain");
      const accountId = account();
      const record = metricStreamRecord(lambdaMetricData({ functionName: fn, ...metrics }), {
        accountId,
        region: "eu-west-1",
      });
      const result = await deliver([record], { ...local.firehose, gzip });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.ok(result.body.requestId && result.body.timestamp, "the answer echoes requestId and timestamp");

      // Per function: the series without Resource. No retries, no queue: 200 means it is stored.
      const perFunction = `FunctionName="${fn}",Resource=""`;
      const value = async (expr: string) => {
        const samples = await waitForSamples(local.prometheus.url, expr);
        assert.equal(samples.length, 1, `${expr}: ${JSON.stringify(samples)}`);
        return samples[0].value;
      };
      assert.equal(await value(`${lambdaMetricName("Invocations")}_sum{${perFunction}}`), 12);
      assert.equal(await value(`${lambdaMetricName("Errors")}_sum{${perFunction}}`), 2);
      assert.equal(await value(`${lambdaMetricName("Throttles")}_sum{${perFunction}}`), 1);
      assert.equal(
        await value(`${lambdaMetricName("ConcurrentExecutions")}{${perFunction},quantile="1"}`),
        3,
      );
      const duration = lambdaMetricName("Duration");
      assert.equal(await value(`${duration}_sum{${perFunction}}`), 550);
      assert.equal(await value(`${duration}_count{${perFunction}}`), 10);
      const quantiles = await promQuery(local.prometheus.url, `${duration}{${perFunction}}`);
      assert.deepEqual(Object.fromEntries(quantiles.map((s) => [s.metric.quantile, s.value])), {
        "0": 10,
        "0.5": 50,
        "0.9": 90,
        "0.99": 100,
        "1": 100,
      });
      for (const s of quantiles) {
        assert.equal(s.metric.region, "eu-west-1");
        assert.equal(s.metric.account_id, accountId);
      }

      // Per alias and per executed version, as CloudWatch streams them.
      assert.equal(
        await value(
          `${lambdaMetricName("Invocations")}_sum{FunctionName="${fn}",Resource="${fn}:live",ExecutedVersion=""}`,
        ),
        12,
      );
      assert.equal(
        await value(
          `${lambdaMetricName("Invocations")}_sum{FunctionName="${fn}",Resource="${fn}:live",ExecutedVersion="7"}`,
        ),
        12,
      );
      // Account-wide: no FunctionName at all.
      assert.equal(
        await value(`${lambdaMetricName("Invocations")}_sum{FunctionName="",account_id="${accountId}"}`),
        12,
      );

      // Exactly the documented names, and the CloudWatch bookkeeping attributes are gone.
      const series = await promSeries(local.prometheus.url, `{FunctionName="${fn}"}`);
      const names = [...new Set(series.map((s) => s.__name__))].sort();
      const expected = ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"]
        .map(lambdaMetricName)
        .flatMap((n) => [n, `${n}_count`, `${n}_sum`])
        .sort();
      assert.deepEqual(names, expected);
      const labels = new Set(series.flatMap((s) => Object.keys(s)));
      for (const gone of ["Dimensions", "MetricName", "Namespace"]) assert.ok(!labels.has(gone), gone);
      assert.deepEqual([...labels].sort(), [
        "ExecutedVersion",
        "FunctionName",
        "Resource",
        "__name__",
        "account_id",
        "quantile",
        "region",
      ]);
    });
  }

  for (const [what, accessKey] of [
    ["wrong", "not-the-key"],
    ["missing", ""],
  ] as const) {
    it(`refuses a ${what} access key with 401 and stores nothing`, async () => {
      const refused = unique("fh-refused");
      const result = await deliver([metricStreamRecord(lambdaMetricData({ functionName: refused }))], {
        url: local.firehose.url,
        accessKey,
      });
      assert.equal(result.status, 401);
      assert.match(result.body.errorMessage ?? "", /access key/);
      // A good delivery after the refused one is stored; the refused one still is not.
      const accepted = unique("fh-accepted");
      const ok = await deliver(
        [metricStreamRecord(lambdaMetricData({ functionName: accepted }))],
        local.firehose,
      );
      assert.equal(ok.status, 200);
      await waitForSamples(
        local.prometheus.url,
        `${lambdaMetricName("Invocations")}_sum{FunctionName="${accepted}"}`,
      );
      assert.deepEqual(await promSeries(local.prometheus.url, `{FunctionName="${refused}"}`), []);
    });
  }

  it("answers 400 to a record that is not a metric stream record (Firehose retries it, then backs it up to S3)", async () => {
    const result = await deliver([Buffer.from("not protobuf")], local.firehose);
    assert.equal(result.status, 400);
  });
});
