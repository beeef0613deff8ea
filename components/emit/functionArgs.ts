// Instrumentation for functions declared in the same Pulumi program: `instrumentFunctionArgs` for
// `new aws.lambda.Function(name, instrumentFunctionArgs(args, settings))`, and `fireflyTransform` to do the
// same for every function in a stack. Both apply `mergeConfiguration` to the resolved values, so the
// function keeps its own env vars and layers, and the OTLP token stays a secret.
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { InstrumentationMode } from "../config";
import {
  type FunctionConfig,
  type InstrumentationSettings,
  mergeConfiguration,
  mergeLayers,
  OPT_OUT_TAG,
  skipReason,
} from "./instrument";

/** Instrumentation settings as Pulumi inputs (the layer ARN and endpoint are usually outputs). */
export interface InstrumentationInputs {
  readonly layerArn: pulumi.Input<string>;
  readonly mode: InstrumentationMode;
  readonly otlpEndpoint: pulumi.Input<string>;
  readonly otlpToken?: pulumi.Input<string>;
  readonly sampler?: pulumi.Input<string>;
  readonly samplerArg?: pulumi.Input<string>;
  readonly flushTimeoutMs?: pulumi.Input<number>;
}

/** Called with a message when a function is left alone; defaults to a Pulumi warning. */
export type SkipReporter = (message: string) => void;

const warn: SkipReporter = (message) => pulumi.log.warn(message);

// Plain layer lists are checked now, so a function over the limit fails before anything is created;
// outputs are checked once known, inside `mergeConfiguration`.
function precheckLayers(functionName: string, layers: unknown, layerArn: unknown): void {
  if (!Array.isArray(layers) || !layers.every((l) => typeof l === "string")) return;
  mergeLayers(functionName, layers, typeof layerArn === "string" ? layerArn : "firefly-layer-not-yet-known");
}

/** How a warning names a function whose args carry no plain name (the resource name is not in its args). */
export function describeFunction(args: aws.lambda.FunctionArgs): string {
  if (typeof args.name === "string") return args.name;
  const handler = typeof args.handler === "string" ? ` with handler "${args.handler}"` : "";
  const runtime = typeof args.runtime === "string" ? ` on ${args.runtime}` : "";
  return `(a function${handler}${runtime}: pass its resource name as instrumentFunctionArgs' third argument to name it here)`;
}

/**
 * Return `args` with the Firefly layer, handler redirection (or exec wrapper) and env vars merged in.
 * Existing env vars and layers are kept; a function that already sets one of Firefly's wiring variables
 * differently, or would exceed 5 layers or 4 KB of env, is refused with an Error saying so. Image-based
 * and non-Node.js functions are returned unchanged, and `onSkip` says why.
 */
export function instrumentFunctionArgs(
  args: aws.lambda.FunctionArgs,
  settings: InstrumentationInputs,
  functionName: string = describeFunction(args),
  onSkip: SkipReporter = warn,
): aws.lambda.FunctionArgs {
  const skip = skipReason(args.runtime, args.packageType ?? "Zip");
  if (skip) {
    onSkip(`Firefly leaves Lambda function ${functionName} uninstrumented: ${skip}.`);
    return args;
  }
  precheckLayers(functionName, args.layers, settings.layerArn);

  const merged = pulumi
    .all([args.handler, args.environment, args.layers, pulumi.output(settings)])
    .apply(([handler, environment, layers, s]) => {
      const current: FunctionConfig = {
        handler,
        env: { ...((environment?.variables as Record<string, string> | undefined) ?? {}) },
        layers: layers ?? [],
      };
      const config = mergeConfiguration(functionName, current, s as InstrumentationSettings);
      return { config, environment: { ...environment, variables: config.env } };
    });

  return {
    ...args,
    // Handler and layers hold nothing secret: keep them readable in previews even when the env is secret.
    handler: pulumi.unsecret(merged.apply((m) => m.config.handler!)),
    layers: pulumi.unsecret(merged.apply((m) => m.config.layers)),
    // The whole environment becomes a secret when it carries the token: Pulumi cannot mark one variable.
    environment: merged.apply((m) => m.environment),
  };
}

// Transform inputs arrive deserialized: secrets as RPC secret wrappers. Turn them back into secret
// outputs so the merged values keep their secrecy when serialized again.
function revive(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value))
    return pulumi.secret(revive(pulumi.runtime.unwrapRpcSecret(value)) as any);
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

/** Whether a function's tags opt it out (`firefly:instrument=false`). */
export function optedOut(tags: unknown): boolean {
  if (tags === null || typeof tags !== "object") return false;
  const value = (tags as Record<string, unknown>)[OPT_OUT_TAG];
  return typeof value === "string" && value.toLowerCase() === "false";
}

const FUNCTION_TYPE = "aws:lambda/function:Function";

/**
 * The transform's logic as a plain function of one resource's type, name and props: new props for a Lambda
 * function to instrument, undefined to leave the resource as it is.
 */
export function transformFunctionProps(
  type: string,
  name: string,
  props: Record<string, unknown>,
  settings: InstrumentationInputs,
  onSkip: SkipReporter = warn,
): Record<string, unknown> | undefined {
  if (type !== FUNCTION_TYPE) return undefined;
  const revived = revive(props) as Record<string, unknown>;
  if (optedOut(revived.tags)) return undefined;
  const functionName = typeof revived.name === "string" ? revived.name : name;
  return instrumentFunctionArgs(
    revived as unknown as aws.lambda.FunctionArgs,
    settings,
    functionName,
    onSkip,
  ) as unknown as Record<string, unknown>;
}

/**
 * A stack transform that instruments every `aws.lambda.Function` registered after it, except those tagged
 * `firefly:instrument=false`. Use: `pulumi.runtime.registerResourceTransform(fireflyTransform(settings))`.
 */
export function fireflyTransform(settings: InstrumentationInputs): pulumi.ResourceTransform {
  return (args) => {
    const props = transformFunctionProps(args.type, args.name, args.props, settings);
    return props === undefined ? undefined : { props, opts: args.opts };
  };
}

/**
 * The same instrumentation as a resource transformation (`transformations` resource option), for unit
 * tests: Pulumi's mocks do not run transforms registered with `registerResourceTransform`, but they do run
 * the `transformations` of a resource and its children. Give it to the component (or resource) holding
 * the functions: `{ transformations: [fireflyTransformation(settings)] }`.
 */
export function fireflyTransformation(settings: InstrumentationInputs): pulumi.ResourceTransformation {
  return (args) => {
    const props = transformFunctionProps(args.type, args.name, args.props, settings);
    return props === undefined ? undefined : { props, opts: args.opts };
  };
}
