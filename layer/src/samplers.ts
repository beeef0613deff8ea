// The OpenTelemetry samplers the layer implements (`OTEL_TRACES_SAMPLER`), and the guard that keeps an
// internet caller from switching tracing off. Type-only imports: the Pulumi components check a
// configured sampler against this same list before deploying it, and must not load the SDK for that.
import type { Attributes, Context, Link, SpanContext, SpanKind } from "@opentelemetry/api";
import type { Sampler, SamplingResult } from "@opentelemetry/sdk-trace";

export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

export type SamplerName = (typeof SAMPLERS)[number];

/**
 * Set to `true` on a function to honour every remote parent's sampled flag, HTTP callers' included
 * (plain `parentbased_*` behaviour). Default: off, so an outside caller cannot suppress spans.
 */
export const STRICT_PARENT_SAMPLING_ENV = "FIREFLY_STRICT_PARENT_SAMPLING";

/**
 * `faas.trigger` of the invocations whose caller may be anyone on the internet (API Gateway REST and
 * HTTP APIs, function URLs, ALB). Queue, topic, EventBridge and SDK Invoke callers hold IAM
 * permissions in the account; their parents stay trusted.
 */
export const EXTERNAL_TRIGGERS: readonly string[] = ["http"];

/** The sampler a parent-based one uses for traces it starts itself; undefined when the parent does not matter. */
export function rootSamplerOf(name: SamplerName): SamplerName | undefined {
  switch (name) {
    case "parentbased_always_on":
      return "always_on";
    case "parentbased_always_off":
      return "always_off";
    case "parentbased_traceidratio":
      return "traceidratio";
    default:
      return undefined;
  }
}

export const isStrictParentSampling = (env: Readonly<Record<string, string | undefined>>): boolean =>
  ["true", "1"].includes((env[STRICT_PARENT_SAMPLING_ENV] ?? "").trim().toLowerCase());

/**
 * For a span started by an outside trigger under a remote parent, decide as for a new trace (the root
 * sampler) instead of obeying the caller's sampled flag: a `traceparent` with `-00` can no longer make
 * a request leave no span, and one with `-01` cannot raise the sampling rate. The span still joins the
 * caller's trace id, so a legitimate caller's trace stays whole. Everything else goes to the configured
 * sampler unchanged.
 */
export class UntrustedParentSampler implements Sampler {
  constructor(
    private readonly configured: Sampler,
    private readonly root: Sampler,
    /** `trace.getSpanContext` from @opentelemetry/api, passed in to keep this module import-free. */
    private readonly spanContextOf: (ctx: Context) => SpanContext | undefined,
  ) {}

  shouldSample(
    ctx: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const trigger = attributes?.["faas.trigger"];
    if (typeof trigger === "string" && EXTERNAL_TRIGGERS.includes(trigger)) {
      const parent = this.spanContextOf(ctx);
      if (parent?.isRemote)
        return this.root.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
    }
    return this.configured.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `UntrustedParentSampler{configured=${this.configured.toString()}, outside callers=${this.root.toString()}}`;
  }
}

/**
 * The sampler the layer runs: the configured one, guarded against outside callers' sampled flags
 * unless the function asks for strict parent-based sampling. `make` builds a sampler by name.
 */
export function guardedSampler(
  name: SamplerName,
  make: (name: SamplerName) => Sampler,
  spanContextOf: (ctx: Context) => SpanContext | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Sampler {
  const configured = make(name);
  const root = rootSamplerOf(name);
  if (root === undefined || isStrictParentSampling(env)) return configured;
  return new UntrustedParentSampler(configured, make(root), spanContextOf);
}
