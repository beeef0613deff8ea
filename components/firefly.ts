// Firefly: the whole pipeline in one component. Shipping (collector + storage) goes on the chosen host
// first, Grafana lands beside it, and the emit side points the Lambda layer and the Firehose stream at
// the collector's public endpoints. Each phase is also usable alone; this only wires them together.

import * as pulumi from "@pulumi/pulumi";
import { asArgsProblem, ConfigError, type InstrumentationMode, SETTINGS, validateConfig } from "./config";
import { EmitPhase, refuseFunctionsFromOtherLanguages } from "./emit";
import { hostProfile, settingsFor } from "./hosts/profiles";
import { type Alerts, PresentationPhase, type Smtp } from "./presentation";
import { ShippingPhase } from "./shipping";
import type { LambdaPrices } from "./shipping/logsConfig";
import { DEFAULT_STORAGE } from "./storageChoice";
import {
  type DockerHost,
  type Ec2Host,
  type ExternalStorage,
  Host,
  type KubernetesHost,
  Storage,
} from "./types";

/** Tail sampling at the gateway. Errors are always kept. */
export interface Sampling {
  /** Share of ordinary traces kept, 0–100. Default: 100 (every trace; nothing held in memory, so crash-safe). */
  readonly percent?: number;
  /** Traces at least this long (ms) are always kept. Default: 1000. */
  readonly slowMs?: number;
}

export interface FireflyArgs {
  /** Where the collector, the store and Grafana run. Default: `docker`. */
  readonly host?: Host;
  /** Which store holds metrics and traces. Default: `prometheus` (promscale is end of life). */
  readonly storage?: Storage;
  /** Settings for the docker host. Default: the local engine, ports bound to 127.0.0.1. */
  readonly docker?: DockerHost;
  /** Settings for the ec2 host. Default: t3.medium in a default-VPC subnet behind an API Gateway HTTPS front. */
  readonly ec2?: Ec2Host;
  /** Settings for the kubernetes host. Default: the ambient kubeconfig, namespace `firefly`. */
  readonly kubernetes?: KubernetesHost;
  /** Names or ARNs of existing Lambda functions (not managed by this program) to instrument. Default: none. */
  readonly functions?: string[];
  /** Stream CloudWatch AWS/Lambda metrics through a Metric Stream and Firehose (needs a public HTTPS endpoint). Default: false. */
  readonly metrics?: boolean;
  /** Forward the functions' CloudWatch Logs (Lambda's REPORT, timeout and crash lines) through Firehose to the log store and REPORT metrics (needs a public HTTPS endpoint). Default: false. */
  readonly logs?: boolean;
  /** With `logs`, forward every log line, not only Lambda's own (for functions without the layer). Default: false. */
  readonly logsForwardAll?: boolean;
  /** AWS/Lambda metric names the stream includes. Default: Invocations, Errors, Throttles, Duration, ConcurrentExecutions. */
  readonly metricNames?: string[];
  /** How instrumented functions load the layer. Default: `handler` (handler redirection). */
  readonly instrumentation?: InstrumentationMode;
  /**
   * The collector's address is private (e.g. docker `bindAddress` 10.0.0.5) and every instrumented function
   * runs in a VPC that routes there; without it such an address is refused. Default: false.
   */
  readonly privateEndpoint?: boolean;
  /** Longest time (ms) an invocation waits for its spans to be exported. Default: 500. */
  readonly flushTimeoutMs?: number;
  /** Tail sampling at the gateway. Default: keep every trace. Below 100%, errors and traces over `slowMs` are still kept. */
  readonly sampling?: Sampling;
  /** Lambda prices for the cost built from REPORT lines. Default: AWS's public on-demand prices (x86_64 $0.0000166667 and arm64 $0.0000133334 per GB-second, $0.0000002 per request). */
  readonly lambdaPrices?: LambdaPrices;
  /** Alert thresholds and email contact point. Default: the thresholds in `Alerts`, no contact point. */
  readonly alerts?: Alerts;
  /** Mail relay for alert emails. Required with `alerts.emails`. Default: none. */
  readonly smtp?: Smtp;
  /** Grafana admin password (secret). Default: generated once and kept across updates. */
  readonly grafanaAdminPassword?: pulumi.Input<string>;
  /** Bearer token functions present to the OTLP endpoint (secret). Default: generated once and kept. */
  readonly otlpToken?: pulumi.Input<string>;
  /** Access key Firehose presents to the collector (secret). Default: generated once and kept. */
  readonly firehoseAccessKey?: pulumi.Input<string>;
  /** Storage database password (secret, promscale only). Default: generated once and kept. */
  readonly databasePassword?: pulumi.Input<string>;
  /** The stores you run, with storage `external` (Firefly then deploys only the gateway and Grafana). Default: none. */
  readonly externalStorage?: ExternalStorage;
  /** Value of the auth header on metric writes to external storage (secret). Default: none. */
  readonly externalMetricsAuth?: pulumi.Input<string>;
  /** Value of the auth header on trace writes to external storage (secret). Default: none. */
  readonly externalTracesAuth?: pulumi.Input<string>;
  /** Value of the auth header on log writes to external storage (secret). Default: none. */
  readonly externalLogsAuth?: pulumi.Input<string>;
  /** Path of the built layer zip. Default: the package's `layer/dist/firefly-layer.zip`. */
  readonly layerZipPath?: string;
}

/** Values known now: Outputs and promises resolve only at deployment, so validation leaves them out. */
const known = (v: unknown) => v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);

/**
 * Validate component args with the same rules as stack config, so a program using the component gets the
 * same errors the `firefly` program gives; only the fix line speaks in args instead of `pulumi config`.
 */
export function validateFireflyArgs(args: FireflyArgs): void {
  // Args carry the mail relay's password inside `smtp`; stack config keeps it apart as a secret.
  const { smtp, ...rest } = args;
  const given: Record<string, unknown> = {
    ...rest,
    smtp: smtp && { host: smtp.host, user: smtp.user, fromAddress: smtp.fromAddress },
    smtpPassword: smtp?.password,
  };
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [key, setting] of Object.entries(SETTINGS) as [string, { kind: string; secret?: boolean }][]) {
    const v = given[key];
    if (!known(v)) continue;
    if (setting.secret) secretKeys.add(key);
    const structured =
      typeof v === "object" && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).filter(([, x]) => known(x)))
        : v;
    values[key] = setting.kind === "string" ? String(v) : JSON.stringify(structured);
  }
  try {
    validateConfig({ values, secretKeys });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.problems.map(asArgsProblem));
  }
}

export class Firefly extends pulumi.ComponentResource {
  /** Grafana's URL. */
  public readonly grafanaUrl: pulumi.Output<string>;
  /** Grafana's admin password (secret). */
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  /** OTLP/HTTP base URL functions export to. */
  public readonly otlpEndpoint: pulumi.Output<string>;
  /** Bearer token for the OTLP endpoint (secret). */
  public readonly otlpToken: pulumi.Output<string>;
  /** Public HTTPS URL Firehose delivers metrics to, when the host has one. */
  public readonly firehoseUrl: pulumi.Output<string | undefined>;
  /** PromQL URL as reachable from services on the host. */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** Jaeger query URL as reachable from services on the host. */
  public readonly jaegerUrl: pulumi.Output<string>;
  /** ARN of the published layer version. */
  public readonly layerArn: pulumi.Output<string>;
  /** Existing functions instrumented by this stack. */
  public readonly instrumentedFunctions: pulumi.Output<string[]>;
  /** Existing functions left uninstrumented, ARN → why. */
  public readonly skippedFunctions: pulumi.Output<Record<string, string>>;
  /** Firehose delivery stream ARN, when `metrics` is on. */
  public readonly deliveryStreamArn: pulumi.Output<string | undefined>;
  /** CloudWatch Metric Stream name, when `metrics` is on. */
  public readonly metricStreamName: pulumi.Output<string | undefined>;
  /** ec2: the instance's id, the target of SSM port forwarding to Grafana; undefined on other hosts. */
  public readonly instanceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: FireflyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("firefly:index:Firefly", name, {}, opts);
    validateFireflyArgs(args);
    refuseFunctionsFromOtherLanguages(args.functions);

    const host = args.host ?? Host.Docker;
    const storage = args.storage ?? DEFAULT_STORAGE;
    // Only the chosen host's settings travel on: the phases refuse settings for another host.
    const hostArgs = { host, ...settingsFor(host, args) };
    const placementFact = hostProfile(host).placementFact.field;

    const shipping = new ShippingPhase(
      `${name}-shipping`,
      {
        ...hostArgs,
        storage,
        samplingPercent: args.sampling?.percent,
        slowTraceMs: args.sampling?.slowMs,
        lambdaPrices: args.lambdaPrices,
        otlpToken: args.otlpToken,
        firehoseAccessKey: args.firehoseAccessKey,
        databasePassword: args.databasePassword,
        // The front forwards /firehose only when metrics flow through it.
        firehose: args.metrics ?? false,
        firehoseLogs: args.logs ?? false,
        externalStorage: args.externalStorage,
        externalMetricsAuth: args.externalMetricsAuth,
        externalTracesAuth: args.externalTracesAuth,
        externalLogsAuth: args.externalLogsAuth,
      },
      { parent: this },
    );

    const required = (o: pulumi.Output<string | undefined>) => o.apply((v) => v ?? "");
    const presentation = new PresentationPhase(
      `${name}-presentation`,
      {
        ...hostArgs,
        storage,
        // Grafana lands beside the pipeline: the one placement fact this host hands on.
        [placementFact]: required(shipping[placementFact]),
        prometheusUrl: shipping.prometheusUrl,
        jaegerUrl: shipping.jaegerUrl,
        logsUrl: shipping.logsUrl,
        postgres:
          storage === Storage.Promscale
            ? {
                host: required(shipping.postgresHost),
                port: shipping.postgresPort.apply((p) => p ?? 5432),
                database: required(shipping.postgresDatabase),
                user: required(shipping.postgresUser),
                password: pulumi.secret(required(shipping.postgresPassword)),
              }
            : undefined,
        adminPassword: args.grafanaAdminPassword,
        alerts: args.alerts,
        smtp: args.smtp,
        // Their timeouts (read from AWS) set the p99-near-timeout alert.
        functions: args.functions,
      },
      { parent: this },
    );

    const emit = new EmitPhase(
      `${name}-emit`,
      {
        layerZipPath: args.layerZipPath,
        otlpEndpoint: shipping.otlpEndpoint,
        otlpToken: shipping.otlpToken,
        firehoseUrl: args.metrics ? required(shipping.firehoseUrl) : undefined,
        firehoseAccessKey: args.metrics || args.logs ? shipping.firehoseAccessKey : undefined,
        firehoseLogsUrl: args.logs ? required(shipping.firehoseLogsUrl) : undefined,
        logs: args.logs,
        logsForwardAll: args.logsForwardAll,
        functions: args.functions,
        metrics: args.metrics,
        metricNames: args.metricNames,
        instrumentation: args.instrumentation,
        privateEndpoint: args.privateEndpoint,
        flushTimeoutMs: args.flushTimeoutMs ?? SETTINGS.flushTimeoutMs.default,
      },
      { parent: this },
    );

    this.grafanaUrl = presentation.grafanaUrl;
    this.grafanaAdminPassword = presentation.grafanaAdminPassword;
    this.otlpEndpoint = shipping.otlpEndpoint;
    this.otlpToken = shipping.otlpToken;
    this.firehoseUrl = shipping.firehoseUrl;
    this.prometheusUrl = shipping.prometheusUrl;
    this.jaegerUrl = shipping.jaegerUrl;
    this.layerArn = emit.layerArn;
    this.instrumentedFunctions = emit.instrumentedFunctions;
    this.skippedFunctions = emit.skippedFunctions;
    this.deliveryStreamArn = emit.deliveryStreamArn;
    this.metricStreamName = emit.metricStreamName;
    this.instanceId = shipping.instanceId;

    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
      otlpEndpoint: this.otlpEndpoint,
      otlpToken: this.otlpToken,
      firehoseUrl: this.firehoseUrl,
      prometheusUrl: this.prometheusUrl,
      jaegerUrl: this.jaegerUrl,
      layerArn: this.layerArn,
      instrumentedFunctions: this.instrumentedFunctions,
      skippedFunctions: this.skippedFunctions,
      deliveryStreamArn: this.deliveryStreamArn,
      metricStreamName: this.metricStreamName,
      instanceId: this.instanceId,
    });
  }
}
