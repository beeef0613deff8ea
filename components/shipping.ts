// ShippingPhase: the gateway collector and the store behind it, on the host the user chose. Steps:
// validate → resolve defaults and secrets → describe the services (host-neutral) → render them onto
// the host → outputs. Rendering lives in components/hosts and components/shipping; this file wires.
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DEFAULT_BIND_ADDRESS, dockerProvider, runDockerServices } from "./hosts/docker";
import { createEc2Host } from "./hosts/ec2";
import {
  applyManifests,
  DEFAULT_NAMESPACE,
  DEFAULT_TLS_SECRET,
  kubernetesProvider,
  renderManifests,
} from "./hosts/kubernetes";
import type { HttpRoute, ServiceSpec } from "./hosts/spec";
import { COLLECTOR_SERVICE, collectorService } from "./shipping/collector";
import {
  COLLECTOR_DEFAULTS,
  COLLECTOR_PORTS,
  FIREHOSE_PATH,
  OTLP_HTTP_PATHS,
} from "./shipping/collectorConfig";
import { LOG_STORE_URL, logStoreService } from "./shipping/logStore";
import { FIREHOSE_LOGS_PATH, type LambdaPrices } from "./shipping/logsConfig";
import { DATABASE_NAME, READONLY_DB_USER, storageEndpoints, storageServices } from "./shipping/storage";
import { type DockerHost, type Ec2Host, Host, type KubernetesHost, Storage } from "./types";

export interface ShippingPhaseArgs {
  /** Where the collector and the store run. Default: `docker`. */
  readonly host?: Host;
  /** Which store holds metrics and traces. Default: `promscale`. */
  readonly storage?: Storage;
  /** Settings for the docker host. Default: the local engine, ports bound to 127.0.0.1. */
  readonly docker?: DockerHost;
  /** Settings for the ec2 host. Default: t3.medium in a default-VPC subnet, API Gateway HTTPS front. */
  readonly ec2?: Ec2Host;
  /** Settings for the kubernetes host. Default: the ambient kubeconfig, namespace `firefly`, a LoadBalancer. */
  readonly kubernetes?: KubernetesHost;
  /** Share of ordinary traces tail sampling keeps, 0–100 (errors and slow traces are always kept). Default: 100 (no tail sampling; crash-safe). */
  readonly samplingPercent?: number;
  /** Traces at least this long (ms) are always kept. Default: 1000. */
  readonly slowTraceMs?: number;
  /** Days the log store keeps logs. Default: 30. */
  readonly logRetentionDays?: number;
  /** Lambda prices for the cost built from REPORT lines. Default: LAMBDA_PRICE_DEFAULTS (AWS's public prices). */
  readonly lambdaPrices?: LambdaPrices;
  /** Collector image to run instead of the official contrib image (e.g. one built from collector/). Default: none. */
  readonly collectorImage?: string;
  /** Bearer token the Lambda layer presents to the collector. Default: generated once (40 characters) and kept. */
  readonly otlpToken?: pulumi.Input<string>;
  /** Access key Firehose presents to the collector. Default: generated once (40 characters) and kept. */
  readonly firehoseAccessKey?: pulumi.Input<string>;
  /** TimescaleDB superuser password (promscale). Default: generated once (32 characters) and kept. */
  readonly databasePassword?: pulumi.Input<string>;
  /** Size of each store's volume in GiB. Default: 20. */
  readonly storageSizeGb?: number;
}

/** Problems with the args, each naming the setting and the fix; empty when valid. Pure. */
export function validateShippingArgs(args: ShippingPhaseArgs): string[] {
  const problems: string[] = [];
  const p = args.samplingPercent;
  if (p !== undefined && !(p >= 0 && p <= 100)) {
    problems.push(`samplingPercent: ${p} must be between 0 and 100 (firefly:sampling.percent)`);
  }
  const s = args.slowTraceMs;
  if (s !== undefined && !(Number.isInteger(s) && s > 0)) {
    problems.push(`slowTraceMs: ${s} must be a positive whole number of ms (firefly:sampling.slowMs)`);
  }
  if (args.collectorImage !== undefined && !/^[\w.\-/:@]+$/.test(args.collectorImage)) {
    problems.push(
      `collectorImage: "${args.collectorImage}" is not an image reference like registry/name:tag`,
    );
  }
  if (
    args.storageSizeGb !== undefined &&
    !(Number.isInteger(args.storageSizeGb) && args.storageSizeGb >= 1)
  ) {
    problems.push(`storageSizeGb: ${args.storageSizeGb} must be a whole number of GiB ≥ 1`);
  }
  const r = args.logRetentionDays;
  if (r !== undefined && !(Number.isInteger(r) && r >= 1)) {
    problems.push(`logRetentionDays: ${r} must be a whole number of days ≥ 1`);
  }
  for (const key of ["otlpToken", "firehoseAccessKey", "databasePassword"] as const) {
    const v = args[key];
    if (typeof v === "string" && (v.length < 16 || /\s/.test(v))) {
      problems.push(
        `${key}: must be at least 16 characters without whitespace (or unset it and one is generated)`,
      );
    }
  }
  const host = args.host ?? Host.Docker;
  if (host !== Host.Docker && args.docker) problems.push(`docker: settings given but host is ${host}`);
  if (host !== Host.Ec2 && args.ec2) problems.push(`ec2: settings given but host is ${host}`);
  if (host !== Host.Kubernetes && args.kubernetes)
    problems.push(`kubernetes: settings given but host is ${host}`);
  return problems;
}

/** Paths the public HTTPS front forwards to the collector; nothing else is exposed. */
export function collectorRoutes(): HttpRoute[] {
  return [
    ...OTLP_HTTP_PATHS.map((path) => ({ path, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.otlpHttp })),
    { path: FIREHOSE_PATH, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.firehose },
    { path: FIREHOSE_LOGS_PATH, service: COLLECTOR_SERVICE, port: COLLECTOR_PORTS.firehoseLogs },
  ];
}

interface Placed {
  publicUrl?: pulumi.Output<string>;
  /** OTLP base URL when there is no public HTTPS URL (local or plain-HTTP load balancer). */
  fallbackOtlp?: pulumi.Output<string>;
  dockerNetwork?: pulumi.Output<string>;
  kubernetesNamespace?: pulumi.Output<string>;
  instanceId?: pulumi.Output<string>;
}

export class ShippingPhase extends pulumi.ComponentResource {
  /** Public HTTPS URL Firehose delivers to (ends in `/firehose`), or undefined when the host has none. */
  public readonly firehoseUrl: pulumi.Output<string | undefined>;
  /** Public HTTPS URL Firehose delivers CloudWatch Logs to (ends in `/firehose/logs`), or undefined when the host has none. */
  public readonly firehoseLogsUrl: pulumi.Output<string | undefined>;
  /** The log store's (VictoriaLogs) URL, as reachable from services on the same host. */
  public readonly logsUrl: pulumi.Output<string>;
  /** Base URL the Lambda layer sends OTLP/HTTP to (`<base>/v1/traces`). */
  public readonly otlpEndpoint: pulumi.Output<string>;
  /** Prometheus-compatible query URL, as reachable from services on the same host. */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** Jaeger-query-compatible URL, as reachable from services on the same host. */
  public readonly jaegerUrl: pulumi.Output<string>;
  /** Bearer token for OTLP (secret). */
  public readonly otlpToken: pulumi.Output<string>;
  /** Firehose access key (secret). */
  public readonly firehoseAccessKey: pulumi.Output<string>;
  /** docker: the network the services share. */
  public readonly dockerNetwork: pulumi.Output<string | undefined>;
  /** kubernetes: the namespace the services run in. */
  public readonly kubernetesNamespace: pulumi.Output<string | undefined>;
  /** ec2: the instance the services run on. */
  public readonly instanceId: pulumi.Output<string | undefined>;
  /** promscale: PostgreSQL host for Grafana's SQL datasource (same-host name). */
  public readonly postgresHost: pulumi.Output<string | undefined>;
  /** promscale: PostgreSQL port. */
  public readonly postgresPort: pulumi.Output<number | undefined>;
  /** promscale: database name. */
  public readonly postgresDatabase: pulumi.Output<string | undefined>;
  /** promscale: read-only role. */
  public readonly postgresUser: pulumi.Output<string | undefined>;
  /** promscale: read-only role's password (secret). */
  public readonly postgresPassword: pulumi.Output<string | undefined>;

  constructor(name: string, args: ShippingPhaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("firefly:index:ShippingPhase", name, {}, opts);
    const problems = validateShippingArgs(args);
    if (problems.length > 0) throw new Error(`ShippingPhase ${name}:\n- ${problems.join("\n- ")}`);
    const host = args.host ?? Host.Docker;
    const storage = args.storage ?? Storage.Promscale;

    const generated = (role: string, length: number) =>
      new random.RandomPassword(`${name}-${role}`, { length, special: false }, { parent: this }).result;
    const otlpToken = pulumi.secret(args.otlpToken ?? generated("otlp-token", 40));
    const firehoseAccessKey = pulumi.secret(args.firehoseAccessKey ?? generated("firehose-key", 40));
    const promscale = storage === Storage.Promscale;
    const databasePassword = promscale
      ? pulumi.secret(args.databasePassword ?? generated("db-password", 32))
      : undefined;
    const readonlyPassword = promscale ? pulumi.secret(generated("db-reader-password", 32)) : undefined;

    const services: ServiceSpec[] = [
      ...storageServices({ storage, databasePassword, readonlyPassword, sizeGb: args.storageSizeGb }),
      logStoreService({ sizeGb: args.storageSizeGb, retentionDays: args.logRetentionDays }),
      collectorService({
        config: {
          storage,
          samplingPercent: args.samplingPercent ?? COLLECTOR_DEFAULTS.samplingPercent,
          slowTraceMs: args.slowTraceMs ?? COLLECTOR_DEFAULTS.slowTraceMs,
          lambdaPrices: args.lambdaPrices,
        },
        otlpToken,
        firehoseAccessKey,
        image: args.collectorImage,
      }),
    ];

    const placed = this.place(name, host, args, services);
    const endpoints = storageEndpoints(storage);
    const none = pulumi.output<string | undefined>(undefined);

    this.firehoseUrl = placed.publicUrl ? placed.publicUrl.apply((u) => `${u}${FIREHOSE_PATH}`) : none;
    this.firehoseLogsUrl = placed.publicUrl
      ? placed.publicUrl.apply((u) => `${u}${FIREHOSE_LOGS_PATH}`)
      : none;
    this.logsUrl = pulumi.output(LOG_STORE_URL);
    this.otlpEndpoint = placed.publicUrl ?? placed.fallbackOtlp ?? pulumi.output("");
    this.prometheusUrl = pulumi.output(endpoints.prometheusUrl);
    this.jaegerUrl = pulumi.output(endpoints.jaegerUrl);
    this.otlpToken = otlpToken;
    this.firehoseAccessKey = firehoseAccessKey;
    this.dockerNetwork = placed.dockerNetwork ?? none;
    this.kubernetesNamespace = placed.kubernetesNamespace ?? none;
    this.instanceId = placed.instanceId ?? none;
    this.postgresHost = pulumi.output(endpoints.postgres?.host);
    this.postgresPort = pulumi.output(endpoints.postgres?.port);
    this.postgresDatabase = pulumi.output(promscale ? DATABASE_NAME : undefined);
    this.postgresUser = pulumi.output(promscale ? READONLY_DB_USER : undefined);
    this.postgresPassword = readonlyPassword ?? none;

    this.registerOutputs({
      firehoseUrl: this.firehoseUrl,
      otlpEndpoint: this.otlpEndpoint,
      firehoseLogsUrl: this.firehoseLogsUrl,
      logsUrl: this.logsUrl,
      prometheusUrl: this.prometheusUrl,
      jaegerUrl: this.jaegerUrl,
      otlpToken: this.otlpToken,
      firehoseAccessKey: this.firehoseAccessKey,
      dockerNetwork: this.dockerNetwork,
      kubernetesNamespace: this.kubernetesNamespace,
      instanceId: this.instanceId,
      postgresHost: this.postgresHost,
      postgresPort: this.postgresPort,
      postgresDatabase: this.postgresDatabase,
      postgresUser: this.postgresUser,
      postgresPassword: this.postgresPassword,
    });
  }

  private place(name: string, host: Host, args: ShippingPhaseArgs, services: ServiceSpec[]): Placed {
    switch (host) {
      case Host.Docker: {
        const d = args.docker ?? {};
        const provider = dockerProvider(name, d.engine, this);
        const network = new docker.Network(
          `${name}-network`,
          { name: `${name}-firefly`, driver: "bridge" },
          { parent: this, provider },
        );
        const bindAddress = d.bindAddress ?? DEFAULT_BIND_ADDRESS;
        runDockerServices(
          name,
          { services, placement: { prefix: name, network: network.name, bindAddress }, provider },
          this,
        );
        return {
          publicUrl: d.publicUrl ? pulumi.output(d.publicUrl.replace(/\/$/, "")) : undefined,
          fallbackOtlp: pulumi.output(`http://${bindAddress}:${COLLECTOR_PORTS.otlpHttp}`),
          dockerNetwork: network.name,
        };
      }
      case Host.Kubernetes: {
        const k = args.kubernetes ?? {};
        const provider = kubernetesProvider(name, k.kubeconfig, k.context, this);
        const ns = new k8s.core.v1.Namespace(
          `${name}-namespace`,
          { metadata: { name: k.namespace ?? DEFAULT_NAMESPACE } },
          { parent: this, provider },
        );
        const exposeWithLoadBalancer = !k.ingressHost && !k.publicUrl;
        const manifests = renderManifests(services, {
          namespace: ns.metadata.name,
          storageClass: k.storageClass,
          ingress: k.ingressHost
            ? {
                host: k.ingressHost,
                className: k.ingressClass,
                tlsSecretName: k.tlsSecretName ?? DEFAULT_TLS_SECRET,
                routes: collectorRoutes(),
              }
            : undefined,
          loadBalancers: exposeWithLoadBalancer ? [COLLECTOR_SERVICE] : [],
        });
        const created = applyManifests(name, manifests, { parent: this, provider, dependsOn: [ns] });
        const lb = created[`service-${COLLECTOR_SERVICE}-public`] as k8s.core.v1.Service | undefined;
        const publicUrl = k.publicUrl
          ? pulumi.output(k.publicUrl.replace(/\/$/, ""))
          : k.ingressHost
            ? pulumi.output(`https://${k.ingressHost}`)
            : undefined;
        return {
          publicUrl,
          // A LoadBalancer is plain HTTP: usable for OTLP inside a network, never for Firehose.
          fallbackOtlp: lb?.status.loadBalancer.ingress.apply((ingress) => {
            const first = ingress?.[0];
            return `http://${first?.hostname ?? first?.ip ?? "pending"}:${COLLECTOR_PORTS.otlpHttp}`;
          }),
          kubernetesNamespace: ns.metadata.name,
        };
      }
      case Host.Ec2: {
        const created = createEc2Host(
          name,
          { host: args.ec2 ?? {}, project: "shipping", services, routes: collectorRoutes() },
          this,
        );
        return { publicUrl: created.publicUrl, instanceId: created.instance.id };
      }
    }
  }
}
