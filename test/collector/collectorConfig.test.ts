// The gateway collector config: every rule of issue 5 checked on the parsed YAML, then the same YAML
// checked by the real binary (`firefly-otelcol components` and `validate`).
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import {
  COLLECTOR_IMAGE,
  COLLECTOR_PORTS,
  COLLECTOR_SECRET_ENV,
  COLLECTOR_VERSION,
  CollectorConfigError,
  type CollectorConfigOptions,
  METRIC_STREAM_OUTPUT_FORMAT,
  renderCollectorConfig,
} from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
import { binaries, REPO } from "../pipeline/stack";

type Config = Record<string, any>;
const render = (o: Partial<CollectorConfigOptions> = {}): Config =>
  parse(renderCollectorConfig({ storage: Storage.Prometheus, ...o }));
const pipelines = (c: Config): [string, any][] => Object.entries(c.service.pipelines);
const envRef = (name: string) => "${env:" + name + "}";

describe("collector config (renderer)", () => {
  const config = render();

  it("reads extensions → receivers → processors → connectors → exporters → service", () => {
    assert.deepEqual(Object.keys(config), [
      "extensions",
      "receivers",
      "processors",
      "connectors",
      "exporters",
      "service",
    ]);
  });

  it("requires the bearer token on OTLP gRPC and HTTP, read from the environment", () => {
    for (const protocol of ["grpc", "http"]) {
      assert.equal(config.receivers.otlp.protocols[protocol].auth.authenticator, "bearertokenauth/otlp");
    }
    assert.deepEqual(config.extensions["bearertokenauth/otlp"], {
      scheme: "Bearer",
      token: envRef(COLLECTOR_SECRET_ENV.otlpToken),
    });
    assert.ok(config.service.extensions.includes("bearertokenauth/otlp"));
  });

  it("requires the Firehose access key, read from the environment, and refuses to run without one", () => {
    const firehose = config.receivers.awsfirehose;
    assert.equal(firehose.access_key, envRef(COLLECTOR_SECRET_ENV.firehoseAccessKey));
    assert.equal(firehose.encoding, "awscloudwatchmetricstreams_encoding");
    assert.equal(config.extensions.awscloudwatchmetricstreams_encoding.format, METRIC_STREAM_OUTPUT_FORMAT);
    assert.equal(config.extensions["bearertokenauth/firehose_key_required"].token, firehose.access_key);
  });

  it("holds no secret: every credential is an env reference", () => {
    const yaml = renderCollectorConfig({ storage: Storage.Prometheus });
    // Header values are credentials; signaltometrics' `value:` lines are OTTL expressions, not secrets.
    const credentials = [...yaml.matchAll(/^\s*(?:token|access_key|value): (?!true$)(.*)$/gm)]
      .map((m) => m[1])
      .filter((v) => !/^(?:"\d+"|(?:Double|Int)\(attributes\[.*)$/.test(v));
    assert.ok(credentials.length >= 4);
    for (const value of credentials) assert.match(value, /\$\{env:FIREFLY_[A-Z_]+\}/);
  });

  it("puts memory_limiter first in every pipeline", () => {
    assert.equal(pipelines(config).length, 7);
    for (const [name, p] of pipelines(config)) assert.equal(p.processors[0], "memory_limiter", name);
  });

  it("tail-samples traces: errors, slow, force-keep attribute and a configurable share", () => {
    const c = render({
      samplingPercent: 25,
      slowTraceMs: 1500,
      forceKeepAttribute: "keep.me",
      decisionWaitSeconds: 4,
    });
    const ts = c.processors.tail_sampling;
    assert.equal(ts.decision_wait, "4s");
    const byType = Object.fromEntries(ts.policies.map((p: any) => [p.type, p]));
    assert.deepEqual(byType.status_code.status_code.status_codes, ["ERROR"]);
    assert.equal(byType.latency.latency.threshold_ms, 1500);
    assert.deepEqual(byType.boolean_attribute.boolean_attribute, { key: "keep.me", value: true });
    assert.deepEqual(byType.string_attribute.string_attribute, { key: "keep.me", values: ["true"] });
    assert.equal(byType.probabilistic.probabilistic.sampling_percentage, 25);
    assert.deepEqual(c.service.pipelines.traces.processors, ["memory_limiter", "tail_sampling"]);
    assert.ok(c.processors.tail_sampling.num_traces >= 20000 * 10, "room for 20,000 traces/s over the wait");
  });

  it("keeps every trace by default with nothing holding acknowledged spans before the on-disk queue", () => {
    assert.equal(config.processors.tail_sampling, undefined, "no tail sampling at 100 %");
    assert.deepEqual(config.service.pipelines.traces.processors, ["memory_limiter"]);
    const queue = config.exporters["otlp_grpc/traces"].sending_queue;
    assert.equal(queue.storage, "file_storage");
    assert.ok(queue.batch, "batching happens in the queue, after the write to disk");
  });

  it("computes span metrics from every span, before sampling, per function and operation", () => {
    const { pipelines: p } = config.service;
    assert.deepEqual(p["traces/spanmetrics"], {
      receivers: ["otlp"],
      processors: ["memory_limiter"],
      exporters: ["spanmetrics"],
    });
    assert.ok(p["metrics/otel"].receivers.includes("spanmetrics"));
    const dims = config.connectors.spanmetrics.dimensions.map((d: any) => d.name);
    assert.ok(dims.includes("faas.name"));
    assert.ok(config.connectors.spanmetrics.histogram.explicit.buckets.length > 5);
  });

  it("exports traces through a persistent queue on file storage with retries that never give up", () => {
    const exporter = config.exporters["otlp_grpc/traces"];
    assert.deepEqual(config.service.pipelines.traces.exporters, ["otlp_grpc/traces"]);
    assert.equal(exporter.sending_queue.enabled, true);
    assert.equal(exporter.sending_queue.storage, "file_storage");
    assert.ok(config.service.extensions.includes("file_storage"));
    assert.equal(exporter.retry_on_failure.enabled, true);
    assert.equal(exporter.retry_on_failure.max_elapsed_time, "0s");
    const dir = render({ fileStorageDir: "/data/q" }).extensions.file_storage;
    assert.equal(dir.directory, "/data/q");
    assert.equal(dir.create_directory, true);
  });

  it("sends Firehose metrics without batch or in-memory queue, retrying briefly so failures reach Firehose", () => {
    const p = config.service.pipelines["metrics/cloudwatch"];
    assert.deepEqual(p.receivers, ["awsfirehose"]);
    assert.ok(!p.processors.includes("batch"));
    assert.deepEqual(p.exporters, ["prometheusremotewrite/cloudwatch"]);
    const exporter = config.exporters["prometheusremotewrite/cloudwatch"];
    assert.equal(exporter.remote_write_queue.enabled, false);
    assert.equal(exporter.sending_queue, undefined);
    // The timeout bounds the whole synchronous call, retries included: it must end well inside an API
    // Gateway front's 30 s, and the retries must give up before it cuts them off.
    const seconds = (d: string) => Number.parseInt(d, 10);
    assert.ok(seconds(exporter.timeout) <= 15);
    assert.ok(seconds(exporter.retry_on_failure.max_elapsed_time) < seconds(exporter.timeout));
  });

  it("sends the collector's own metrics through an authenticated loopback-only OTLP port to storage", () => {
    const readers = config.service.telemetry.metrics.readers;
    const push = readers.find((r: any) => r.periodic).periodic.exporter.otlp;
    assert.equal(push.endpoint, `http://127.0.0.1:${COLLECTOR_PORTS.selfMetrics}/v1/metrics`);
    assert.deepEqual(push.headers, [
      { name: "authorization", value: `Bearer ${envRef(COLLECTOR_SECRET_ENV.otlpToken)}` },
    ]);
    assert.deepEqual(config.service.pipelines["metrics/otel"].receivers, ["otlp/self", "spanmetrics"]);
    assert.equal(
      config.receivers["otlp/self"].protocols.http.endpoint,
      `127.0.0.1:${COLLECTOR_PORTS.selfMetrics}`,
    );
    assert.deepEqual(config.receivers["otlp/self"].protocols.http.auth, {
      authenticator: "bearertokenauth/otlp",
    });
    // The public receiver takes spans and the layer's logs only: the functions' token cannot write a metric.
    for (const [name, pipeline] of Object.entries<any>(config.service.pipelines))
      if (pipeline.receivers.includes("otlp")) assert.match(name, /^(traces|logs)/, name);
    assert.equal(config.service.telemetry.resource["service.name"], "firefly-gateway");
  });

  it("binds debug endpoints to localhost, ingest to the bind address", () => {
    const c = render({ bindAddress: "0.0.0.0" });
    assert.equal(c.extensions.zpages.endpoint, `127.0.0.1:${COLLECTOR_PORTS.zpages}`);
    const pull = c.service.telemetry.metrics.readers.find((r: any) => r.pull).pull.exporter.prometheus;
    assert.equal(pull.host, "127.0.0.1");
    assert.equal(c.receivers.awsfirehose.endpoint, `0.0.0.0:${COLLECTOR_PORTS.firehose}`);
    assert.equal(c.receivers.otlp.protocols.grpc.endpoint, `0.0.0.0:${COLLECTOR_PORTS.otlpGrpc}`);
  });

  it("points at each storage kind's stores by default and takes explicit endpoints", () => {
    const promscale = render({ storage: Storage.Promscale });
    assert.equal(
      promscale.exporters["prometheusremotewrite/cloudwatch"].endpoint,
      "http://promscale:9201/write",
    );
    assert.equal(promscale.exporters["otlp_grpc/traces"].endpoint, "promscale:9202");
    assert.equal(
      config.exporters["prometheusremotewrite/otel"].endpoint,
      "http://prometheus:9090/api/v1/write",
    );
    assert.equal(config.exporters["otlp_grpc/traces"].endpoint, "jaeger:4317");
    const custom = render({ metricsWriteUrl: "http://m:1/w", traceEndpoint: "t:2" });
    assert.equal(custom.exporters["prometheusremotewrite/otel"].endpoint, "http://m:1/w");
    assert.equal(custom.exporters["otlp_grpc/traces"].endpoint, "t:2");
  });

  it("defines every component a pipeline uses and uses every component it defines", () => {
    const used = new Set<string>();
    for (const [, p] of pipelines(config))
      for (const id of [...p.receivers, ...(p.processors ?? []), ...p.exporters]) used.add(id);
    const defined = [
      ...Object.keys(config.receivers),
      ...Object.keys(config.processors),
      ...Object.keys(config.exporters),
      ...Object.keys(config.connectors),
    ];
    assert.deepEqual([...used].sort(), [...defined].sort());
  });

  it("rejects bad settings before rendering, naming each setting", () => {
    assert.throws(
      () =>
        renderCollectorConfig({
          storage: Storage.Prometheus,
          samplingPercent: 150,
          slowTraceMs: -1,
          forceKeepAttribute: "no spaces allowed",
          metricsWriteUrl: "prometheus:9090",
          traceEndpoint: "http://jaeger:4317",
          bindAddress: "localhost",
          fileStorageDir: "relative/dir",
          ports: { otlpHttp: 4317 },
        }),
      (error: unknown) => {
        assert.ok(error instanceof CollectorConfigError);
        const settings = error.problems.map((p) => p.split(":")[0]);
        assert.deepEqual(settings, [
          "metricsWriteUrl",
          "traceEndpoint",
          "samplingPercent",
          "slowTraceMs",
          "forceKeepAttribute",
          "fileStorageDir",
          "bindAddress",
          "ports.otlpHttp",
        ]);
        return true;
      },
    );
  });

  it("pins the image and the manifest to one collector version", () => {
    assert.match(
      COLLECTOR_IMAGE,
      new RegExp(`^otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION}@sha256:[0-9a-f]{64}$`),
    );
    const manifest = parse(fs.readFileSync(path.join(REPO, "collector/manifest.yaml"), "utf8"));
    assert.equal(manifest.dist.version, COLLECTOR_VERSION);
    const modules = ["extensions", "receivers", "processors", "connectors", "exporters"].flatMap(
      (k) => manifest[k],
    );
    for (const m of modules) assert.ok(m.gomod.endsWith(` v${COLLECTOR_VERSION}`), m.gomod);
  });
});

describe("collector config (the real binary)", () => {
  const bin = binaries().collector;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-collector-test-"));
  const secrets = { [COLLECTOR_SECRET_ENV.otlpToken]: "t", [COLLECTOR_SECRET_ENV.firehoseAccessKey]: "k" };

  before(() => {
    if (!fs.existsSync(bin.path)) throw new Error(`${bin.path} is missing; build it with \`${bin.install}\``);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const validate = (yaml: string, env: Record<string, string>) => {
    const file = path.join(tmp, "config.yaml");
    fs.writeFileSync(file, yaml);
    return spawnSync(bin.path, ["validate", `--config=${file}`], {
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    });
  };

  it("is built with every component type the config names", () => {
    const built = parse(execFileSync(bin.path, ["components"], { encoding: "utf8" }));
    const config = render({
      samplingPercent: 10,
      peers: {
        static: { hostnames: ["127.0.0.1:4319"] },
        tls: {
          certFile: "/etc/firefly/peers/tls.crt",
          keyFile: "/etc/firefly/peers/tls.key",
          serverName: "collector-peers",
        },
      },
    });
    const types = (section: Record<string, unknown>) => Object.keys(section).map((id) => id.split("/")[0]);
    for (const kind of ["extensions", "receivers", "processors", "connectors", "exporters"]) {
      const available = new Set(built[kind].map((c: { name: string }) => c.name));
      for (const type of types(config[kind]))
        assert.ok(available.has(type), `${kind}: ${type} not in the build`);
    }
  });

  for (const storage of Object.values(Storage)) {
    for (const bindAddress of ["0.0.0.0", "127.0.0.1"]) {
      for (const samplingPercent of [100, 10]) {
        it(`validates for ${storage} storage bound to ${bindAddress}, sampling ${samplingPercent} %`, () => {
          // External stores have no default address: name some, as ShippingPhase does from the settings.
          const stores =
            storage === Storage.External
              ? {
                  metricsWriteUrl: "https://vminsert.example.com/api/v1/write",
                  traceEndpoint: "jaeger.example.com:4317",
                  logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry",
                  metricsAuthHeader: "Authorization",
                  logsAuthHeader: "Authorization",
                }
              : {};
          const result = validate(
            renderCollectorConfig({ storage, bindAddress, samplingPercent, ...stores }),
            secrets,
          );
          assert.equal(result.status, 0, result.stderr);
        });
      }
    }
  }

  it("validates for replicas that route traces to their peers (dns and static resolvers)", () => {
    const peers = [
      {
        dns: { hostname: "collector-peers", port: 4319 },
        tls: {
          certFile: "/etc/firefly/peers/tls.crt",
          keyFile: "/etc/firefly/peers/tls.key",
          serverName: "collector-peers",
        },
      },
      {
        static: { hostnames: ["127.0.0.1:14319", "127.0.0.1:24319"] },
        tls: {
          certFile: "/etc/firefly/peers/tls.crt",
          keyFile: "/etc/firefly/peers/tls.key",
          serverName: "collector-peers",
        },
      },
    ];
    for (const p of peers) {
      const config = renderCollectorConfig({ storage: Storage.Prometheus, samplingPercent: 10, peers: p });
      const result = validate(config, { ...secrets, FIREFLY_COLLECTOR_REPLICA: "collector-0" });
      assert.equal(result.status, 0, result.stderr);
      assert.match(config, /loadbalancing:/);
    }
  });

  it("refuses to start without the OTLP token or the Firehose access key", () => {
    const yaml = renderCollectorConfig({ storage: Storage.Prometheus });
    for (const missing of Object.keys(secrets)) {
      const env = { ...secrets, [missing]: "" };
      const result = validate(yaml, env);
      assert.notEqual(result.status, 0, `${missing} empty`);
      assert.match(result.stderr, /no bearer token provided/);
    }
  });
});
