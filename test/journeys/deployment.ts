// What a deployment of the Firefly program would hand each part, read from the resources the program
// registers under Pulumi mocks (the mocks stand in for the engine and the cloud providers only):
// - the instrumented function: the settings the existing-function resource carries, merged into a
//   function's configuration by the same pure rule the provider applies at deployment;
// - the collector: its rendered config file and its secrets as environment, wherever the host puts
//   them (a container's uploads and env, a ConfigMap and a Secret, or cloud-init/S3 scripts and an SSM
//   parameter on ec2);
// - Grafana: the provisioned dashboards and alert rules, from the same places;
// - Firehose: the delivery stream's URL and access key, and the metric stream's metric names.
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { COLLECTOR_SECRET_ENV } from "../../components/shipping/collectorConfig";
import { plain } from "../emit/rpc";
import { loadProgram } from "../hosts/programUnderMocks";
import { ACCOUNT, ofType, recorded, settle } from "../shipping/mocks";

export interface Deployment {
  outputs: Record<string, unknown>;
  /** Settings of each existing-function resource (firefly:functions), by function name. */
  functionSettings: Record<string, any>;
  collector: { yaml: string; env: Record<string, string> };
  dashboards: Record<string, any>;
  /** Grafana's alerting provisioning file (YAML), as provisioned. */
  alerting: string;
  firehose?: { url: string; accessKey: string };
  metricStream?: { metricNames: string[]; outputFormat: string; statistics: string[] };
  /**
   * What the host's public HTTPS front forwards, path → collector port: API Gateway routes (ec2) or
   * Ingress paths (kubernetes). Empty where the front is the user's own (docker.publicUrl).
   */
  frontRoutes: Record<string, number>;
}

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

/** Runs index.ts with this stack config, as `pulumi up` would, and reads what each part would get. */
export async function deploy(config: Record<string, string>, secretKeys: string[] = []): Promise<Deployment> {
  const stack = loadProgram(config, secretKeys, {
    functionTimeout: 3,
    state(args) {
      const inputs = plain(args.inputs);
      // Every resource has an ARN once created; some inputs (IAM policies) wait for them.
      if (args.type.startsWith("aws:") && inputs.arn === undefined && !args.type.includes("LayerVersion"))
        return { arn: `arn:aws:${args.type.split(/[:/]/)[1]}:eu-west-1:${ACCOUNT}:${args.name}` };
      return undefined;
    },
  });
  try {
    const outputs: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(stack)) outputs[k] = await value(o);
    // Some resources register only after Outputs resolve (e.g. alert rules wait for the functions'
    // timeouts): settle, and read again until everything is there.
    for (let attempt = 0; ; attempt++) {
      await settle(300);
      try {
        return read(outputs);
      } catch (error) {
        if (attempt >= 20) throw error;
      }
    }
  } finally {
    pulumi.runtime.setAllConfig({}, []);
  }
}

function read(outputs: Record<string, unknown>): Deployment {
  const functionSettings: Record<string, any> = {};
  for (const r of recorded.filter((x) => x.type === "pulumi-nodejs:dynamic/firefly:InstrumentedFunction")) {
    const inputs = plain(r.inputs);
    functionSettings[inputs.functionName] = inputs.settings;
  }
  const files = allFiles();
  const collectorYaml = files.filter((f) => /bearertokenauth\/otlp:/.test(f) && /^receivers:/m.test(f));
  if (collectorYaml.length === 0) throw new Error("no collector config among the registered resources");
  if (new Set(collectorYaml).size !== 1) throw new Error("more than one distinct collector config");
  const dashboards: Record<string, any> = {};
  for (const f of files) {
    if (!f.trimStart().startsWith("{")) continue;
    try {
      const d = JSON.parse(f);
      if (Array.isArray(d.panels) && typeof d.uid === "string") dashboards[d.uid] = d;
    } catch {
      // not a dashboard
    }
  }
  const alerting = files.find((f) => /^groups:/m.test(f) && /datasourceUid/.test(f));
  if (!alerting) throw new Error("no provisioned alert rules among the registered resources");

  const firehoseStream = ofType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")[0];
  const endpoint = firehoseStream && plain(firehoseStream.inputs).httpEndpointConfiguration;
  const stream = ofType("aws:cloudwatch/metricStream:MetricStream")[0];
  const streamInputs = stream && plain(stream.inputs);
  return {
    outputs,
    frontRoutes: frontRoutes(),
    functionSettings,
    collector: { yaml: collectorYaml[0], env: collectorEnv() },
    dashboards,
    alerting,
    firehose: endpoint && { url: endpoint.url, accessKey: endpoint.accessKey },
    metricStream: streamInputs && {
      metricNames: streamInputs.includeFilters.flatMap((f: any) => f.metricNames),
      outputFormat: streamInputs.outputFormat,
      statistics: (streamInputs.statisticsConfigurations ?? []).flatMap((c: any) => c.additionalStatistics),
    },
  };
}

function frontRoutes(): Record<string, number> {
  const routes: Record<string, number> = {};
  // The mocks give each resource the id `<name>-id`.
  const integrations = new Map(
    ofType("aws:apigatewayv2/integration:Integration").map((r) => [`${r.name}-id`, r]),
  );
  for (const r of ofType("aws:apigatewayv2/route:Route")) {
    const route = plain(r.inputs);
    const integration = integrations.get(route.target.replace(/^integrations\//, ""));
    // The integration targets a Cloud Map service; its instance carries the host port.
    const serviceName = String(plain(integration?.inputs ?? {}).integrationUri ?? "")
      .split(":")
      .pop();
    const instance = ofType("aws:servicediscovery/instance:Instance").find(
      (i) => plain(i.inputs).serviceId === `${serviceName}-id`,
    );
    const port = Number(plain(instance?.inputs ?? {}).attributes?.AWS_INSTANCE_PORT);
    routes[route.routeKey.replace(/^\S+ /, "")] = port;
  }
  for (const r of ofType("kubernetes:networking.k8s.io/v1:Ingress")) {
    for (const rule of plain(r.inputs).spec.rules)
      for (const p of rule.http.paths) routes[p.path] = p.backend.service.port.number;
  }
  return routes;
}

/** Every file content a host would lay down: plain strings, and the gzip/base64 heredocs of ec2's scripts. */
function allFiles(): string[] {
  const out: string[] = [];
  const text = (s: string) => {
    out.push(s);
    if (s.startsWith("H4sI")) {
      try {
        text(gunzipSync(Buffer.from(s, "base64")).toString("utf8"));
      } catch {
        // not gzip
      }
    }
    // ec2 keeps secret files as one JSON document in an SSM parameter.
    if (s.startsWith("{") && !s.includes('"panels"')) {
      try {
        const doc = JSON.parse(s);
        if (doc && typeof doc === "object")
          for (const v of Object.values(doc)) if (typeof v === "string") text(v);
      } catch {
        // not JSON
      }
    }
    for (const m of s.matchAll(/<<'FIREFLY_B64' \| gunzip > "[^"]+"\n([\s\S]*?)\nFIREFLY_B64/g)) {
      text(gunzipSync(Buffer.from(m[1].replace(/\n/g, ""), "base64")).toString("utf8"));
    }
  };
  const walk = (v: unknown): void => {
    if (typeof v === "string") text(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const r of recorded) walk(plain(r.inputs));
  return out;
}

/** The collector's secret environment, as its host passes it. */
function collectorEnv(): Record<string, string> {
  const names = Object.values(COLLECTOR_SECRET_ENV) as string[];
  const env: Record<string, string> = {};
  const take = (k: string, v: unknown) => {
    if (!names.includes(k) || typeof v !== "string") return;
    if (env[k] !== undefined && env[k] !== v) throw new Error(`two different values of ${k} on the host`);
    env[k] = v;
  };
  for (const r of recorded) {
    const inputs = plain(r.inputs);
    // Found by what they hold, not by resource names, which hosts are free to change.
    if (r.type === "docker:index/container:Container")
      for (const kv of inputs.envs ?? []) take(kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1));
    if (r.type === "kubernetes:core/v1:Secret")
      for (const [k, v] of Object.entries(inputs.stringData ?? {})) take(k, v);
    if (r.type === "aws:ssm/parameter:Parameter" && typeof inputs.value === "string") {
      let files: Record<string, string>;
      try {
        files = JSON.parse(inputs.value);
      } catch {
        continue;
      }
      for (const content of Object.values(files)) {
        if (typeof content !== "string") continue;
        for (const line of content.split("\n"))
          if (line.includes("=")) take(line.split("=")[0], line.slice(line.indexOf("=") + 1));
      }
    }
  }
  for (const n of names) if (!env[n]) throw new Error(`the collector gets no ${n} from its host`);
  return env;
}

/** Grafana's alert rules: uid → PromQL of each Prometheus query, as provisioned. */
export function provisionedAlerts(alerting: string, prometheusUid: string): { uid: string; expr: string }[] {
  const file = parse(alerting);
  return file.groups.flatMap((g: any) =>
    g.rules.flatMap((r: any) =>
      r.data
        .filter((q: any) => q.datasourceUid === prometheusUid)
        .map((q: any) => ({ uid: r.uid, expr: q.model.expr as string })),
    ),
  );
}
