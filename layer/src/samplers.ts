// The OpenTelemetry samplers the layer implements (`OTEL_TRACES_SAMPLER`). No imports: the Pulumi
// components check a configured sampler against this same list before deploying it.
export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

export type SamplerName = (typeof SAMPLERS)[number];
