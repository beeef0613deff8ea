// Builds the layer's instrumentation from the environment. Any failure here leaves the function
// uninstrumented (and says why in its log) instead of failing its init.
import { announce, offLine, startupLine } from "./announce";
import { type LayerConfig, readConfig } from "./config";
import { OtlpHttpExporter, type SyncPost } from "./exporter";
import { InternalExtension } from "./extension";
import { instrumentHttpClients } from "./http-client";
import { crashInvocation, type Instrumentation } from "./invocation";
import { LogCapture } from "./logs";
import { InvocationSpanProcessor } from "./processor";
import type { LayerResource } from "./tracer";
import { registerTracing, resourceAttributes } from "./tracing";

type Env = Readonly<Record<string, string | undefined>>;

let quiet = <T>(fn: () => T): T => fn();
/** The layer's own messages, to the function's log; never captured as the function's log records. */
export const log = (message: string) => quiet(() => console.warn(`[firefly] ${message}`));

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

/** Log capture and its export beside the spans' (same endpoint and token, `/v1/logs`), when on. */
function setupLogs(config: LayerConfig, resource: LayerResource, processor: InvocationSpanProcessor) {
  if (!config.logs) return undefined;
  const capture = new LogCapture(resource, {
    maxRecords: config.logsMaxRecords,
    maxBytes: config.logsMaxBytes,
  });
  capture.install();
  quiet = (fn) => capture.quiet(fn);
  const exporter = new OtlpHttpExporter({
    url: config.logsUrl,
    protocol: config.protocol,
    headers: config.headers,
    signal: "logs",
  });
  let failing = false;
  const flush = async (limitMs: number | undefined, background: boolean): Promise<void> => {
    const records = capture.take();
    // An outage the span exporter's breaker already knows about: do not pay for it twice.
    if (records.length === 0 || processor.breakerOpen) return;
    const waitMs = Math.max(0, Math.min(config.flushTimeoutMs, limitMs ?? config.flushTimeoutMs));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs);
    timer.unref();
    try {
      await exporter.send(records, abort.signal, background);
      if (failing) log("log export recovered");
      failing = false;
    } catch (error) {
      if (!failing)
        log(
          `dropping log records until export recovers: ${error instanceof Error ? error.message : String(error)}`,
        );
      failing = true;
    } finally {
      clearTimeout(timer);
    }
  };
  /** The records captured so far, as a request for a crash's synchronous export (none: nothing). */
  const crashPosts = (): SyncPost[] => {
    const records = capture.take();
    return records.length > 0 ? [exporter.request(records)] : [];
  };
  return { capture, flush, crashPosts };
}

/**
 * Sets up tracing, log capture and crash handling synchronously, then registers the layer as an
 * internal extension (resolving once that is settled); never rejects.
 */
export async function setupInstrumentation(env: Env): Promise<Instrumentation | undefined> {
  try {
    const config = readConfig(env);
    for (const warning of config.warnings) log(warning);
    if (config.disabled) {
      if (!config.quiet) announce(offLine());
      return undefined;
    }
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
    const resource: LayerResource = { attributes: resourceAttributes(config, env) };
    const { tracer, propagator } = registerTracing(config, processor, env, resource);
    instrumentHttpClients(tracer, {
      ignoreHosts: env.AWS_LAMBDA_RUNTIME_API ? [env.AWS_LAMBDA_RUNTIME_API] : [],
    });
    // Lambda Managed Instances (aws-lambda-ric 4's multi-concurrent mode) run several invocations at
    // once in one process: a log line cannot be told apart by invocation there, so none is captured,
    // rather than one carrying another invocation's id.
    const logs = config.multiConcurrent ? undefined : setupLogs(config, resource, processor);
    const flush = async (limitMs: number | undefined, background = false) => {
      const [spans] = await Promise.all([
        processor.flush(limitMs, background),
        logs?.flush(limitMs, background),
      ]);
      return spans;
    };
    watchCrashes();
    // Everything above runs synchronously when called: tracing is in place before user code loads.
    // There, too, the environment is never frozen between invocations and its INVOKE events cannot
    // follow invocations that overlap: export after each response without registering.
    const background = config.exportAfterResponse && config.multiConcurrent;
    const extension =
      config.exportAfterResponse && !config.multiConcurrent
        ? await InternalExtension.register(env.AWS_LAMBDA_RUNTIME_API, log)
        : undefined;
    if (!config.quiet) {
      // Set by /opt/firefly-wrapper when it redirected the runtime to the layer's handler.
      const wrapped = env._FIREFLY_WRAPPED === "1";
      announce(
        startupLine(
          { ...config, logs: logs !== undefined },
          wrapped ? "wrapper" : "handler",
          extension !== undefined || background,
        ),
      );
    }
    return {
      tracer,
      propagator,
      flush: (limitMs) => flush(limitMs),
      flushSync: (limitMs) => processor.flushSync(limitMs, logs?.crashPosts),
      openSpans: (traceId) => processor.openSpans(traceId),
      onStart: (requestId) => logs?.capture.begin(requestId),
      beforeEnd: (span) => {
        processor.stampDropped(span);
        logs?.capture.end();
      },
      release: extension ? (requestId) => extension.release(requestId) : undefined,
      afterResponse: extension
        ? (requestId, limitMs, afterEmptyLoop) => {
            const exportNow = () =>
              afterThisTurn(() => {
                void flush(limitMs, true)
                  .catch(() => undefined)
                  .finally(() => extension.release(requestId));
              });
            // The response goes out from the runtime's own beforeExit listener (registered before
            // ours): exporting earlier would run on the same thread while the caller still waits.
            if (afterEmptyLoop) process.once("beforeExit", exportNow);
            else exportNow();
          }
        : background
          ? (_requestId, limitMs) => afterThisTurn(() => void flush(limitMs, true).catch(() => undefined))
          : undefined,
      timeoutMarginMs: config.timeoutMarginMs,
      coldStartPossible: env.AWS_LAMBDA_INITIALIZATION_TYPE !== "provisioned-concurrency",
    };
  } catch (error) {
    log(`tracing is off for this environment: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
