// Instrumentation of Lambda functions this stack does not manage (`firefly:functions`). A dynamic
// resource: create reads the function's configuration, merges Firefly in and updates it guarded by the
// RevisionId it read; delete puts back exactly what was there. The provider's methods are plain async
// functions (exported for tests); Pulumi serializes them into the state, so they require the SDK lazily.
import * as pulumi from "@pulumi/pulumi";
import type { InstrumentationInputs } from "./functionArgs";
import {
  type FunctionConfig,
  type InstrumentationSettings,
  instrumentedBy,
  isInstrumented,
  mergeConfiguration,
  restoreConfiguration,
  skipReason,
} from "./instrument";

/** Inputs of one existing-function instrumentation, all plain once resolved. */
export interface ExistingFunctionInputs {
  /** Function name or ARN (a qualifier is not allowed: configuration belongs to $LATEST). */
  functionName: string;
  /** Region the function lives in (from an ARN it must agree). */
  region: string;
  settings: InstrumentationSettings;
}

export interface ExistingFunctionOutputs extends ExistingFunctionInputs {
  functionArn: string;
  /** Why the function was left alone, or "" when it was instrumented. */
  skipped: string;
  /** Handler, env and layers before Firefly (restored on delete). */
  original?: FunctionConfig;
  /** Handler, env and layers Firefly set. */
  applied?: FunctionConfig;
  /** After a refresh: false when someone removed Firefly's changes, so the next update puts them back. */
  inPlace?: boolean;
}

// Kept inside the functions Pulumi serializes: a module-level import would be captured by value.
function lambdaSdk(): typeof import("@aws-sdk/client-lambda") {
  return require("@aws-sdk/client-lambda");
}

function client(region: string) {
  const sdk = lambdaSdk();
  return new sdk.LambdaClient({ region });
}

type Configuration = import("@aws-sdk/client-lambda").FunctionConfiguration;

function toConfig(cfg: Configuration): FunctionConfig {
  return {
    handler: cfg.Handler,
    env: { ...(cfg.Environment?.Variables ?? {}) },
    layers: (cfg.Layers ?? []).map((l) => l.Arn!),
  };
}

function waitForUpdate(inputs: ExistingFunctionInputs): Promise<unknown> {
  const sdk = lambdaSdk();
  return sdk.waitUntilFunctionUpdatedV2(
    { client: client(inputs.region), maxWaitTime: 300, minDelay: 1, maxDelay: 5 },
    { FunctionName: inputs.functionName },
  );
}

async function readConfiguration(inputs: ExistingFunctionInputs): Promise<Configuration | undefined> {
  const sdk = lambdaSdk();
  const get = () =>
    client(inputs.region).send(
      new sdk.GetFunctionConfigurationCommand({ FunctionName: inputs.functionName }),
    );
  try {
    const cfg = await get();
    // Lambda refuses configuration updates while another update (a code deploy, say) is in progress, and
    // the RevisionId read now would be stale once it finishes: wait, then read again.
    if (cfg.LastUpdateStatus !== "InProgress" && cfg.State !== "Pending") return cfg;
    await waitForUpdate(inputs);
    return await get();
  } catch (err) {
    if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

async function writeConfiguration(
  inputs: ExistingFunctionInputs,
  revisionId: string | undefined,
  config: FunctionConfig,
): Promise<void> {
  const sdk = lambdaSdk();
  const lambda = client(inputs.region);
  try {
    await lambda.send(
      new sdk.UpdateFunctionConfigurationCommand({
        FunctionName: inputs.functionName,
        RevisionId: revisionId,
        Handler: config.handler,
        Environment: { Variables: config.env },
        Layers: config.layers,
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === "PreconditionFailedException") {
      throw new Error(
        `Lambda function ${inputs.functionName} changed while Firefly was updating it (its RevisionId moved ` +
          `on). Nothing was written; run pulumi up again.`,
      );
    }
    throw err;
  }
  // The next update (or a deployment of the function's own code) is refused while this one is in progress.
  await waitForUpdate(inputs);
}

async function instrument(inputs: ExistingFunctionInputs): Promise<ExistingFunctionOutputs> {
  const cfg = await readConfiguration(inputs);
  if (cfg === undefined) {
    throw new Error(
      `Lambda function ${inputs.functionName} was not found in ${inputs.region}. Check the name or ARN in ` +
        `firefly:functions and the AWS region.`,
    );
  }
  const skipped = skipReason(cfg.Runtime, cfg.PackageType) ?? "";
  const base = { ...inputs, functionArn: cfg.FunctionArn!, skipped };
  if (skipped) return base;
  const original = toConfig(cfg);
  const already = instrumentedBy(original, inputs.settings.layerArn);
  if (already) {
    throw new Error(
      `Lambda function ${inputs.functionName} is already instrumented by Firefly (${already}): another stack ` +
        `manages it, or this stack lost its state. Remove Firefly's layer, handler and variables from it ` +
        `(or take it out of the other stack's firefly:functions), then run pulumi up again.`,
    );
  }
  const applied = mergeConfiguration(inputs.functionName, original, inputs.settings);
  await writeConfiguration(inputs, cfg.RevisionId, applied);
  return { ...base, original, applied, inPlace: true };
}

/** Take Firefly's changes off the function; a function deleted meanwhile needs nothing. */
async function uninstrument(outs: ExistingFunctionOutputs): Promise<void> {
  if (outs.skipped || !outs.original || !outs.applied) return;
  const cfg = await readConfiguration(outs);
  if (cfg === undefined) return;
  const restored = restoreConfiguration(toConfig(cfg), outs.applied, outs.original);
  await writeConfiguration(outs, cfg.RevisionId, restored);
}

// Order-insensitive: settings come back from state with their keys in whatever order the engine stored
// them, and a spurious difference would rewrite the function on every run.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

export const existingFunctionProvider = {
  async create(inputs: ExistingFunctionInputs): Promise<{ id: string; outs: ExistingFunctionOutputs }> {
    const outs = await instrument(inputs);
    return { id: outs.functionArn, outs };
  },

  async read(
    id: string,
    props: ExistingFunctionOutputs,
  ): Promise<{ id: string; props: ExistingFunctionOutputs }> {
    const cfg = await readConfiguration(props);
    if (cfg === undefined || props.skipped || !props.applied) return { id, props };
    return { id, props: { ...props, inPlace: isInstrumented(toConfig(cfg), props.applied) } };
  },

  async diff(
    _id: string,
    olds: ExistingFunctionOutputs,
    news: ExistingFunctionInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    const replaces = ["functionName", "region"].filter(
      (key) => olds[key as keyof ExistingFunctionInputs] !== news[key as keyof ExistingFunctionInputs],
    );
    const changed = !same(olds.settings, news.settings) || olds.inPlace === false;
    // Restore the old function before touching a new one: "name" and "ARN" may be the same function.
    return { changes: replaces.length > 0 || changed, replaces, deleteBeforeReplace: true };
  },

  async update(
    _id: string,
    olds: ExistingFunctionOutputs,
    news: ExistingFunctionInputs,
  ): Promise<{ outs: ExistingFunctionOutputs }> {
    // Take the old settings off first, so a changed token or layer version replaces Firefly's own values
    // instead of tripping the conflict check, then instrument as new.
    await uninstrument(olds);
    return { outs: await instrument(news) };
  },

  async delete(_id: string, props: ExistingFunctionOutputs): Promise<void> {
    await uninstrument(props);
  },
};

/** Arguments of {@link InstrumentedFunction}. */
export interface InstrumentedFunctionArgs {
  readonly functionName: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  readonly settings: InstrumentationInputs;
}

/** One existing Lambda function with Firefly merged in; deleting it restores the function. */
export class InstrumentedFunction extends pulumi.dynamic.Resource {
  declare readonly functionArn: pulumi.Output<string>;
  declare readonly skipped: pulumi.Output<string>;

  constructor(name: string, args: InstrumentedFunctionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      existingFunctionProvider as pulumi.dynamic.ResourceProvider,
      name,
      {
        ...args,
        functionArn: undefined,
        skipped: undefined,
        original: undefined,
        applied: undefined,
        inPlace: undefined,
      },
      // The function's own env may hold secrets, and settings hold the OTLP token.
      { ...opts, additionalSecretOutputs: ["settings", "original", "applied"] },
      "firefly",
      "InstrumentedFunction",
    );
  }
}
