// Wraps the user's handler: one span per invocation, user errors recorded and passed on unchanged,
// spans flushed before the result goes back to Lambda. Telemetry failures never reach user code.
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
  try {
    const remaining = lambdaContext.getRemainingTimeInMillis?.();
    return typeof remaining === "number" && Number.isFinite(remaining)
      ? remaining - RESPONSE_MARGIN_MS
      : undefined;
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
      return user.apply(this, args);
    }
    const { span, ctx, incoming } = started;
    let ended = false;
    const finish = (error: unknown, result?: unknown): Promise<unknown> => {
      if (ended) return Promise.resolve();
      ended = true;
      try {
        endInvocationSpan(span, incoming, error, result);
      } catch {
        // never let a span problem change the invocation's outcome
      }
      return instrumentation.flush(flushLimit(lambdaContext)).catch(() => undefined);
    };

    const done: Callback = (error, result) => {
      void finish(error, result).then(() => callback?.(error, result));
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
