import * as assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace";
import { DEFAULTS, readConfig, tracesUrl } from "../../layer/src/config";
import { createPropagator, createSampler, resourceAttributes } from "../../layer/src/tracing";

describe("layer settings from the environment", () => {
  it("defaults: local collector, protobuf, 1 s flush budget, parent-based sampling, W3C propagation", () => {
    const config = readConfig({ AWS_LAMBDA_FUNCTION_NAME: "orders" });
    assert.equal(config.tracesUrl, "http://localhost:4318/v1/traces");
    assert.equal(config.protocol, "http/protobuf");
    assert.equal(config.flushTimeoutMs, DEFAULTS.flushTimeoutMs);
    assert.equal(config.flushTimeoutMs, 1000);
    assert.equal(config.sampler, "parentbased_always_on");
    assert.deepEqual(config.propagators, ["tracecontext", "baggage"]);
    assert.equal(config.serviceName, "orders");
    assert.deepEqual(config.headers, {});
    assert.deepEqual(config.warnings, []);
  });

  it("export after the response, timeout margin, breaker and log capture: defaults, values, bad values named", () => {
    const d = readConfig({});
    assert.equal(d.exportAfterResponse, true);
    assert.equal(d.timeoutMarginMs, 100);
    assert.equal(d.breakerRetryMs, 30000);
    assert.equal(d.logs, true);
    assert.equal(d.logsMaxRecords, 1000);
    assert.equal(d.logsMaxBytes, 262144);
    assert.equal(d.logsUrl, "http://localhost:4318/v1/logs");
    const set = readConfig({
      FIREFLY_EXPORT_AFTER_RESPONSE: "false",
      FIREFLY_TIMEOUT_MARGIN_MS: "250",
      FIREFLY_BREAKER_RETRY_MS: "5000",
      FIREFLY_LOGS: "0",
      FIREFLY_LOGS_MAX_RECORDS: "10",
      FIREFLY_LOGS_MAX_BYTES: "2048",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://c.example:4318/",
    });
    assert.deepEqual(
      [
        set.exportAfterResponse,
        set.timeoutMarginMs,
        set.breakerRetryMs,
        set.logs,
        set.logsMaxRecords,
        set.logsMaxBytes,
      ],
      [false, 250, 5000, false, 10, 2048],
    );
    assert.equal(set.logsUrl, "https://c.example:4318/v1/logs");
    // Only a traces URL: logs go beside it.
    assert.equal(
      readConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://c.example/otlp/v1/traces" }).logsUrl,
      "https://c.example/otlp/v1/logs",
    );
    const bad = readConfig({
      FIREFLY_EXPORT_AFTER_RESPONSE: "maybe",
      FIREFLY_TIMEOUT_MARGIN_MS: "-1",
      FIREFLY_LOGS_MAX_RECORDS: "1.5",
    });
    assert.equal(bad.exportAfterResponse, true);
    assert.equal(bad.timeoutMarginMs, 100);
    assert.equal(bad.logsMaxRecords, 1000);
    assert.deepEqual(bad.warnings, [
      'FIREFLY_EXPORT_AFTER_RESPONSE "maybe" is not true or false; using true.',
      'FIREFLY_TIMEOUT_MARGIN_MS "-1" is not a non-negative number of milliseconds; using 100.',
      'FIREFLY_LOGS_MAX_RECORDS "1.5" is not a positive integer; using 1000.',
    ]);
  });

  it("the traces endpoint is used as-is; the base endpoint gets /v1/traces", () => {
    assert.equal(
      tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://c.example:4318/" }),
      "https://c.example:4318/v1/traces",
    );
    assert.equal(
      tracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://a",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/custom",
      }),
      "https://b/custom",
    );
  });

  it("protocol: http/json when asked, the traces-specific setting first; grpc falls back with a warning", () => {
    assert.equal(readConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).protocol, "http/json");
    assert.equal(
      readConfig({
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
      }).protocol,
      "http/protobuf",
    );
    const grpc = readConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    assert.equal(grpc.protocol, "http/protobuf");
    assert.match(grpc.warnings[0], /OTEL_EXPORTER_OTLP_PROTOCOL "grpc"/);
  });

  it("headers: URL-decoded key=value pairs, traces-specific ones win", () => {
    const config = readConfig({
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-tenant=a",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
    });
    assert.deepEqual(config.headers, { authorization: "Bearer abc", "x-tenant": "b" });
  });

  it("bad values fall back to the default and name the setting and the fix", () => {
    const config = readConfig({
      FIREFLY_FLUSH_TIMEOUT_MS: "soon",
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
      OTEL_TRACES_SAMPLER: "sometimes",
      OTEL_TRACES_SAMPLER_ARG: "2",
      OTEL_PROPAGATORS: "tracecontext,xray",
    });
    assert.equal(config.flushTimeoutMs, 1000);
    assert.equal(config.tracesUrl, "http://localhost:4318/v1/traces");
    assert.equal(config.sampler, "parentbased_always_on");
    assert.deepEqual(config.propagators, ["tracecontext"]);
    const text = config.warnings.join("\n");
    for (const setting of [
      "FIREFLY_FLUSH_TIMEOUT_MS",
      "OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT",
      "OTEL_TRACES_SAMPLER",
      "OTEL_PROPAGATORS",
    ]) {
      assert.ok(text.includes(setting), `warning names ${setting}:\n${text}`);
    }
  });

  it("sampler ratio applies to the ratio samplers", () => {
    const config = readConfig({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    assert.equal(config.sampler, "parentbased_traceidratio");
    assert.equal(config.samplerRatio, 0.25);
  });

  it("service name: OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES, then the function name", () => {
    assert.equal(readConfig({ OTEL_SERVICE_NAME: "a", AWS_LAMBDA_FUNCTION_NAME: "f" }).serviceName, "a");
    assert.equal(
      readConfig({ OTEL_RESOURCE_ATTRIBUTES: "service.name=b", AWS_LAMBDA_FUNCTION_NAME: "f" }).serviceName,
      "b",
    );
    assert.equal(readConfig({ AWS_LAMBDA_FUNCTION_NAME: "f" }).serviceName, "f");
  });

  it("OTEL_SDK_DISABLED turns the layer off", () => {
    assert.equal(readConfig({ OTEL_SDK_DISABLED: "true" }).disabled, true);
    assert.equal(readConfig({}).disabled, false);
  });

  it("resource: Lambda's environment, then OTEL_RESOURCE_ATTRIBUTES, service.name last", () => {
    const env = {
      AWS_REGION: "eu-west-1",
      AWS_LAMBDA_FUNCTION_NAME: "orders",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,cloud.region=override",
    };
    const attrs = resourceAttributes(readConfig(env), env);
    assert.equal(attrs["cloud.provider"], "aws");
    assert.equal(attrs["cloud.region"], "override");
    assert.equal(attrs["faas.name"], "orders");
    assert.equal(attrs["faas.max_memory"], 256 * 1024 * 1024);
    assert.equal(attrs["deployment.environment.name"], "prod");
    assert.equal(attrs["service.name"], "orders");
  });
});

describe("layer sampler and propagators from settings", () => {
  const root = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 0,
    isRemote: true,
  };
  const decide = (sampler: ReturnType<typeof createSampler>, parent?: typeof root) =>
    sampler.shouldSample(
      parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
      root.traceId,
      "x",
      SpanKind.SERVER,
      {},
      [],
    ).decision;

  it("parentbased_always_on (default) samples new traces and follows a W3C caller's decision", () => {
    const sampler = createSampler(readConfig({}));
    assert.equal(decide(sampler), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(sampler, { ...root, traceFlags: 0 }), SamplingDecision.NOT_RECORD);
    assert.equal(decide(sampler, { ...root, traceFlags: 1 }), SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("always_off and traceidratio 0 sample nothing", () => {
    assert.equal(
      decide(createSampler(readConfig({ OTEL_TRACES_SAMPLER: "always_off" }))),
      SamplingDecision.NOT_RECORD,
    );
    const ratio = readConfig({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" });
    assert.equal(decide(createSampler(ratio)), SamplingDecision.NOT_RECORD);
  });

  it("propagators: the configured fields only", () => {
    assert.deepEqual(createPropagator(["tracecontext", "baggage"]).fields().sort(), [
      "baggage",
      "traceparent",
      "tracestate",
    ]);
    assert.deepEqual(createPropagator(["tracecontext"]).fields().sort(), ["traceparent", "tracestate"]);
    assert.deepEqual(createPropagator(readConfig({ OTEL_PROPAGATORS: "none" }).propagators).fields(), []);
  });
});
