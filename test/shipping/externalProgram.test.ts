// storage external through the whole program (index.ts) under Pulumi mocks: stack settings in; the
// collector writing to your stores, Grafana reading from your query URLs, and no store deployed out.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { plain } from "../emit/rpc";
import { ACCOUNT, installMocks, ofType, scanSecrets, settle } from "./mocks";

const PROGRAM = path.join(__dirname, "..", "..", "index.ts");
const METRICS_AUTH = "Bearer metrics-credential-from-stack-config-0123";

describe("the program with storage external (mocks)", function () {
  this.timeout(120_000);
  after(() => pulumi.runtime.setAllConfig({}, []));

  it("deploys the gateway and Grafana only, wired to your stores", async () => {
    installMocks({
      state(args) {
        const inputs = plain(args.inputs);
        if (args.type === "aws:lambda/layerVersion:LayerVersion")
          return { arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:${inputs.layerName}:1` };
        return undefined;
      },
    });
    const external = {
      metricsWriteUrl: "https://vminsert.example.com/insert/0/prometheus/api/v1/write",
      metricsQueryUrl: "http://vmselect.monitoring:8481/select/0/prometheus",
      tracesEndpoint: "jaeger-collector.example.com:4317",
      tracesQueryUrl: "http://jaeger-query.monitoring:16686",
      logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry",
      logsQueryUrl: "http://vlselect.monitoring:9471",
    };
    pulumi.runtime.setAllConfig(
      {
        "firefly:storage": "external",
        "firefly:docker": JSON.stringify({ publicUrl: "https://ingest.example.com" }),
        "firefly:externalStorage": JSON.stringify(external),
        "firefly:externalMetricsAuth": METRICS_AUTH,
      },
      ["firefly:externalMetricsAuth"],
    );
    delete require.cache[require.resolve(PROGRAM)];
    require(PROGRAM);
    await settle(300);
    const containers = ofType("docker:index/container:Container")
      .filter((c) => !c.name.endsWith("-init"))
      .map((c) => c.inputs.name)
      .sort();
    assert.deepEqual(containers, ["firefly-presentation-grafana-grafana", "firefly-shipping-collector"]);
    const upload = (name: string, file: RegExp) =>
      ofType("docker:index/container:Container")
        .find((c) => c.inputs.name === name)
        ?.inputs.uploads.find((u: { file: string }) => file.test(u.file))?.content;
    const collector = parse(upload("firefly-shipping-collector", /collector\.yaml$/));
    assert.equal(collector.exporters["prometheusremotewrite/otel"].endpoint, external.metricsWriteUrl);
    assert.equal(collector.exporters["otlp_grpc/traces"].endpoint, external.tracesEndpoint);
    assert.equal(
      collector.exporters["otlp_http/logs"].logs_endpoint,
      "https://vlinsert.example.com/insert/opentelemetry/v1/logs",
    );
    const datasources = parse(upload("firefly-presentation-grafana-grafana", /datasources/)).datasources;
    const url = (uid: string) => datasources.find((d: { uid: string }) => d.uid === uid)?.url;
    assert.equal(url("firefly-prometheus"), external.metricsQueryUrl);
    assert.equal(url("firefly-jaeger"), external.tracesQueryUrl);
    assert.equal(url("firefly-logs"), external.logsQueryUrl);
    assert.deepEqual(scanSecrets([METRICS_AUTH]).plain, []);
  });
});
