// Runs the collector config a deployment renders, as rendered, on loopback. Only network addresses and
// the queue directory change: listeners move from the host's bind address to free loopback ports, the
// store exporters point at the shared test stores, and the self-metrics push follows the moved OTLP
// port. Every change is listed, and any address left unmapped fails the journey.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { COLLECTOR_HEALTH_PATH, FIREHOSE_PATH } from "../../components/shipping/collectorConfig";
import { freePorts, type StartedProcess, startProcess, waitForHttp } from "../pipeline/processes";
import { binaries } from "../pipeline/stack";

export interface Stores {
  /** Prometheus remote-write URL (stands in for Promscale's /write as well: the same protocol). */
  writeUrl: string;
  /** Jaeger's OTLP gRPC address (stands in for Promscale's OTLP port as well). */
  jaegerOtlp: string;
}

export interface RunningCollector {
  process: StartedProcess;
  otlpUrl: string;
  firehoseUrl: string;
  /** Every change made to the rendered config, `path: before → after`. */
  mappings: string[];
  log: string;
}

export async function runRenderedCollector(
  yaml: string,
  env: Record<string, string>,
  stores: Stores,
  dir: string,
): Promise<RunningCollector> {
  // A port found free can be taken (e.g. by an outgoing connection) before the collector binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(yaml, env, stores, dir);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
    }
  }
}

async function startOnFreePorts(
  yaml: string,
  env: Record<string, string>,
  stores: Stores,
  dir: string,
): Promise<RunningCollector> {
  const config = parse(yaml);
  const mappings: string[] = [];
  const set = (obj: any, key: string, value: unknown, where: string) => {
    mappings.push(`${where}: ${obj[key]} → ${value}`);
    obj[key] = value;
  };
  const [grpc, http, firehose, health, zpages, metrics, self, firehoseLogs] = await freePorts(8);
  const ext = config.extensions;
  set(ext.health_check, "endpoint", `127.0.0.1:${health}`, "extensions.health_check.endpoint");
  set(ext.zpages, "endpoint", `127.0.0.1:${zpages}`, "extensions.zpages.endpoint");
  const queue = path.join(dir, "queue");
  set(ext.file_storage, "directory", queue, "extensions.file_storage.directory");
  if (ext.file_storage.compaction?.directory)
    set(ext.file_storage.compaction, "directory", queue, "extensions.file_storage.compaction.directory");
  const otlp = config.receivers.otlp.protocols;
  set(otlp.grpc, "endpoint", `127.0.0.1:${grpc}`, "receivers.otlp.grpc.endpoint");
  set(otlp.http, "endpoint", `127.0.0.1:${http}`, "receivers.otlp.http.endpoint");
  set(config.receivers.awsfirehose, "endpoint", `127.0.0.1:${firehose}`, "receivers.awsfirehose.endpoint");
  // The collector's own metrics come in on a loopback-only receiver; CloudWatch Logs on their own port.
  const selfReceiver = config.receivers["otlp/self"]?.protocols?.http;
  if (selfReceiver) set(selfReceiver, "endpoint", `127.0.0.1:${self}`, "receivers.otlp/self.http.endpoint");
  const cwlogs = config.receivers["awsfirehose/cwlogs"];
  if (cwlogs) set(cwlogs, "endpoint", `127.0.0.1:${firehoseLogs}`, "receivers.awsfirehose/cwlogs.endpoint");
  for (const [name, exporter] of Object.entries<any>(config.exporters)) {
    if (name.startsWith("prometheusremotewrite"))
      set(exporter, "endpoint", stores.writeUrl, `exporters.${name}.endpoint`);
    // The log store is not part of the journeys (their dashboards are PromQL and Jaeger): its exporter
    // keeps its queue on disk and is left pointing nowhere reachable.
    else if (name.startsWith("otlp") && !name.endsWith("/logs"))
      set(exporter, "endpoint", stores.jaegerOtlp, `exporters.${name}.endpoint`);
  }
  for (const reader of config.service.telemetry.metrics.readers) {
    if (reader.periodic?.exporter?.otlp) {
      const o = reader.periodic.exporter.otlp;
      const port = selfReceiver ? self : http;
      set(o, "endpoint", `http://127.0.0.1:${port}/v1/metrics`, "service.telemetry…otlp.endpoint");
    }
    if (reader.pull?.exporter?.prometheus)
      set(reader.pull.exporter.prometheus, "port", metrics, "service.telemetry…prometheus.port");
  }
  const text = stringify(config);
  const left = text.match(/0\.0\.0\.0:\d+|\b(promscale|jaeger|prometheus|collector):\d+/g);
  if (left) throw new Error(`addresses the journey did not map: ${left.join(", ")}`);

  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "collector.yaml");
  fs.writeFileSync(file, text);
  const log = path.join(dir, "collector.log");
  const proc = startProcess("collector", binaries().collector.path, [`--config=${file}`], log, env);
  await waitForHttp(`http://127.0.0.1:${health}${COLLECTOR_HEALTH_PATH}`, proc);
  return {
    process: proc,
    otlpUrl: `http://127.0.0.1:${http}`,
    firehoseUrl: `http://127.0.0.1:${firehose}${FIREHOSE_PATH}`,
    mappings,
    log,
  };
}
