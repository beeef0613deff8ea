// EmitPhase: everything on the AWS side that makes functions emit telemetry. Publishes the Firefly layer,
// merges it into the existing functions named in `functions` (restored on destroy), and streams
// AWS/Lambda metrics through a Metric Stream and Firehose to the collector. Functions declared in the same
// program are instrumented by `fireflyTransform` / `instrumentFunctionArgs` (exported below).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, DEFAULT_METRIC_NAMES, InstrumentationMode } from "./config";
import { InstrumentedFunction } from "./emit/existingFunction";
import { validateInstrumentationOptions } from "./emit/instrument";
import { DEFAULT_LAYER_ZIP, publishLayer, validateLayerName } from "./emit/layer";
import { createLogsDelivery, validateLogsDelivery } from "./emit/logs";
import { validateMetricNames, validateMetricsDelivery } from "./emit/metrics";
import { createMetricsDelivery } from "./emit/metricsDelivery";
import { firehoseUrlProblem, otlpEndpointProblem } from "./reachability";

export {
  fireflyTransform,
  fireflyTransformation,
  type InstrumentationInputs,
  instrumentFunctionArgs,
} from "./emit/functionArgs";
export { validateMetricsDelivery } from "./emit/metrics";

/** Defaults of {@link EmitPhaseArgs}, in one place. */
export const EMIT_DEFAULTS = {
  layerZipPath: DEFAULT_LAYER_ZIP,
  layerName: "firefly",
  instrumentation: InstrumentationMode.Handler,
  metrics: false,
  metricNames: DEFAULT_METRIC_NAMES,
  logs: false,
  logsForwardAll: false,
};

export interface EmitPhaseArgs {
  /** Path of the built layer zip. Default: the package's `layer/dist/firefly-layer.zip` (`npm run build:layer`). */
  readonly layerZipPath?: string;
  /** Name the layer is published under (one per account and region; use another per stack sharing one). Default: `firefly`. */
  readonly layerName?: string;
  /** OTLP/HTTP base URL functions send traces to (the layer appends `/v1/traces`). */
  readonly otlpEndpoint: pulumi.Input<string>;
  /** Bearer token functions present to the OTLP endpoint; kept as a secret. Default: none (no auth header). */
  readonly otlpToken?: pulumi.Input<string>;
  /** Public HTTPS URL (port 443) Firehose posts metrics to, i.e. the collector's Firehose route. Required when `metrics` is on. Default: none. */
  readonly firehoseUrl?: pulumi.Input<string>;
  /** Access key Firehose presents to the collector; kept as a secret. Required when `metrics` is on. Default: none. */
  readonly firehoseAccessKey?: pulumi.Input<string>;
  /** Names or ARNs of existing Lambda functions (not managed by this stack) to instrument. Default: none. */
  readonly functions?: string[];
  /** Stream AWS/Lambda metrics through a Metric Stream and Firehose. Default: false. */
  readonly metrics?: boolean;
  /** AWS/Lambda metric names to stream (each costs per update). Default: Invocations, Errors, Throttles, Duration, ConcurrentExecutions. */
  readonly metricNames?: string[];
  /** Forward the functions' CloudWatch Logs (Lambda's REPORT, timeout and crash lines) through Firehose to the collector. Default: false. */
  readonly logs?: boolean;
  /** Public HTTPS URL (port 443) of the collector's CloudWatch Logs route (`/firehose/logs`). Required when `logs` is on. Default: none. */
  readonly firehoseLogsUrl?: pulumi.Input<string>;
  /** Forward every log line, not only Lambda's platform lines (for functions without the layer). Default: false. */
  readonly logsForwardAll?: boolean;
  /** Names of functions declared in this program whose log groups to subscribe (existing `functions` are subscribed anyway). Default: none. */
  readonly logFunctions?: pulumi.Input<string>[];
  /** How functions load the layer. Default: `handler` (handler redirection). */
  readonly instrumentation?: InstrumentationMode;
  /** `otlpEndpoint` is a private address that every instrumented function reaches through its VPC; without it such an address is refused. Default: false. */
  readonly privateEndpoint?: boolean;
  /** `OTEL_TRACES_SAMPLER` for instrumented functions. Default: unset (the layer's default; sampling happens at the gateway). */
  readonly sampler?: string;
  /** `OTEL_TRACES_SAMPLER_ARG`. Default: unset. */
  readonly samplerArg?: string;
  /** `FIREFLY_FLUSH_TIMEOUT_MS`: longest an invocation waits for its spans to export. Default: 500 ms, as `firefly:flushTimeoutMs`. */
  readonly flushTimeoutMs?: number;
}

/** Region of a function ARN (`arn:<partition>:lambda:<region>:…`), else the stack's region. */
function functionRegion(nameOrArn: string, stackRegion: pulumi.Output<string>): pulumi.Input<string> {
  const parts = nameOrArn.split(":");
  return nameOrArn.startsWith("arn:") ? parts[3] : stackRegion;
}

/**
 * A function reference without its version or alias qualifier. Only $LATEST's configuration can change:
 * published versions are immutable, so an alias reaches the instrumented code once a new version is
 * published and the alias moved to it.
 */
export function unqualified(nameOrArn: string): { fn: string; qualifier?: string } {
  const parts = nameOrArn.split(":");
  const i = parts.indexOf("function");
  if (i < 0 || parts.length <= i + 2) return { fn: nameOrArn };
  return { fn: parts.slice(0, i + 2).join(":"), qualifier: parts[i + 2] };
}

/**
 * Resource names for the listed functions: the function's name alone, so switching between name and ARN
 * keeps the same resource (and its state). Same-named functions in different regions (both given as ARNs)
 * get the region appended; a name listed twice, or a bare name beside an ARN of that name, is refused.
 */
export function functionResourceNames(functions: readonly string[]): string[] {
  const parsed = functions.map((f) => {
    const parts = f.split(":");
    const i = parts.indexOf("function");
    return i < 0
      ? { short: f, region: undefined }
      : { short: parts[i + 1], region: f.startsWith("arn:") ? parts[3] : undefined };
  });
  return parsed.map(({ short, region }) => {
    const same = parsed.filter((p) => p.short === short);
    if (same.length === 1) return short;
    const regions = same.map((p) => p.region);
    if (regions.includes(undefined) || new Set(regions).size < regions.length) {
      throw new Error(
        `EmitPhase functions lists the function ${short} more than once (${functions
          .filter((_, j) => parsed[j].short === short)
          .join(", ")}). List it once; functions of that name in several regions need full ARNs.`,
      );
    }
    return `${short}-${region}`;
  });
}

/**
 * Refuses endpoints Lambda cannot reach (loopback, link-local, bind-all, none), a private one unless
 * `privateEndpoint` says the functions' VPC routes there, the token over plain HTTP to a public address,
 * and a Firehose URL that is not public. Pure; values known only at deployment (Outputs) are left out.
 */
export function validateEndpoints(
  args: Pick<EmitPhaseArgs, "otlpEndpoint" | "firehoseUrl" | "privateEndpoint" | "metrics">,
): void {
  const problems: string[] = [];
  if (typeof args.otlpEndpoint === "string" || args.otlpEndpoint === undefined) {
    const why = otlpEndpointProblem(args.otlpEndpoint, args.privateEndpoint ?? false);
    if (why)
      problems.push(
        `EmitPhase otlpEndpoint: ${why}. Give an https:// URL Lambda reaches${/private address/.test(why) ? ", or set privateEndpoint: true when every instrumented function runs in a VPC that routes there" : ""}.`,
      );
  }
  if (args.metrics && typeof args.firehoseUrl === "string") {
    const why = firehoseUrlProblem(args.firehoseUrl);
    if (why) problems.push(`EmitPhase firehoseUrl: ${why}. Give a public https:// URL on port 443.`);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

// Set by the component provider's entry (provider.ts): the components are then being constructed for a
// program in another language. A global symbol, so every copy of this module in the process agrees.
const SERVED_TO_OTHER_LANGUAGES = Symbol.for("@firefly-o11y/firefly.servedToOtherLanguages");

/** Marks this process as the component provider serving Python, Go, .NET, Java and YAML programs. */
export function markServedToOtherLanguages(): void {
  (globalThis as Record<symbol, unknown>)[SERVED_TO_OTHER_LANGUAGES] = true;
}

/**
 * Existing-function instrumentation is a dynamic provider, which Pulumi cannot load from a component
 * package used by another language (pulumi/pulumi#5455): refuse `functions` there before any resource
 * exists, instead of failing at deployment.
 */
export function refuseFunctionsFromOtherLanguages(functions: unknown): void {
  if (!(globalThis as Record<symbol, unknown>)[SERVED_TO_OTHER_LANGUAGES]) return;
  if (functions === undefined || (Array.isArray(functions) && functions.length === 0)) return;
  throw new ConfigError([
    {
      key: "args.functions",
      value: Array.isArray(functions) ? functions.join(",") : undefined,
      message:
        "instrumenting existing functions works only from TypeScript/JavaScript programs: it uses a Pulumi " +
        "dynamic provider, which a component package used from Python, Go, .NET, Java or YAML cannot load " +
        "(pulumi/pulumi#5455)",
      fix:
        "remove args.functions; list the functions in firefly:functions of the firefly program instead, or " +
        "give your own functions the layer (the layerArn output) and the environment in docs/layer.md",
    },
  ]);
}

export class EmitPhase extends pulumi.ComponentResource {
  /** Versioned ARN of the published Firefly layer. */
  public readonly layerArn: pulumi.Output<string>;
  /** ARNs of the existing functions that were instrumented. */
  public readonly instrumentedFunctions: pulumi.Output<string[]>;
  /** Existing functions left uninstrumented, ARN → why (image package, non-Node.js runtime…). */
  public readonly skippedFunctions: pulumi.Output<Record<string, string>>;
  /** ARN of the Firehose delivery stream, when metrics are on. */
  public readonly deliveryStreamArn: pulumi.Output<string | undefined>;
  /** Name of the CloudWatch Metric Stream, when metrics are on. */
  public readonly metricStreamName: pulumi.Output<string | undefined>;
  /** ARNs of the CloudWatch Logs Firehose streams (x86_64, arm64), when logs are on. */
  public readonly logDeliveryStreamArns: pulumi.Output<string[]>;

  constructor(name: string, args: EmitPhaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("firefly:index:EmitPhase", name, {}, opts);

    // Validate everything before the first resource exists.
    refuseFunctionsFromOtherLanguages(args.functions);
    const metrics = args.metrics ?? EMIT_DEFAULTS.metrics;
    validateMetricsDelivery({
      metrics,
      firehoseUrl: args.firehoseUrl,
      firehoseAccessKey: args.firehoseAccessKey,
    });
    const logs = args.logs ?? EMIT_DEFAULTS.logs;
    validateLogsDelivery({
      logs,
      firehoseLogsUrl: args.firehoseLogsUrl,
      firehoseAccessKey: args.firehoseAccessKey,
    });
    const metricNames = validateMetricNames(args.metricNames ?? EMIT_DEFAULTS.metricNames);
    validateInstrumentationOptions(args);
    validateEndpoints(args);
    const layerName = validateLayerName(args.layerName ?? EMIT_DEFAULTS.layerName);
    const functions = [...new Set((args.functions ?? []).map((f) => unqualified(f).fn))];
    const resourceNames = functionResourceNames(functions);

    for (const f of args.functions ?? []) {
      const { fn, qualifier } = unqualified(f);
      if (qualifier && qualifier !== "$LATEST") {
        pulumi.log.warn(
          `Firefly instruments ${fn} ($LATEST), not its qualifier ${qualifier}: published versions cannot change. ` +
            `Publish a new version (and point ${qualifier} at it) to run the instrumented configuration.`,
          this,
        );
      }
    }

    const layer = publishLayer(name, layerName, args.layerZipPath ?? EMIT_DEFAULTS.layerZipPath, this);
    const settings = {
      layerArn: layer.arn,
      mode: args.instrumentation ?? EMIT_DEFAULTS.instrumentation,
      otlpEndpoint: args.otlpEndpoint,
      otlpToken: args.otlpToken === undefined ? undefined : pulumi.secret(args.otlpToken),
      sampler: args.sampler,
      samplerArg: args.samplerArg,
      flushTimeoutMs: args.flushTimeoutMs,
    };

    const stackRegion = aws.getRegionOutput({}, { parent: this }).region;
    const instrumented = functions.map(
      (fn, i) =>
        new InstrumentedFunction(
          `${name}-fn-${resourceNames[i]}`,
          { functionName: fn, region: functionRegion(fn, stackRegion), settings },
          { parent: this },
        ),
    );
    const outcomes = pulumi.all(instrumented.map((f) => pulumi.all([f.functionArn, f.skipped])));
    this.instrumentedFunctions = outcomes.apply((results) => {
      for (const [arn, why] of results) {
        if (why) pulumi.log.warn(`Firefly leaves Lambda function ${arn} uninstrumented: ${why}.`, this);
      }
      return results.filter(([, why]) => !why).map(([arn]) => arn);
    });
    this.skippedFunctions = outcomes.apply((results) => Object.fromEntries(results.filter(([, why]) => why)));

    const delivery = metrics
      ? createMetricsDelivery(
          name,
          { firehoseUrl: args.firehoseUrl!, firehoseAccessKey: args.firehoseAccessKey!, metricNames },
          this,
        )
      : undefined;

    const logDelivery = logs
      ? createLogsDelivery(
          name,
          {
            firehoseLogsUrl: args.firehoseLogsUrl!,
            firehoseAccessKey: args.firehoseAccessKey!,
            forwardAll: args.logsForwardAll ?? EMIT_DEFAULTS.logsForwardAll,
            functions: [
              ...functions.map((fn, i) => ({ resourceName: resourceNames[i], functionName: fn })),
              ...(args.logFunctions ?? []).map((fn, i) => ({ resourceName: `stack-${i}`, functionName: fn })),
            ],
          },
          this,
        )
      : undefined;

    this.layerArn = layer.arn;
    this.logDeliveryStreamArns = pulumi.all(logDelivery?.deliveryStreams.map((s) => s.arn) ?? []);
    this.deliveryStreamArn = pulumi.output(delivery?.deliveryStream.arn);
    this.metricStreamName = pulumi.output(delivery?.metricStream.name);
    this.registerOutputs({
      layerArn: this.layerArn,
      instrumentedFunctions: this.instrumentedFunctions,
      skippedFunctions: this.skippedFunctions,
      deliveryStreamArn: this.deliveryStreamArn,
      metricStreamName: this.metricStreamName,
      logDeliveryStreamArns: this.logDeliveryStreamArns,
    });
  }
}
