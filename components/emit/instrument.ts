// The one merge rule every instrumentation path shares (stack functions, the stack transform, existing
// functions): plain values in, plain values out, no Pulumi and no AWS calls, so it is tested directly.
// It adds Firefly's layer, handler redirection or exec wrapper and env vars, keeps everything the function
// already had, and refuses (rather than overwrites) when the function already sets one of Firefly's
// wiring variables to something else. `restoreConfiguration` is its inverse for `pulumi destroy`.

import { SAMPLERS } from "../../layer/src/samplers";
// Type-only: this module is serialized into the existing-function provider, and capturing the config
// module (zod and all) by value breaks that serialization.
import type { InstrumentationMode } from "../config";

// The enum's values, without loading the module that defines it.
const WRAPPER_MODE = "wrapper";
const HANDLER_MODE = "handler";

/** Handler the layer exports; the function's own handler moves to `FIREFLY_HANDLER`. */
export const FIREFLY_HANDLER = "/opt/firefly/handler.handler";
/** Exec wrapper script the layer ships (`AWS_LAMBDA_EXEC_WRAPPER`). */
export const FIREFLY_WRAPPER = "/opt/firefly-wrapper";
/** Runtimes the layer is built and published for. */
export const LAYER_RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"];
/** Lambda's limits (design.md §3). */
export const MAX_LAYERS = 5;
export const MAX_ENV_BYTES = 4096;
/** Tag that opts a function in the same program out of instrumentation. */
export const OPT_OUT_TAG = "firefly:instrument";

/**
 * Check the sampler and flush settings before anything is created. The layer falls back to its defaults
 * on bad values (a function must not break over a setting), so a typo here would otherwise go unnoticed.
 */
export function validateInstrumentationOptions(o: {
  sampler?: string;
  samplerArg?: string;
  flushTimeoutMs?: number;
}): void {
  if (o.sampler !== undefined && !(SAMPLERS as readonly string[]).includes(o.sampler)) {
    throw new Error(`EmitPhase sampler ${JSON.stringify(o.sampler)} is not one of ${SAMPLERS.join(", ")}.`);
  }
  if (o.samplerArg !== undefined) {
    const ratio = Number(o.samplerArg);
    if (o.samplerArg.trim() === "" || !(ratio >= 0 && ratio <= 1)) {
      throw new Error(
        `EmitPhase samplerArg ${JSON.stringify(o.samplerArg)} must be a ratio from 0 to 1, e.g. "0.25".`,
      );
    }
    if (!o.sampler?.endsWith("traceidratio")) {
      throw new Error(
        "EmitPhase samplerArg only applies to the traceidratio samplers: set sampler to parentbased_traceidratio (or traceidratio).",
      );
    }
  }
  if (o.flushTimeoutMs !== undefined && !(Number.isInteger(o.flushTimeoutMs) && o.flushTimeoutMs >= 0)) {
    throw new Error(
      `EmitPhase flushTimeoutMs ${o.flushTimeoutMs} must be a whole number of milliseconds, 0 or more.`,
    );
  }
}

/** Everything instrumentation needs, resolved to plain values. */
export interface InstrumentationSettings {
  /** Versioned ARN of the published Firefly layer. */
  layerArn: string;
  mode: InstrumentationMode;
  /** OTLP/HTTP base URL; the layer appends `/v1/traces`. */
  otlpEndpoint: string;
  /** Bearer token for the OTLP endpoint. Sent as `OTEL_EXPORTER_OTLP_HEADERS`. */
  otlpToken?: string;
  /** `OTEL_TRACES_SAMPLER`; unset leaves the layer's default. */
  sampler?: string;
  /** `OTEL_TRACES_SAMPLER_ARG`. */
  samplerArg?: string;
  /** `FIREFLY_FLUSH_TIMEOUT_MS`. Default: 500, as `firefly:flushTimeoutMs`. */
  flushTimeoutMs?: number;
}

/** The part of a function's configuration instrumentation touches. */
export interface FunctionConfig {
  handler?: string;
  env: Record<string, string>;
  layers: string[];
}

/** Why a function cannot be instrumented, or undefined when it can. */
export function skipReason(runtime: unknown, packageType: unknown): string | undefined {
  if (packageType === "Image") {
    return "it is image-based (package type Image), and image-based functions take no layers";
  }
  if (typeof runtime !== "string") {
    return "its runtime is not known while planning (pass a literal runtime such as nodejs22.x)";
  }
  if (!runtime.startsWith("nodejs")) {
    return `its runtime ${runtime} is not Node.js, and the Firefly layer only instruments Node.js`;
  }
  if (!LAYER_RUNTIMES.includes(runtime)) {
    return `its runtime ${runtime} is not one the layer supports (${LAYER_RUNTIMES.join(", ")})`;
  }
  return undefined;
}

/**
 * The size Lambda holds against its 4 KB limit: the variables as compact JSON (its refusal quotes the
 * "String measured", e.g. `{"A":"b"}`), so quotes, colons and commas count along with keys and values.
 */
export function envBytes(env: Record<string, string>): number {
  return Buffer.byteLength(JSON.stringify(env));
}

/** A layer's ARN without its version: two versions of one layer are the same layer. */
export function unversionedLayerArn(arn: string): string {
  return arn.replace(/:\d+$/, "");
}

/**
 * Variables that connect the function to Firefly. A different existing value is a conflict: replacing it
 * would silently reroute the user's telemetry or handler.
 */
function wiringEnv(
  functionName: string,
  current: FunctionConfig,
  s: InstrumentationSettings,
): Record<string, string> {
  const wiring: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: s.otlpEndpoint };
  // The layer reads this W3C-baggage style: entries split on ',' and ';', values URL-decoded. Encoding the
  // token keeps one with '%', ',' or ';' intact; a plain alphanumeric token reads as written.
  if (s.otlpToken !== undefined) {
    wiring.OTEL_EXPORTER_OTLP_HEADERS = `authorization=Bearer ${encodeURIComponent(s.otlpToken)}`;
  }
  if (String(s.mode) === WRAPPER_MODE) {
    wiring.AWS_LAMBDA_EXEC_WRAPPER = FIREFLY_WRAPPER;
  } else if (current.handler !== FIREFLY_HANDLER) {
    // Already redirected (a re-run): FIREFLY_HANDLER holds the original and stays as it is.
    if (current.handler === undefined) refuse(functionName, "it has no handler to redirect");
    wiring.FIREFLY_HANDLER = current.handler;
  }
  return wiring;
}

/** Preferences: the function's own value wins, Firefly only fills what is unset. */
function preferenceEnv(s: InstrumentationSettings): Record<string, string> {
  const prefs: Record<string, string> = {};
  if (s.sampler !== undefined) prefs.OTEL_TRACES_SAMPLER = s.sampler;
  if (s.samplerArg !== undefined) prefs.OTEL_TRACES_SAMPLER_ARG = s.samplerArg;
  // Unset, the layer would wait up to its own 1000 ms; every Firefly entry point says 500 (firefly:flushTimeoutMs).
  prefs.FIREFLY_FLUSH_TIMEOUT_MS = String(s.flushTimeoutMs ?? 500);
  return prefs;
}

// A plain Error, not a subclass: the closure serializer cannot rebuild classes or Sets faithfully.
function refuse(functionName: string, why: string): never {
  throw new Error(`Cannot instrument Lambda function ${functionName}: ${why}`);
}

/**
 * The function's layers with Firefly's appended. Another version of the Firefly layer is replaced, never
 * stacked: two copies would trace every invocation twice.
 */
export function mergeLayers(functionName: string, current: string[], layerArn: string): string[] {
  const ours = unversionedLayerArn(layerArn);
  const layers = current.filter((arn) => unversionedLayerArn(arn) !== ours).concat(layerArn);
  if (layers.length > MAX_LAYERS) {
    refuse(
      functionName,
      `it already has ${layers.length - 1} other layers and Lambda allows ${MAX_LAYERS} in all. Remove or ` +
        `combine one of its layers, or opt it out with ${OPT_OUT_TAG}=false.`,
    );
  }
  return layers;
}

const SECRET_KEYS = ["OTEL_EXPORTER_OTLP_HEADERS"];

/**
 * Instrument one function's configuration. Idempotent: merging an already merged configuration with the
 * same settings returns it unchanged. Throws (the message names the function, the limit or
 * variable, and the fix) instead of producing a configuration Lambda would reject or that drops data.
 */
export function mergeConfiguration(
  functionName: string,
  current: FunctionConfig,
  s: InstrumentationSettings,
): FunctionConfig {
  const fail = (why: string) => refuse(functionName, why);
  if (String(s.mode) === WRAPPER_MODE && current.handler === FIREFLY_HANDLER) {
    fail(`its handler is already ${FIREFLY_HANDLER}; restore its own handler or use instrumentation=handler`);
  }
  const wiring = wiringEnv(functionName, current, s);
  const env = { ...current.env };
  for (const [key, value] of Object.entries(wiring)) {
    if (env[key] !== undefined && env[key] !== value) {
      const shown = SECRET_KEYS.includes(key) ? "another value" : JSON.stringify(env[key]);
      fail(
        `it already sets ${key} to ${shown}, which Firefly needs to set. Remove that variable, or opt the ` +
          `function out with the tag ${OPT_OUT_TAG}=false (or leave it out of firefly:functions).`,
      );
    }
    env[key] = value;
  }
  for (const [key, value] of Object.entries(preferenceEnv(s))) {
    if (env[key] === undefined) env[key] = value;
  }
  const bytes = envBytes(env);
  if (bytes > MAX_ENV_BYTES) {
    fail(
      `its environment would be ${bytes} bytes (as JSON) with Firefly's variables, over Lambda's ${MAX_ENV_BYTES}-byte ` +
        `limit. Move large values elsewhere (e.g. SSM Parameter Store) or opt it out with ${OPT_OUT_TAG}=false.`,
    );
  }
  const layers = mergeLayers(functionName, current.layers, s.layerArn);
  const handler = String(s.mode) === HANDLER_MODE ? FIREFLY_HANDLER : current.handler;
  return { handler, env, layers };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Undo `mergeConfiguration`: `applied` is what Firefly set, `original` what was there before. Untouched
 * since Firefly's update, the function gets `original` back exactly; where someone changed it meanwhile,
 * only Firefly's own additions are taken out and their changes stay.
 */
export function restoreConfiguration(
  current: FunctionConfig,
  applied: FunctionConfig,
  original: FunctionConfig,
): FunctionConfig {
  const handler = current.handler === applied.handler ? original.handler : current.handler;

  const env = { ...current.env };
  for (const [key, value] of Object.entries(applied.env)) {
    if (original.env[key] === value || env[key] !== value) continue;
    if (key in original.env) env[key] = original.env[key];
    else delete env[key];
  }

  let layers = current.layers;
  if (sameList(current.layers, applied.layers)) {
    layers = original.layers;
  } else {
    const added = new Set(applied.layers.filter((arn) => !original.layers.includes(arn)));
    layers = current.layers.filter((arn) => !added.has(arn));
  }
  return { handler, env, layers };
}

/**
 * Signs that Firefly (this stack with lost state, or another stack) already instrumented the function.
 * Recording that configuration as "original" would make destroy restore Firefly instead of the function.
 */
export function instrumentedBy(current: FunctionConfig, layerArn: string): string | undefined {
  if (current.handler === FIREFLY_HANDLER) return `its handler is ${FIREFLY_HANDLER}`;
  if (current.env.FIREFLY_HANDLER !== undefined) return "it sets FIREFLY_HANDLER";
  if (current.env.AWS_LAMBDA_EXEC_WRAPPER === FIREFLY_WRAPPER) return `it runs ${FIREFLY_WRAPPER}`;
  const ours = unversionedLayerArn(layerArn);
  if (current.layers.some((arn) => unversionedLayerArn(arn) === ours)) return `it has the layer ${ours}`;
  return undefined;
}

/** True when Firefly's changes are all still on the function (no one removed the layer or wiring). */
export function isInstrumented(current: FunctionConfig, applied: FunctionConfig): boolean {
  return (
    current.handler === applied.handler &&
    applied.layers.every((arn) => current.layers.includes(arn)) &&
    Object.entries(applied.env).every(([key, value]) => current.env[key] === value)
  );
}
