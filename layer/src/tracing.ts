// Tracer setup from validated config: provider, sampler, propagators and an AsyncLocalStorage context
// manager (the SDK 3.x ships only the browser's stack manager; ours is the 30 lines Node needs).
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapPropagator,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import type { LayerConfig } from "./config";
import { guardedSampler } from "./samplers";
import { type LayerResource, LayerTracerProvider } from "./tracer";

export const TRACER_NAME = "firefly-lambda";

export class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

export function createSampler(config: Pick<LayerConfig, "sampler" | "samplerRatio">): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

export function createPropagator(names: LayerConfig["propagators"]): TextMapPropagator {
  return new CompositePropagator({
    propagators: names.map((n) =>
      n === "baggage" ? new W3CBaggagePropagator() : new W3CTraceContextPropagator(),
    ),
  });
}

/** Resource of the function: Lambda's env first, OTEL_RESOURCE_ATTRIBUTES over it, the service name last. */
export function resourceAttributes(
  config: Pick<LayerConfig, "serviceName" | "resourceAttributes">,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | number> {
  const attrs: Record<string, string | number> = { "cloud.provider": "aws", "cloud.platform": "aws_lambda" };
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") attrs[key] = value;
  };
  set("cloud.region", env.AWS_REGION);
  set("faas.name", env.AWS_LAMBDA_FUNCTION_NAME);
  set("faas.version", env.AWS_LAMBDA_FUNCTION_VERSION);
  set("faas.instance", env.AWS_LAMBDA_LOG_STREAM_NAME);
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(memory) && memory > 0) attrs["faas.max_memory"] = memory * 1024 * 1024;
  set("aws.log.group.names", env.AWS_LAMBDA_LOG_GROUP_NAME);
  set("telemetry.sdk.name", "firefly");
  set("telemetry.sdk.language", "nodejs");
  Object.assign(attrs, config.resourceAttributes);
  attrs["service.name"] = config.serviceName;
  return attrs;
}

/**
 * Registers the global tracer provider (the layer's lean one, src/tracer.ts), context manager and
 * propagator; returns the layer's tracer and that propagator. `resource`: the function's, shared with
 * log capture.
 */
export function registerTracing(
  config: LayerConfig,
  processor: SpanProcessor,
  env: Readonly<Record<string, string | undefined>>,
  resource: LayerResource = { attributes: resourceAttributes(config, env) },
): { tracer: Tracer; provider: LayerTracerProvider; propagator: TextMapPropagator } {
  const provider = new LayerTracerProvider(
    resource,
    guardedSampler(
      config.sampler,
      (sampler) => createSampler({ ...config, sampler }),
      trace.getSpanContext,
      env,
    ),
    processor,
  );
  const propagator = createPropagator(config.propagators);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(propagator);
  trace.setGlobalTracerProvider(provider);
  return { tracer: provider.getTracer(TRACER_NAME), provider, propagator };
}
