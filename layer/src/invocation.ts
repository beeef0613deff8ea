// Wraps the user's handler: one span per invocation, user errors recorded and passed on unchanged,
// spans handed over for export when it ends (after the response when the layer runs as an extension,
// else before it). A timer shortly before the deadline ends and exports the spans of an invocation
// that is about to time out; a crash ends them too. Telemetry failures never reach user code.
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { extractParent } from "./context";
import type { IncomingContext, LambdaContextLike } from "./types";

/** The Lambda Node.js runtime marks streaming handlers with these symbols (awslambda.streamifyResponse). */
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HIGH_WATER_MARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");

type AnyHandler = (...args: any[]) => unknown;
type Callback = (error?: unknown, result?: unknown) => void;

export interface LambdaContext extends LambdaContextLike {
  readonly awsRequestId?: string;
  readonly invokedFunctionArn?: string;
  readonly functionName?: string;
  readonly memoryLimitInMB?: string | number;
  callbackWaitsForEmptyEventLoop?: boolean;
  getRemainingTimeInMillis?: () => number;
  done?: Callback;
  succeed?: (result?: unknown) => void;
  fail?: (error?: unknown) => void;
}

export interface Instrumentation {
  readonly tracer: Tracer;
  readonly propagator: TextMapPropagator;
  /** Exports the invocation's spans; resolves within its own budget and within `limitMs` if given. */
  readonly flush: (limitMs?: number) => Promise<unknown>;
  /** False in environments that started for provisioned concurrency: their first call is not cold. */
  readonly coldStartPossible: boolean;
  /**
   * When set, the invocation's spans are exported after its response: called as the invocation ends
   * instead of awaiting `flush`, with the time the export may take.
   */
  readonly afterResponse?: (
    requestId: string | undefined,
    limitMs: number | undefined,
    /** The runtime posts the response only once the event loop is empty (a callback handler). */
    afterEmptyLoop?: boolean,
  ) => void;
  /** Lets Lambda move on from an invocation with nothing (more) to export after its response. */
  readonly release?: (requestId: string | undefined) => void;
  /** Exports at once and synchronously, for a process about to exit. */
  readonly flushSync?: (limitMs: number) => void;
  /** Spans of a trace still open, which a timeout or a crash ends. */
  readonly openSpans?: (traceId: string) => Span[];
  /** Called when an invocation's span has started (log lines from here on belong to it). */
  readonly onStart?: (requestId: string | undefined) => void;
  /** Called on the invocation span just before it ends (the exporter's dropped-span count). */
  readonly beforeEnd?: (span: Span) => void;
  /** Time before the deadline at which an invocation's spans are ended as timed out; unset: no timer. */
  readonly timeoutMarginMs?: number;
  /** Process start → the layer's handler ready, written on the cold invocation. */
  readonly initDurationMs?: number;
}

/** Span attributes the layer adds to mark timeouts and crashes and to report memory and init. */
export const ATTR = {
  timeout: "firefly.timeout",
  crash: "firefly.crash",
  maxMemory: "faas.max_memory",
  peakRss: "firefly.memory.peak_rss",
  initDuration: "firefly.init.duration_ms",
} as const;

/**
 * The invocations in progress: what a crash ends. One at a time on Lambda's usual environments; several
 * in one process on Lambda Managed Instances (aws-lambda-ric 4's multi-concurrent mode), where an
 * uncaught error takes all of them down with the worker.
 */
const inFlight = new Set<{ crash(error: unknown): (() => void) | undefined }>();

/** Ends the running invocations' spans as crashed and exports them synchronously (once); no-op between invocations. */
export function crashInvocation(error: unknown): void {
  // One synchronous export carries every ended invocation's spans and log records: the first one's.
  let exportNow: (() => void) | undefined;
  for (const invocation of [...inFlight]) {
    inFlight.delete(invocation);
    try {
      const ended = invocation.crash(error);
      exportNow ??= ended;
    } catch {
      // the runtime's own crash handling must run regardless
    }
  }
  try {
    exportNow?.();
  } catch {
    // as above
  }
}

/** Peak resident set size since `start`, from the kernel's high-water mark where it rose (cheap: two syscalls). */
function memorySampler(): () => number {
  const rss0 = process.memoryUsage.rss();
  const max0 = process.resourceUsage().maxRSS;
  return () => {
    const max1 = process.resourceUsage().maxRSS;
    return max1 > max0 ? max1 * 1024 : Math.max(rss0, process.memoryUsage.rss());
  };
}

function asException(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Ends a span as the victim of a timeout or crash: ERROR, a marker attribute and an exception event. */
function endAbruptly(span: Span, marker: string, exception: Error): void {
  span.setAttribute(marker, true);
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
  span.end();
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";

function invocationAttributes(lambdaContext: LambdaContext, incoming: IncomingContext, coldStart: boolean) {
  const arn = lambdaContext.invokedFunctionArn;
  const attributes: Attributes = {
    ...incoming.attributes,
    "faas.trigger": incoming.trigger,
    "faas.coldstart": coldStart,
  };
  if (lambdaContext.awsRequestId) attributes["faas.invocation_id"] = lambdaContext.awsRequestId;
  if (arn) {
    attributes["cloud.resource_id"] = arn;
    const account = arn.split(":")[4];
    if (account) attributes["cloud.account.id"] = account;
  }
  return attributes;
}

/** Time the runtime needs to send the response after the flush, kept free of the flush. */
export const RESPONSE_MARGIN_MS = 50;

/** How long a flush may take without pushing the invocation past its timeout (undefined: no deadline known). */
function flushLimit(lambdaContext: LambdaContext): number | undefined {
  const remaining = remainingMs(lambdaContext);
  return remaining === undefined ? undefined : remaining - RESPONSE_MARGIN_MS;
}

/** Time left before the deadline, if the runtime says. */
function remainingMs(lambdaContext: LambdaContext): number | undefined {
  try {
    const remaining = lambdaContext.getRemainingTimeInMillis?.();
    return typeof remaining === "number" && Number.isFinite(remaining) ? remaining : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the span with the outcome: the user's error as status + exception event, HTTP status codes. */
export function endInvocationSpan(
  span: Span,
  incoming: IncomingContext,
  error: unknown,
  result: unknown,
): void {
  if (error !== undefined && error !== null) {
    const exception = error instanceof Error ? error : new Error(String(error));
    span.recordException(exception);
    span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
  } else if (incoming.trigger === "http" && typeof result === "object" && result !== null) {
    const status = (result as { statusCode?: unknown }).statusCode;
    if (typeof status === "number") {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}

/** Async functions keep their shape: the Node 22 runtime warns about, and Node 24 refuses, other forms. */
const isAsyncFunction = (fn: AnyHandler) => fn.constructor?.name === "AsyncFunction";

/**
 * Returns a handler with the user's handler's shape, because the runtime decides how to call a handler
 * (and, from Node 24 on, whether to accept it) by that shape: a streaming handler stays streaming, a
 * handler that takes a callback gets a three-argument wrapper (which the Node 24 runtime refuses at
 * init exactly as it refuses the user's own), an async one an async two-argument wrapper, any other
 * two-argument function a plain two-argument one (a promise it returns is still awaited; the legacy
 * `context.succeed/done/fail` of runtimes that have them are routed through the wrapper).
 */
export function wrapHandler(user: AnyHandler, instrumentation: Instrumentation): AnyHandler {
  let coldStart = instrumentation.coldStartPossible;
  const streaming = (user as unknown as Record<symbol, unknown>)[STREAMING] !== undefined;

  function start(
    event: unknown,
    lambdaContext: LambdaContext,
  ): { span: Span; ctx: Context; incoming: IncomingContext } {
    const incoming = extractParent(event, lambdaContext, instrumentation.propagator);
    const name = incoming.name ?? lambdaContext.functionName ?? "lambda";
    const span = instrumentation.tracer.startSpan(
      name,
      {
        kind: incoming.kind,
        links: incoming.links,
        attributes: invocationAttributes(lambdaContext, incoming, coldStart),
      },
      incoming.parent,
    );
    instrumentation.onStart?.(lambdaContext.awsRequestId);
    if (coldStart && instrumentation.initDurationMs !== undefined)
      span.setAttribute(ATTR.initDuration, instrumentation.initDurationMs);
    coldStart = false;
    return { span, ctx: trace.setSpan(incoming.parent, span), incoming };
  }

  /**
   * Runs one invocation. `callback` is the runtime's callback when it passed one (aws-lambda-ric 3.x
   * always does); `callbackStyle` says the user's handler takes it.
   */
  function invoke(
    this: unknown,
    args: unknown[],
    lambdaContext: LambdaContext,
    callback: Callback | undefined,
    callbackStyle: boolean,
  ): unknown {
    let started: ReturnType<typeof start> | undefined;
    try {
      started = start(args[0], lambdaContext);
    } catch {
      // Telemetry broke: run the user's code uninstrumented rather than fail the invocation.
      try {
        instrumentation.release?.(lambdaContext.awsRequestId);
      } catch {
        // nothing to hand over
      }
      return user.apply(this, args);
    }
    const { span, ctx, incoming } = started;
    const requestId = lambdaContext.awsRequestId;
    const peakRss = memorySampler();
    let ended = false;
    // Every way out (result, error, timeout, crash) ends the span once and hands it over once.
    const settle = (end: () => void): boolean => {
      if (ended) return false;
      ended = true;
      clearTimeout(timer);
      inFlight.delete(invocation);
      try {
        const memory = Number(lambdaContext.memoryLimitInMB ?? process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
        if (memory > 0) span.setAttribute(ATTR.maxMemory, memory * 1024 * 1024);
        span.setAttribute(ATTR.peakRss, peakRss());
        instrumentation.beforeEnd?.(span);
        end();
      } catch {
        // never let a span problem change the invocation's outcome
      }
      return true;
    };
    const finish = (error: unknown, result?: unknown, viaCallback = false): Promise<unknown> => {
      if (!settle(() => endInvocationSpan(span, incoming, error, result))) return Promise.resolve();
      try {
        if (instrumentation.afterResponse) {
          // aws-lambda-ric 3.x posts a callback's result once the event loop is empty, unless told not to.
          const afterEmptyLoop =
            viaCallback &&
            (error === undefined || error === null) &&
            lambdaContext.callbackWaitsForEmptyEventLoop !== false;
          instrumentation.afterResponse(requestId, flushLimit(lambdaContext), afterEmptyLoop);
          return Promise.resolve();
        }
      } catch {
        return Promise.resolve();
      }
      return instrumentation.flush(flushLimit(lambdaContext)).catch(() => undefined);
    };
    const endOpen = (marker: string, exception: Error) => {
      for (const open of instrumentation.openSpans?.(span.spanContext().traceId) ?? [])
        if (open !== span) endAbruptly(open, marker, exception);
      endAbruptly(span, marker, exception);
    };
    const invocation = {
      crash(error: unknown) {
        if (!settle(() => endOpen(ATTR.crash, asException(error)))) return undefined;
        return () =>
          instrumentation.flushSync?.(Math.max(1, (remainingMs(lambdaContext) ?? 1000) - RESPONSE_MARGIN_MS));
      },
    };
    inFlight.add(invocation);
    // Shortly before the deadline: end and export what would otherwise be lost when Lambda stops the
    // process. Unreferenced, so it never keeps the event loop alive; cleared when the invocation ends,
    // so it can never fire into a later one.
    let timer: NodeJS.Timeout | undefined;
    const remaining = instrumentation.timeoutMarginMs === undefined ? undefined : remainingMs(lambdaContext);
    if (remaining !== undefined && instrumentation.timeoutMarginMs !== undefined) {
      const margin = Math.min(instrumentation.timeoutMarginMs, remaining / 10);
      timer = setTimeout(() => {
        const exception = Object.assign(
          new Error(
            `invocation timed out: its spans were ended ${Math.round(margin)} ms before the deadline`,
          ),
          { name: "TimeoutError" },
        );
        if (!settle(() => endOpen(ATTR.timeout, exception))) return;
        void instrumentation
          .flush(Math.max(1, (remainingMs(lambdaContext) ?? margin) - 5))
          .catch(() => undefined)
          .finally(() => instrumentation.release?.(requestId));
      }, remaining - margin);
      timer.unref();
    }

    const done: Callback = (error, result) => {
      void finish(error, result, callback !== undefined).then(() => callback?.(error, result));
    };
    // The legacy context methods (aws-lambda-ric 3.x) bypass the callback; route them through finish.
    if (!streaming && callback) {
      lambdaContext.done = done;
      lambdaContext.succeed = (result) => done(null, result);
      lambdaContext.fail = (error) => done(error ?? new Error("handled"));
    }
    const userArgs = streaming
      ? args
      : callbackStyle
        ? [args[0], lambdaContext, done]
        : [args[0], lambdaContext];

    let returned: unknown;
    try {
      returned = context.with(ctx, () => user.apply(this, userArgs));
    } catch (error) {
      return finish(error).then(() => {
        throw error;
      });
    }
    if (isThenable(returned)) {
      return Promise.resolve(returned).then(
        async (value) => {
          await finish(undefined, value);
          return value;
        },
        async (error) => {
          await finish(error);
          throw error;
        },
      );
    }
    // No callback to wait for (aws-lambda-ric 4.x): a plain return value is the result.
    if (!callback && !streaming) {
      return finish(undefined, returned).then(() => returned);
    }
    return undefined;
  }

  if (streaming) {
    const wrapped = function (
      this: unknown,
      event: unknown,
      responseStream: unknown,
      lambdaContext: LambdaContext,
    ) {
      return invoke.call(this, [event, responseStream, lambdaContext], lambdaContext, undefined, false);
    };
    const marks = user as unknown as Record<symbol, unknown>;
    Object.assign(wrapped, { [STREAMING]: marks[STREAMING], [HIGH_WATER_MARK]: marks[HIGH_WATER_MARK] });
    return wrapped;
  }
  if (user.length >= 3) {
    return function (this: unknown, event: unknown, lambdaContext: LambdaContext, callback: Callback) {
      return invoke.call(this, [event, lambdaContext, callback], lambdaContext, callback, true);
    };
  }
  if (isAsyncFunction(user)) {
    return async function (this: unknown, event: unknown, lambdaContext: LambdaContext) {
      return invoke.call(this, [event, lambdaContext], lambdaContext, undefined, false);
    };
  }
  return function (this: unknown, event: unknown, lambdaContext: LambdaContext) {
    // biome-ignore lint/complexity/noArguments: the runtime's callback, when it passes one, is a hidden third argument
    const callback = arguments[2] as Callback | undefined;
    return invoke.call(this, [event, lambdaContext], lambdaContext, callback, false);
  };
}
