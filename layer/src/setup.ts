// Builds the layer's instrumentation from the environment. Any failure here leaves the function
// uninstrumented (and says why in its log) instead of failing its init.
import { readConfig } from "./config";
import { OtlpHttpExporter } from "./exporter";
import { InternalExtension } from "./extension";
import { instrumentHttpClients } from "./http-client";
import { crashInvocation, type Instrumentation } from "./invocation";
import { InvocationSpanProcessor } from "./processor";
import { createPropagator, registerTracing } from "./tracing";

type Env = Readonly<Record<string, string | undefined>>;

export const log = (message: string) => console.warn(`[firefly] ${message}`);

/** Runs `work` after the runtime has posted the current response: two turns of the event loop later. */
function afterThisTurn(work: () => void): void {
  // aws-lambda-ric posts a result from a setImmediate of its own, queued after the wrapper's promise
  // settles: a nested setImmediate runs after it, so serialising and sending never delay the response.
  // Referenced: an unreferenced immediate does not wake a loop waiting in poll, and would wait there.
  setImmediate(() => setImmediate(work));
}

/** Ends the running invocation's spans and exports them when the process is about to die of an error. */
function watchCrashes(): void {
  // The monitor sees an uncaught exception (and, where no one listens for unhandled rejections, the
  // rejection turned into one) without changing what happens next. aws-lambda-ric 3.x listens for
  // unhandled rejections itself, so a listener of ours placed before its own changes nothing either.
  process.on("uncaughtExceptionMonitor", (error) => crashInvocation(error));
  if (process.listenerCount("unhandledRejection") > 0)
    process.prependListener("unhandledRejection", (reason) => crashInvocation(reason));
}

export async function setupInstrumentation(env: Env): Promise<Instrumentation | undefined> {
  try {
    const config = readConfig(env);
    for (const warning of config.warnings) log(warning);
    if (config.disabled) return undefined;
    const exporter = new OtlpHttpExporter({
      url: config.tracesUrl,
      protocol: config.protocol,
      headers: config.headers,
    });
    const processor = new InvocationSpanProcessor(
      exporter,
      config.flushTimeoutMs,
      log,
      config.breakerRetryMs,
    );
    const { tracer } = registerTracing(config, processor, env);
    instrumentHttpClients(tracer, {
      ignoreHosts: env.AWS_LAMBDA_RUNTIME_API ? [env.AWS_LAMBDA_RUNTIME_API] : [],
    });
    const extension = config.exportAfterResponse
      ? await InternalExtension.register(env.AWS_LAMBDA_RUNTIME_API, log)
      : undefined;
    watchCrashes();
    return {
      tracer,
      propagator: createPropagator(config.propagators),
      flush: (limitMs) => processor.flush(limitMs),
      flushSync: (limitMs) => processor.flushSync(limitMs),
      openSpans: (traceId) => processor.openSpans(traceId),
      beforeEnd: (span) => processor.stampDropped(span),
      afterResponse: extension
        ? (requestId, limitMs) =>
            afterThisTurn(() => {
              void processor
                .flush(limitMs, true)
                .catch(() => undefined)
                .finally(() => extension.release(requestId));
            })
        : undefined,
      timeoutMarginMs: config.timeoutMarginMs,
      coldStartPossible: env.AWS_LAMBDA_INITIALIZATION_TYPE !== "provisioned-concurrency",
    };
  } catch (error) {
    log(`tracing is off for this environment: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
