// Builds the layer's instrumentation from the environment. Any failure here leaves the function
// uninstrumented (and says why in its log) instead of failing its init.
import { readConfig } from "./config";
import { OtlpHttpExporter } from "./exporter";
import { instrumentHttpClients } from "./http-client";
import type { Instrumentation } from "./invocation";
import { InvocationSpanProcessor } from "./processor";
import { createPropagator, registerTracing } from "./tracing";

type Env = Readonly<Record<string, string | undefined>>;

export const log = (message: string) => console.warn(`[firefly] ${message}`);

export function setupInstrumentation(env: Env): Instrumentation | undefined {
  try {
    const config = readConfig(env);
    for (const warning of config.warnings) log(warning);
    if (config.disabled) return undefined;
    const exporter = new OtlpHttpExporter({
      url: config.tracesUrl,
      protocol: config.protocol,
      headers: config.headers,
    });
    const processor = new InvocationSpanProcessor(exporter, config.flushTimeoutMs, log);
    const { tracer } = registerTracing(config, processor, env);
    instrumentHttpClients(tracer, {
      ignoreHosts: env.AWS_LAMBDA_RUNTIME_API ? [env.AWS_LAMBDA_RUNTIME_API] : [],
    });
    return {
      tracer,
      propagator: createPropagator(config.propagators),
      flush: (limitMs) => processor.flush(limitMs),
      coldStartPossible: env.AWS_LAMBDA_INITIALIZATION_TYPE !== "provisioned-concurrency",
    };
  } catch (error) {
    log(`tracing is off for this environment: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
