// storage external under Pulumi mocks: Firefly runs the gateway only (no metric, trace or log store),
// writes to the stores you name with your auth headers kept secret, and hands Grafana your query URLs.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError, validateConfig } from "../../components/config";
import type * as shippingModule from "../../components/shipping";
import { Host, Storage } from "../../components/types";
import { installMocks, ofType, output, recorded, scanSecrets, settle } from "./mocks";

let shipping: typeof shippingModule;
const METRICS_AUTH = "Bearer metrics-write-credential-0123456789";
const TRACES_AUTH = "Basic dHJhY2VzLXdyaXRlci1jcmVkZW50aWFs";
const LOGS_AUTH = "Bearer logs-write-credential-0123456789";
const external = {
  metricsWriteUrl: "https://vminsert.example.com/insert/0/prometheus/api/v1/write",
  metricsQueryUrl: "https://vmselect.example.com/select/0/prometheus",
  tracesEndpoint: "jaeger-collector.example.com:4317",
  tracesQueryUrl: "https://jaeger-query.example.com",
  logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry",
  logsQueryUrl: "https://vlselect.example.com",
  tracesAuthHeader: "X-Scope-Token",
  logsAuthHeader: "AccountID-Token",
};

describe("ShippingPhase with storage external (Pulumi mocks)", () => {
  let phase: shippingModule.ShippingPhase;
  before(async () => {
    installMocks();
    shipping = await import("../../components/shipping");
    installMocks();
    phase = new shipping.ShippingPhase("ex", {
      storage: Storage.External,
      externalStorage: external,
      externalMetricsAuth: METRICS_AUTH,
      externalTracesAuth: TRACES_AUTH,
      externalLogsAuth: LOGS_AUTH,
    });
    await settle();
  });

  it("runs the collector and no metric, trace or log store", () => {
    const containers = ofType("docker:index/container:Container")
      .filter((c) => !c.name.endsWith("-init"))
      .map((c) => c.inputs.name);
    assert.deepEqual(containers, ["ex-collector"]);
    assert.deepEqual(
      ofType("docker:index/volume:Volume").map((v) => v.name),
      ["ex-collector-queue"],
      "no store volume",
    );
    assert.deepEqual(
      ofType("random:index/randomPassword:RandomPassword").map((r) => r.name),
      ["ex-otlp-token", "ex-firehose-key"],
      "no database password for a store Firefly does not run",
    );
  });

  it("writes metrics, traces and logs to your stores, over TLS, with your headers from secret env", async () => {
    const [collector] = ofType("docker:index/container:Container").filter(
      (c) => c.inputs.name === "ex-collector",
    );
    const config = parse(
      collector.inputs.uploads.find((u: any) => u.file.endsWith("collector.yaml")).content,
    );
    for (const id of [
      "prometheusremotewrite/cloudwatch",
      "prometheusremotewrite/otel",
      "prometheusremotewrite/lambda_report",
    ]) {
      assert.equal(config.exporters[id].endpoint, external.metricsWriteUrl);
      assert.deepEqual(config.exporters[id].headers, { Authorization: "${env:FIREFLY_METRICS_WRITE_AUTH}" });
    }
    const traces = config.exporters["otlp_grpc/traces"];
    assert.equal(traces.endpoint, external.tracesEndpoint);
    assert.deepEqual(traces.tls, { insecure: false });
    assert.deepEqual(traces.headers, { "X-Scope-Token": "${env:FIREFLY_TRACES_WRITE_AUTH}" });
    // Both log pipelines (OTLP from the layer, CloudWatch Logs through Firehose) end in the one exporter.
    const logs = config.exporters["otlp_http/logs"];
    assert.equal(logs.logs_endpoint, `${external.logsEndpoint}/v1/logs`);
    assert.deepEqual(logs.headers, { "AccountID-Token": "${env:FIREFLY_LOGS_WRITE_AUTH}" });
    assert.equal(logs.sending_queue.storage, "file_storage");
    assert.equal(logs.retry_on_failure.max_elapsed_time, "0s");
    for (const pipeline of ["logs", "logs/cloudwatch"])
      assert.ok(config.service.pipelines[pipeline].exporters.includes("otlp_http/logs"), pipeline);
    assert.doesNotMatch(JSON.stringify(config), /victorialogs/);
    // The values reach the container only as secret env (found inside secret markers, never in clear).
    const { plain, wrapped } = scanSecrets([METRICS_AUTH, TRACES_AUTH, LOGS_AUTH]);
    assert.deepEqual(plain, []);
    assert.ok(wrapped >= 1);
    const env = JSON.stringify(collector.inputs.envs);
    assert.ok(
      env.includes(`FIREFLY_METRICS_WRITE_AUTH=${METRICS_AUTH}`) &&
        env.includes("FIREFLY_TRACES_WRITE_AUTH=") &&
        env.includes(`FIREFLY_LOGS_WRITE_AUTH=${LOGS_AUTH}`),
    );
  });

  it("gives Grafana your query URLs and no SQL connection", async () => {
    assert.equal(await output(phase.prometheusUrl), external.metricsQueryUrl);
    assert.equal(await output(phase.jaegerUrl), external.tracesQueryUrl);
    assert.equal(await output(phase.logsUrl), external.logsQueryUrl);
    assert.equal(await output(phase.postgresHost), undefined);
    assert.equal(await pulumi.isSecret(phase.otlpToken), true);
  });

  it("runs no store on ec2 or kubernetes either: the compose project and the manifests hold the collector alone", async () => {
    installMocks();
    new shipping.ShippingPhase("ex2", {
      host: Host.Ec2,
      storage: Storage.External,
      externalStorage: external,
      externalLogsAuth: LOGS_AUTH,
    });
    await settle();
    const apply = ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) =>
      /docker compose -p shipping/.test(o.inputs.content),
    )?.inputs.content as string;
    const compose = [...apply.matchAll(/<<'FIREFLY_B64'[^\n]*\n([\s\S]*?)\nFIREFLY_B64/g)]
      .map((m) => gunzipSync(Buffer.from(m[1].replace(/\s/g, ""), "base64")).toString("utf8"))
      .map((text) => {
        try {
          return parse(text);
        } catch {
          return undefined;
        }
      })
      .find((doc) => doc?.services);
    assert.deepEqual(Object.keys(compose.services), ["collector"]);
    assert.deepEqual(scanSecrets([LOGS_AUTH]).plain, []);

    installMocks();
    new shipping.ShippingPhase("ex3", {
      host: Host.Kubernetes,
      storage: Storage.External,
      externalStorage: external,
      kubernetes: { ingressHost: "ingest.example.com" },
    });
    await settle();
    const workloads = [
      ...ofType("kubernetes:apps/v1:StatefulSet"),
      ...ofType("kubernetes:apps/v1:Deployment"),
    ].map((r) => r.inputs.metadata.name);
    assert.deepEqual(workloads, ["collector"]);
  });

  it("refuses what stack config refuses for storage external, worded for args", async () => {
    installMocks();
    const refuse = (args: shippingModule.ShippingPhaseArgs, pattern: RegExp) =>
      assert.throws(() => new shipping.ShippingPhase("bad", args), pattern);
    // The stack config's schema and rules, worded for args (fix included).
    refuse(
      { storage: Storage.External },
      /externalStorage: is required with storage external: name the stores .*\(fix: set args\.externalStorage\.metricsWriteUrl to https:/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, metricsWriteUrl: "http://vminsert:8480/api/v1/write" },
        externalMetricsAuth: METRICS_AUTH,
      },
      /externalStorage\.metricsWriteUrl = "http:\/\/vminsert:8480\/api\/v1\/write": must be https:\/\/ when args\.externalMetricsAuth is set.*\(fix: set args\.externalStorage\.metricsWriteUrl to https:\/\/vminsert:8480\/api\/v1\/write\)/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, tracesInsecure: true },
        externalTracesAuth: "x",
      },
      /tracesInsecure = true: cannot be true when args\.externalTracesAuth is set.*\(fix: remove args\.externalStorage\.tracesInsecure\)/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, logsEndpoint: "http://vlinsert:9481/insert/opentelemetry" },
        externalLogsAuth: LOGS_AUTH,
      },
      /logsEndpoint = ".*": must be https:\/\/ when args\.externalLogsAuth is set/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, logsEndpoint: `${external.logsEndpoint}/v1/logs` },
      },
      /logsEndpoint = ".*\/v1\/logs": must be the OTLP base URL/,
    );
    const { logsEndpoint: _, ...withoutLogs } = external;
    refuse(
      { storage: Storage.External, externalStorage: withoutLogs as typeof external },
      /externalStorage\.logsEndpoint: is required with storage external: the OTLP\/HTTP base URL logs go to/,
    );
    // Storage left to its default (prometheus), which the message names.
    refuse(
      { externalStorage: external },
      /externalStorage: is only used with storage external, but args\.storage is prometheus \(fix: remove args\.externalStorage \(or set args\.storage to external\)\)/,
    );
    refuse(
      { storage: Storage.Prometheus, externalLogsAuth: LOGS_AUTH },
      /externalLogsAuth: is only used with storage external/,
    );
    refuse(
      { storage: Storage.External, externalStorage: { ...external, tracesEndpoint: "https://j:4317" } },
      /tracesEndpoint = "https:\/\/j:4317": must be host:port/,
    );
    // Checked by the stack config's schema only, before: header names, queries, misspelt fields.
    refuse(
      { storage: Storage.External, externalStorage: { ...external, logsAuthHeader: "X Auth" } },
      /logsAuthHeader = "X Auth": must be an HTTP header name like Authorization/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, logsEndpoint: "https://vlinsert.example.com/insert?tenant=1" },
      },
      /logsEndpoint = ".*": must be an http\(s\) URL without query or fragment/,
    );
    refuse(
      {
        storage: Storage.External,
        externalStorage: { ...external, tracesQueryURL: "https://j" } as typeof external,
      },
      /externalStorage\.tracesQueryURL: unknown setting\..* Did you mean tracesQueryUrl\?/,
    );
    await settle(50);
    assert.deepEqual(
      recorded.filter((r) => r.type !== "firefly:index:ShippingPhase"),
      [],
    );
  });
});

describe("stack config for storage external", () => {
  // A front Lambda reaches, so the only problems are the ones under test.
  const reachable = { docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) };
  const values = (extra: Record<string, string>) => ({
    values: { storage: "external", externalStorage: JSON.stringify(external), ...reachable, ...extra },
    secretKeys: new Set(["externalMetricsAuth", "externalTracesAuth", "externalLogsAuth"]),
  });
  const problems = (raw: Parameters<typeof validateConfig>[0]) => {
    try {
      validateConfig(raw);
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.problems;
    }
  };

  it("accepts the stores and the secret headers", () => {
    const c = validateConfig(
      values({
        externalMetricsAuth: METRICS_AUTH,
        externalTracesAuth: TRACES_AUTH,
        externalLogsAuth: LOGS_AUTH,
      }),
    );
    assert.equal(c.storage, Storage.External);
    assert.equal(c.externalStorage?.tracesEndpoint, external.tracesEndpoint);
    assert.equal(c.externalStorage?.logsEndpoint, external.logsEndpoint);
    assert.equal(c.externalLogsAuth, LOGS_AUTH);
  });

  it("names a missing log store with what it is for and the command that sets it", () => {
    // The layer ships console output as logs on every stack, firefly:logs or not: the store is required.
    const { logsEndpoint: _, logsQueryUrl: __, ...noLogStore } = external;
    const found = problems({
      values: { storage: "external", externalStorage: JSON.stringify(noLogStore), ...reachable },
    });
    assert.deepEqual(
      found.map((p) => p.key),
      ["firefly:externalStorage.logsEndpoint", "firefly:externalStorage.logsQueryUrl"],
    );
    assert.match(found[0].message, /required with storage external: the OTLP\/HTTP base URL logs go to/);
    assert.equal(
      found[0].fix,
      "pulumi config set --path firefly:externalStorage.logsEndpoint https://vlinsert.example.com/insert/opentelemetry",
    );
    assert.match(found[1].message, /VictoriaLogs \(LogsQL\) URL Grafana reads logs from/);
    assert.match(found[1].fix, /--path firefly:externalStorage.logsQueryUrl https:\/\/vlselect.example.com$/);
  });

  it("refuses the log credential over plain HTTP and a signal path in the base URL, without echoing the credential", () => {
    const clear = problems({
      values: {
        ...reachable,
        storage: "external",
        externalStorage: JSON.stringify({
          ...external,
          logsEndpoint: "http://vlinsert.monitoring:9481/insert/opentelemetry",
        }),
        externalLogsAuth: LOGS_AUTH,
      },
      secretKeys: new Set(["externalLogsAuth"]),
    });
    assert.equal(clear.length, 1);
    assert.equal(clear[0].key, "firefly:externalStorage.logsEndpoint");
    assert.match(clear[0].message, /must be https:\/\/ when firefly:externalLogsAuth is set/);
    assert.equal(
      clear[0].fix,
      "pulumi config set --path firefly:externalStorage.logsEndpoint https://vlinsert.monitoring:9481/insert/opentelemetry",
    );
    assert.ok(!JSON.stringify(clear).includes(LOGS_AUTH), "the credential is never echoed");
    const signalPath = problems(
      values({
        externalStorage: JSON.stringify({
          ...external,
          logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry/v1/logs",
        }),
      }),
    );
    assert.equal(signalPath[0].key, "firefly:externalStorage.logsEndpoint");
    assert.match(signalPath[0].message, /Firefly appends \/v1\/logs itself/);
    const elsewhere = problems({
      values: { storage: "prometheus", externalLogsAuth: LOGS_AUTH, ...reachable },
      secretKeys: new Set(["externalLogsAuth"]),
    });
    assert.equal(elsewhere[0].key, "firefly:externalLogsAuth");
    assert.match(elsewhere[0].message, /only used with storage external/);
  });

  it("names the missing stores, the credential over plain HTTP and the misplaced settings, with fixes", () => {
    const missing = problems({ values: { storage: "external", ...reachable } });
    assert.equal(missing[0].key, "firefly:externalStorage");
    assert.match(missing[0].fix, /pulumi config set --path firefly:externalStorage.metricsWriteUrl/);
    const clear = problems({
      values: {
        ...reachable,
        storage: "external",
        externalStorage: JSON.stringify({
          ...external,
          metricsWriteUrl: "http://vminsert:8480/api/v1/write",
        }),
        externalMetricsAuth: METRICS_AUTH,
      },
      secretKeys: new Set(["externalMetricsAuth"]),
    });
    assert.equal(clear[0].key, "firefly:externalStorage.metricsWriteUrl");
    assert.match(clear[0].fix, /https:\/\/vminsert:8480/);
    const elsewhere = problems({
      values: { storage: "prometheus", externalStorage: JSON.stringify(external), ...reachable },
    });
    assert.match(elsewhere[0].message, /only used with storage external/);
    const plainSecret = problems({ ...values({ externalTracesAuth: TRACES_AUTH }), secretKeys: new Set() });
    assert.match(plainSecret[0].message, /must be a Pulumi secret/);
  });
});
