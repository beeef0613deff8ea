import * as assert from "node:assert/strict";
import { LAYER_VERSION, offLine, startupLine } from "../../layer/src/announce";
import { readConfig } from "../../layer/src/config";

describe("layer startup line", () => {
  it("names version, mode, endpoint host, sampler, where spans go and whether logs are on", () => {
    const config = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example.com:4318" });
    assert.equal(
      startupLine(config, "wrapper", true),
      `firefly: layer ${LAYER_VERSION} active, wrapper mode, endpoint collector.example.com:4318, sampler parentbased_always_on, export after the response, logs on`,
    );
    const ratio = readConfig({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      FIREFLY_LOGS: "false",
    });
    assert.equal(
      startupLine(ratio, "handler", false),
      `firefly: layer ${LAYER_VERSION} active, handler mode, endpoint localhost:4318, sampler parentbased_traceidratio 0.25, export before each response, logs off`,
    );
    assert.equal(offLine(), `firefly: layer ${LAYER_VERSION} off (OTEL_SDK_DISABLED=true)`);
  });

  it("never carries the token, headers, credentials, path or query of the endpoint", () => {
    const config = readConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
        "https://user:s3cret@ingest.example.com/tenant/v1/traces?key=s3cret",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret",
    });
    const line = startupLine(config, "handler", true);
    assert.match(line, /endpoint ingest\.example\.com,/);
    assert.doesNotMatch(line, /s3cret|user|tenant|traces|key=|authorization|Bearer/);
  });

  it("is not trouble: it never carries the [firefly] prefix that the layer's warnings carry", () => {
    assert.doesNotMatch(startupLine(readConfig({}), "handler", true), /\[firefly\]/);
    assert.equal(readConfig({}).quiet, false);
    assert.equal(readConfig({ FIREFLY_QUIET: "true" }).quiet, true);
  });
});
