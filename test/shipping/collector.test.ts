import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { COLLECTOR_SERVICE, collectorService } from "../../components/shipping/collector";
import {
  COLLECTOR_CONFIG_PATH,
  COLLECTOR_FILE_STORAGE_DIR,
  COLLECTOR_IMAGE,
  COLLECTOR_SECRET_ENV,
} from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { resolve } from "../hosts/helpers";

const TOKEN = "otlp-token-0123456789abcdef";
const KEY = "firehose-key-0123456789abcdef";

describe("collector service spec", () => {
  const spec = collectorService({
    config: { storage: Storage.Promscale, samplingPercent: 25 },
    otlpToken: pulumi.secret(TOKEN),
    firehoseAccessKey: pulumi.secret(KEY),
  });

  it("runs the official contrib image with the rendered config mounted where its args point", async () => {
    assert.equal(spec.name, COLLECTOR_SERVICE);
    assert.equal(spec.image, COLLECTOR_IMAGE);
    assert.deepEqual(spec.args, [`--config=${COLLECTOR_CONFIG_PATH}`]);
    const [file] = spec.files!;
    assert.equal(file.path, COLLECTOR_CONFIG_PATH);
    const config = parse(await resolve(file.content));
    assert.equal(config.processors.tail_sampling.policies.at(-1).probabilistic.sampling_percentage, 25);
    const endpoints = Object.values(config.exporters).map((e: any) => e.endpoint);
    assert.ok(endpoints.includes("promscale:9202") && endpoints.includes("http://promscale:9201/write"));
  });

  it("an opted-in custom image replaces it", () => {
    const custom = collectorService({
      config: { storage: Storage.Prometheus },
      otlpToken: TOKEN,
      firehoseAccessKey: KEY,
      image: "registry.example.com/firefly-otelcol:0.145.0",
    });
    assert.equal(custom.image, "registry.example.com/firefly-otelcol:0.145.0");
  });

  it("secrets reach it only as secret env, which the config references", async () => {
    assert.deepEqual(Object.keys(spec.secretEnv!).sort(), Object.values(COLLECTOR_SECRET_ENV).sort());
    assert.equal(await resolve(spec.secretEnv![COLLECTOR_SECRET_ENV.otlpToken]), TOKEN);
    const config = await resolve(spec.files![0].content);
    assert.ok(!config.includes(TOKEN) && !config.includes(KEY));
    assert.ok(config.includes(`\${env:${COLLECTOR_SECRET_ENV.otlpToken}}`));
    assert.equal(spec.env, undefined);
  });

  it("exposes only the OTLP/HTTP and the two Firehose ports publicly; the queue has a volume its user owns", () => {
    assert.deepEqual(
      spec.ports.filter((p) => p.public).map((p) => p.container),
      [4318, 4433, 4434],
    );
    assert.deepEqual(spec.volumes, [
      { name: "collector-queue", mountPath: COLLECTOR_FILE_STORAGE_DIR, sizeGb: 5, owner: "10001:10001" },
    ]);
    assert.equal(spec.user, "10001:10001");
    // One replica until span metrics carry a per-replica label and traces are load-balanced by ID.
    assert.deepEqual([spec.replicas, spec.maxReplicas], [1, 1]);
    assert.deepEqual(spec.health, { port: 13133, path: "/health" });
  });

  it("bad collector settings fail before any service exists", () => {
    assert.throws(
      () =>
        collectorService({
          config: { storage: Storage.Promscale, samplingPercent: 120 },
          otlpToken: TOKEN,
          firehoseAccessKey: KEY,
        }),
      /samplingPercent: 120/,
    );
  });
});
