// ShippingPhase: the gateway collector and the store behind it, on the host the user chose. Steps:
// validate → resolve defaults and secrets → describe the services (host-neutral) → render them onto
// the host → outputs. Rendering lives in components/hosts and components/shipping; this file wires.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { asArgsProblem, externalStorageProblems } from "./config";
import {
  COLLECTOR_PEER_TLS,
  COLLECTOR_PEERS_SERVICE,
  COLLECTOR_PORTS,
  COLLECTOR_SERVICE,
  collectorRoutes,
  FIREHOSE_LOGS_PATH,
  FIREHOSE_PATH,
} from "./contracts/collector";
import { hostProfile, hostProfiles } from "./hosts/profiles";
import { hostAdapter } from "./hosts/registry";
import type { ServiceSpec } from "./hosts/spec";
import { collectorService } from "./shipping/collector";
import { COLLECTOR_DEFAULTS } from "./shipping/collectorConfig";
import { logStoreService } from "./shipping/logStore";
import type { LambdaPrices } from "./shipping/logsConfig";
import {
  DATABASE_NAME,
  externalWritePorts,
  READONLY_DB_USER,
  storageEndpoints,
  storageServices,
} from "./shipping/storage";
import { DEFAULT_STORAGE, storageWarnings } from "./storageChoice";
import {
  type DockerHost,
  type Ec2Host,
  type ExternalStorage,
  Host,
  type KubernetesHost,
  Storage,
} from "./types";

export { collectorRoutes } from "./contracts/collector";

export interface ShippingPhaseArgs {
  /** Where the collector and the store run. Default: `docker`. */
  readonly host?: Host;
  /** Which store holds metrics and traces. Default: `prometheus`. */
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
  /** Whether the public front forwards `/firehose` (Firehose metrics in use). Default: true. */
  readonly firehose?: boolean;
  /** Whether the public front forwards `/firehose/logs` (CloudWatch Logs through Firehose in use). Default: true. */
  readonly firehoseLogs?: boolean;
  /** The stores you run, with storage `external`. Default: none. */
  readonly externalStorage?: ExternalStorage;
  /** Value of the auth header sent with metric writes to external storage (secret). Default: none. */
  readonly externalMetricsAuth?: pulumi.Input<string>;
  /** Value of the auth header sent with trace writes to external storage (secret). Default: none. */
  readonly externalTracesAuth?: pulumi.Input<string>;
  /** Value of the auth header sent with log writes to external storage (secret). Default: none. */
  readonly externalLogsAuth?: pulumi.Input<string>;
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
  const k = args.kubernetes;
  for (const [key, n] of [
    ["kubernetes.replicas", k?.replicas],
    ["kubernetes.autoscale.min", k?.autoscale?.min],
    ["kubernetes.autoscale.max", k?.autoscale?.max],
  ] as const) {
    if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 100)) {
      problems.push(`${key}: ${n} must be a whole number of replicas between 1 and 100`);
    }
  }
  if (k?.autoscale && k.autoscale.max < k.autoscale.min) {
    problems.push(
      `kubernetes.autoscale.max: ${k.autoscale.max} must be at least autoscale.min (${k.autoscale.min})`,
    );
  }
  const cpu = k?.autoscale?.cpuPercent;
  if (cpu !== undefined && !(Number.isInteger(cpu) && cpu >= 10 && cpu <= 100)) {
    problems.push(`kubernetes.autoscale.cpuPercent: ${cpu} must be a whole percentage between 10 and 100`);
  }
  if (k?.replicas !== undefined && k.autoscale !== undefined) {
    problems.push("kubernetes.replicas: give either replicas (a fixed count) or autoscale, not both");
  }
  // Storage external through the stack config's own schema and rules (the stores named, no credential
  // in clear text), worded for args.
  for (const problem of externalStorageProblems(args).map(asArgsProblem)) {
    const value = problem.value === undefined ? "" : ` = ${problem.value}`;
    problems.push(`${problem.key.replace(/^args\./, "")}${value}: ${problem.message} (fix: ${problem.fix})`);
  }
  const host = args.host ?? Host.Docker;
  for (const { host: other, settingsKey } of hostProfiles()) {
    if (other !== host && args[settingsKey])
      problems.push(`${settingsKey}: settings given but host is ${host}`);
  }
  return problems;
}

/** Where the collector writes with storage external, and which auth headers it sends. */
function externalStoreOptions(args: ShippingPhaseArgs) {
  const e = args.externalStorage;
  if (args.storage !== Storage.External || !e) return {};
  return {
    metricsWriteUrl: e.metricsWriteUrl,
    traceEndpoint: e.tracesEndpoint,
    logsEndpoint: e.logsEndpoint,
    tracesTls: !e.tracesInsecure,
    metricsAuthHeader:
      args.externalMetricsAuth !== undefined ? (e.metricsAuthHeader ?? "Authorization") : undefined,
    tracesAuthHeader:
      args.externalTracesAuth !== undefined ? (e.tracesAuthHeader ?? "Authorization") : undefined,
    logsAuthHeader: args.externalLogsAuth !== undefined ? (e.logsAuthHeader ?? "Authorization") : undefined,
  };
}

export class ShippingPhase extends pulumi.ComponentResource {
  /** Public HTTPS URL Firehose delivers to (ends in `/firehose`), or undefined when the host has none. */
  public readonly firehoseUrl: pulumi.Output<string | undefined>;
  /** Public HTTPS URL Firehose delivers CloudWatch Logs to (ends in `/firehose/logs`), or undefined when the host has none. */
  public readonly firehoseLogsUrl: pulumi.Output<string | undefined>;
  /** The log store's (VictoriaLogs) query URL, as reachable from services on the same host: yours with storage external. */
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
    const storage = args.storage ?? DEFAULT_STORAGE;
    for (const warning of storageWarnings(storage)) pulumi.log.warn(warning, this);

    const generated = (role: string, length: number) =>
      new random.RandomPassword(`${name}-${role}`, { length, special: false }, { parent: this }).result;
    const otlpToken = pulumi.secret(args.otlpToken ?? generated("otlp-token", 40));
    const firehoseAccessKey = pulumi.secret(args.firehoseAccessKey ?? generated("firehose-key", 40));
    const promscale = storage === Storage.Promscale;
    const databasePassword = promscale
      ? pulumi.secret(args.databasePassword ?? generated("db-password", 32))
      : undefined;
    const readonlyPassword = promscale ? pulumi.secret(generated("db-reader-password", 32)) : undefined;
    const writerPassword = promscale ? pulumi.secret(generated("db-writer-password", 32)) : undefined;

    // On a host that scales out, replicas find each other through the headless peers Service.
    const scale = hostProfile(host).gatewayScale(args);
    const samplingPercent = args.samplingPercent ?? COLLECTOR_DEFAULTS.samplingPercent;
    const services: ServiceSpec[] = [
      ...storageServices({
        storage,
        databasePassword,
        readonlyPassword,
        writerPassword,
        sizeGb: args.storageSizeGb,
      }),
      // With storage external every store is yours: the logs go to your endpoint, and no VictoriaLogs runs here.
      ...(storage === Storage.External
        ? []
        : [logStoreService({ sizeGb: args.storageSizeGb, retentionDays: args.logRetentionDays })]),
      collectorService({
        config: {
          storage,
          samplingPercent,
          ...externalStoreOptions(args),
          slowTraceMs: args.slowTraceMs ?? COLLECTOR_DEFAULTS.slowTraceMs,
          lambdaPrices: args.lambdaPrices,
          peers: scale
            ? {
                dns: { hostname: COLLECTOR_PEERS_SERVICE, port: COLLECTOR_PORTS.otlpPeers },
                tls: {
                  certFile: COLLECTOR_PEER_TLS.certPath,
                  keyFile: COLLECTOR_PEER_TLS.keyPath,
                  serverName: COLLECTOR_PEER_TLS.serverName,
                },
              }
            : undefined,
        },
        scale,
        storeAuth: {
          metrics:
            args.externalMetricsAuth === undefined ? undefined : pulumi.secret(args.externalMetricsAuth),
          traces: args.externalTracesAuth === undefined ? undefined : pulumi.secret(args.externalTracesAuth),
          logs: args.externalLogsAuth === undefined ? undefined : pulumi.secret(args.externalLogsAuth),
        },
        peerTls: scale && samplingPercent < 100 ? this.peerCertificate(name) : undefined,
        externalEgressPorts: args.externalStorage && externalWritePorts(args.externalStorage),
        otlpToken,
        firehoseAccessKey,
        image: args.collectorImage,
      }),
    ];

    const placed = hostAdapter(host).place(name, {
      settings: args,
      services,
      routes: collectorRoutes(args.firehose ?? true, args.firehoseLogs ?? true),
      ingest: { service: COLLECTOR_SERVICE, otlpHttpPort: COLLECTOR_PORTS.otlpHttp },
      parent: this,
    });
    const endpoints = storageEndpoints(storage, args.externalStorage);
    const none = pulumi.output<string | undefined>(undefined);

    this.firehoseUrl = placed.publicUrl ? placed.publicUrl.apply((u) => `${u}${FIREHOSE_PATH}`) : none;
    this.firehoseLogsUrl = placed.publicUrl
      ? placed.publicUrl.apply((u) => `${u}${FIREHOSE_LOGS_PATH}`)
      : none;
    this.logsUrl = pulumi.output(endpoints.logsUrl);
    this.otlpEndpoint = placed.publicUrl ?? placed.fallbackOtlp ?? pulumi.output("");
    this.prometheusUrl = pulumi.output(endpoints.prometheusUrl);
    this.jaegerUrl = pulumi.output(endpoints.jaegerUrl);
    this.otlpToken = otlpToken;
    this.firehoseAccessKey = firehoseAccessKey;
    this.dockerNetwork = placed.placement.dockerNetwork ?? none;
    this.kubernetesNamespace = placed.placement.kubernetesNamespace ?? none;
    this.instanceId = placed.placement.instanceId ?? none;
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

  // Replicas trust exactly this certificate on their peer port (self-signed, named after the peers
  // Service); renewed by `pulumi up` within its last 30 days, which rolls the pods through the config hash.
  private peerCertificate(name: string) {
    const key = new tls.PrivateKey(
      `${name}-peer-tls-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const cert = new tls.SelfSignedCert(
      `${name}-peer-tls-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: COLLECTOR_PEER_TLS.serverName, organization: "Firefly" },
        dnsNames: [COLLECTOR_PEER_TLS.serverName],
        validityPeriodHours: 24 * 365 * 2,
        earlyRenewalHours: 24 * 30,
        allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
      },
      { parent: this },
    );
    return { certificate: cert.certPem, privateKey: pulumi.secret(key.privateKeyPem) };
  }
}
