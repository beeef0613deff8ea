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

/**
 * Returns a handler with the user's handler's calling convention: a promise when the user's handler
 * returns one, the runtime's callback otherwise (so `callbackWaitsForEmptyEventLoop` keeps working).
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

  function invoke(
    this: unknown,
    args: unknown[],
    lambdaContext: LambdaContext,
    callback: Callback | undefined,
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
    // The legacy context methods bypass the callback; route them through the same finish.
    if (!streaming && callback) {
      lambdaContext.done = done;
      lambdaContext.succeed = (result) => done(null, result);
      lambdaContext.fail = (error) => done(error ?? new Error("handled"));
    }
    const userArgs = streaming ? args : [args[0], lambdaContext, done];

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
    return undefined;
  }

  if (streaming) {
    const wrapped = function (
      this: unknown,
      event: unknown,
      responseStream: unknown,
      lambdaContext: LambdaContext,
    ) {
      return invoke.call(this, [event, responseStream, lambdaContext], lambdaContext, undefined);
    };
    const marks = user as unknown as Record<symbol, unknown>;
    Object.assign(wrapped, { [STREAMING]: marks[STREAMING], [HIGH_WATER_MARK]: marks[HIGH_WATER_MARK] });
    return wrapped;
  }
  return function (this: unknown, event: unknown, lambdaContext: LambdaContext, callback: Callback) {
    return invoke.call(this, [event, lambdaContext, callback], lambdaContext, callback);
  };
}
