// The collector's logs pieces as a pure function: what reaches the log store and how, the REPORT
// metrics' path, the prices, and the refusals that name the setting. The real binary validates and runs
// the merged config in test/collector/collectorConfig.test.ts and test/pipeline/logs.test.ts.
import * as assert from "node:assert/strict";
import {
  COLLECTOR_PORTS,
  COLLECTOR_SECRET_ENV,
  type CollectorConfigError,
  collectorConfigObject,
} from "../../components/shipping/collectorConfig";
import {
  DEFAULT_LOGS_URL,
  LAMBDA_PRICE_DEFAULTS,
  LOG_STORE_OTLP_PATH,
  platformLineStatements,
} from "../../components/shipping/logsConfig";
import { Storage } from "../../components/types";

const config = (o: Record<string, unknown> = {}) =>
  collectorConfigObject({ storage: Storage.Prometheus, ...o }) as Record<string, any>;

describe("collector logs config (renderer)", () => {
  const c = config();

  it("sends OTLP and CloudWatch Logs records through memory_limiter and the platform-line transform to the log store", () => {
    const logs = c.service.pipelines.logs;
    assert.deepEqual(logs.receivers, ["otlp"]);
    assert.deepEqual(logs.processors, ["memory_limiter"]);
    assert.deepEqual(logs.exporters, ["otlp_http/logs"]);
    // REPORT metrics only from Lambda's own lines (Firehose access key), never from OTLP log records.
    const cloudwatch = c.service.pipelines["logs/cloudwatch"];
    assert.deepEqual(cloudwatch.receivers, ["awsfirehose/cwlogs"]);
    assert.deepEqual(cloudwatch.processors, ["memory_limiter", "transform/lambda_logs"]);
    assert.deepEqual(cloudwatch.exporters, ["otlp_http/logs", "signaltometrics"]);
    assert.equal(c.exporters["otlp_http/logs"].logs_endpoint, `${DEFAULT_LOGS_URL}${LOG_STORE_OTLP_PATH}`);
  });

  it("queues log records on disk before acknowledging them and retries without a deadline, like traces", () => {
    const exporter = c.exporters["otlp_http/logs"];
    assert.equal(exporter.sending_queue.storage, "file_storage");
    assert.equal(exporter.sending_queue.enabled, true);
    assert.equal(exporter.retry_on_failure.max_elapsed_time, "0s");
    assert.ok(c.service.extensions.includes("file_storage"));
  });

  it("requires the OTLP token and the Firehose access key, on a port of its own", () => {
    assert.equal(c.receivers.otlp.protocols.http.auth.authenticator, "bearertokenauth/otlp");
    const cw = c.receivers["awsfirehose/cwlogs"];
    assert.equal(cw.encoding, "cwlogs");
    assert.equal(cw.access_key, `\${env:${COLLECTOR_SECRET_ENV.firehoseAccessKey}}`);
    assert.equal(cw.endpoint, `0.0.0.0:${COLLECTOR_PORTS.firehoseLogs}`);
  });

  it("turns REPORT lines into metrics through deltatocumulative and interval, memory_limiter first", () => {
    const p = c.service.pipelines["metrics/lambda_report"];
    assert.deepEqual(p.receivers, ["signaltometrics"]);
    assert.deepEqual(p.processors, [
      "memory_limiter",
      "transform/lambda_report",
      "deltatocumulative",
      "interval/lambda_report",
    ]);
    const names = c.connectors.signaltometrics.logs.map((m: { name: string }) => m.name);
    for (const n of ["lambda.report.invocations", "lambda.report.cost_usd", "lambda.report.max_memory_used"])
      assert.ok(names.includes(n), n);
  });

  it("prices with the defaults, or the given prices, written without exponent notation", () => {
    const statements = (prices?: object) =>
      config({ lambdaPrices: prices }).processors["transform/lambda_logs"].log_statements[0].statements.join(
        "\n",
      );
    assert.match(statements(), /set\(log\.cache\["price"\], 0\.000016666700\)/);
    assert.match(statements(), /0\.000013333400\) where log\.attributes\["faas\.arch"\] == "arm64"/);
    assert.match(statements(), /\+ 0\.000000200000\)/);
    assert.doesNotMatch(statements(), /e-\d/);
    assert.match(statements({ perRequest: 0.0000004 }), /\+ 0\.000000400000\)/);
    assert.deepEqual(
      platformLineStatements({ ...LAMBDA_PRICE_DEFAULTS }),
      platformLineStatements({
        x86PerGbSecond: 0.0000166667,
        arm64PerGbSecond: 0.0000133334,
        perRequest: 0.0000002,
      }),
    );
  });

  it("refuses a log store URL with a path and a negative price, naming each setting", () => {
    assert.throws(
      () => config({ logsUrl: "http://victorialogs:9428/insert", lambdaPrices: { perRequest: -1 } }),
      (error: CollectorConfigError) => {
        assert.ok(error.problems.some((p) => p.startsWith("logsUrl:") && p.includes("without a path")));
        assert.ok(error.problems.some((p) => p.startsWith("lambdaPrices.perRequest:")));
        return true;
      },
    );
  });

  describe("with storage external", () => {
    const external = {
      storage: Storage.External,
      metricsWriteUrl: "https://vminsert.example.com/insert/0/prometheus/api/v1/write",
      traceEndpoint: "jaeger.example.com:4317",
      tracesTls: true,
      logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry/",
      metricsAuthHeader: "Authorization",
      logsAuthHeader: "X-Logs-Token",
    };
    const x = config(external);

    it("exports both log pipelines to your OTLP endpoint (/v1/logs appended) with your header and the durable queue", () => {
      const exporter = x.exporters["otlp_http/logs"];
      assert.equal(exporter.logs_endpoint, "https://vlinsert.example.com/insert/opentelemetry/v1/logs");
      assert.deepEqual(exporter.headers, { "X-Logs-Token": "${env:FIREFLY_LOGS_WRITE_AUTH}" });
      assert.deepEqual(
        { queue: exporter.sending_queue, retry: exporter.retry_on_failure },
        {
          queue: c.exporters["otlp_http/logs"].sending_queue,
          retry: c.exporters["otlp_http/logs"].retry_on_failure,
        },
        "the same durable queue as Firefly's own store",
      );
      assert.deepEqual(x.service.pipelines.logs.exporters, ["otlp_http/logs"]);
      assert.deepEqual(x.service.pipelines["logs/cloudwatch"].exporters, [
        "otlp_http/logs",
        "signaltometrics",
      ]);
      assert.doesNotMatch(JSON.stringify(x), /victorialogs/);
    });

    it("writes REPORT metrics with the metric store's header, like every other metric write", () => {
      for (const id of ["prometheusremotewrite/lambda_report", "prometheusremotewrite/otel"])
        assert.deepEqual(x.exporters[id].headers, { Authorization: "${env:FIREFLY_METRICS_WRITE_AUTH}" }, id);
    });

    it("refuses a missing log endpoint, the header over plain HTTP, a signal path, and an endpoint without storage external", () => {
      const refused = (o: Record<string, unknown>, pattern: RegExp) =>
        assert.throws(
          () => config(o),
          (error: CollectorConfigError) => error.problems.some((p) => pattern.test(p)),
        );
      refused(
        { ...external, logsEndpoint: undefined },
        /^metricsWriteUrl, traceEndpoint and logsEndpoint: required/,
      );
      refused(
        { ...external, logsEndpoint: "http://vlinsert:9481/insert/opentelemetry" },
        /^logsEndpoint: "http:\/\/vlinsert:9481\/insert\/opentelemetry" must be https:\/\/ when an auth header is sent/,
      );
      refused(
        { ...external, logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry/v1/logs" },
        /^logsEndpoint: .* must be the OTLP base URL; \/v1\/logs is appended/,
      );
      refused(
        { logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry" },
        /^logsEndpoint: only with storage external/,
      );
      refused(
        { ...external, logsAuthHeader: "X Logs" },
        /^logsAuthHeader: "X Logs" is not an HTTP header name/,
      );
    });
  });
});
