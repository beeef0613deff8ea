// @firefly-o11y/aws-sdk: an AWS SDK v3 plugin that carries the current trace context into the
// services that trigger other functions. One line per client: `client.middlewareStack.use(firefly())`.
// It opens a span per call and injects that span's context, so the called function's invocation span
// becomes a child of this call (not a sibling of it). Without the layer it injects nothing and costs nothing.
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

/** Message attributes per SQS message / SNS notification, an AWS limit. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
/** ClientContext is at most 3583 bytes once base64-encoded. */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;
export const PAYLOAD_KEY = "_firefly";

export type Carrier = Record<string, string>;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** SQS and SNS message attributes: as many carrier fields as fit under the limit, traceparent first. */
export function withMessageAttributes(attributes: unknown, carrier: Carrier): Obj | undefined {
  const existing = isObj(attributes) ? attributes : {};
  if ("traceparent" in existing) return undefined;
  const result: Obj = { ...existing };
  let free = MAX_MESSAGE_ATTRIBUTES - Object.keys(existing).length;
  for (const field of ["traceparent", "tracestate", "baggage"]) {
    const value = carrier[field];
    if (value === undefined || free <= 0) continue;
    result[field] = { DataType: "String", StringValue: value };
    free--;
  }
  return "traceparent" in result ? result : undefined;
}

/** Adds `_firefly` to a JSON object (string or bytes, kept in the same form); anything else is left alone. */
export function withPayloadCarrier<T>(payload: T, carrier: Carrier): T | undefined {
  const text =
    typeof payload === "string"
      ? payload
      : payload instanceof Uint8Array
        ? new TextDecoder().decode(payload)
        : undefined;
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(parsed)) return undefined;
  const json = JSON.stringify({ ...parsed, [PAYLOAD_KEY]: carrier });
  return (typeof payload === "string" ? json : new TextEncoder().encode(json)) as T;
}

/** Merges the carrier into ClientContext.custom (base64 JSON), unless that would exceed Lambda's limit. */
export function withClientContext(clientContext: unknown, carrier: Carrier): string | undefined {
  let existing: Obj = {};
  if (typeof clientContext === "string" && clientContext !== "") {
    try {
      const decoded = JSON.parse(Buffer.from(clientContext, "base64").toString("utf8"));
      if (!isObj(decoded)) return undefined;
      existing = decoded;
    } catch {
      return undefined;
    }
  }
  const custom = isObj(existing.custom) ? existing.custom : {};
  const encoded = Buffer.from(JSON.stringify({ ...existing, custom: { ...custom, ...carrier } })).toString(
    "base64",
  );
  return encoded.length <= MAX_CLIENT_CONTEXT_BYTES ? encoded : undefined;
}

const mapEntries = (entries: unknown, fn: (entry: Obj) => Obj): unknown =>
  Array.isArray(entries) ? entries.map((e) => (isObj(e) ? fn(e) : e)) : entries;

const withAttributes = (entry: Obj, key: string, carrier: Carrier): Obj => {
  const attributes = withMessageAttributes(entry[key], carrier);
  return attributes ? { ...entry, [key]: attributes } : entry;
};

const withDetail = (entry: Obj, carrier: Carrier): Obj => {
  const detail = withPayloadCarrier(typeof entry.Detail === "string" ? entry.Detail : "{}", carrier);
  return detail ? { ...entry, Detail: detail } : entry;
};

/**
 * Returns a copy of a command's input carrying the context (the caller's object is never mutated),
 * or the input itself for operations that trigger nothing.
 */
export function injectIntoInput(
  service: string,
  operation: string,
  input: unknown,
  carrier: Carrier,
): unknown {
  if (!isObj(input) || !carrier.traceparent) return input;
  switch (`${service}.${operation}`) {
    case "Lambda.Invoke": {
      if (input.InvocationType === "DryRun") return input;
      if (input.InvocationType === "Event") {
        const payload = withPayloadCarrier(input.Payload ?? "{}", carrier);
        return payload === undefined ? input : { ...input, Payload: payload };
      }
      const clientContext = withClientContext(input.ClientContext, carrier);
      return clientContext === undefined ? input : { ...input, ClientContext: clientContext };
    }
    case "SQS.SendMessage":
    case "SNS.Publish":
      return withAttributes(input, "MessageAttributes", carrier);
    case "SQS.SendMessageBatch":
      return {
        ...input,
        Entries: mapEntries(input.Entries, (e) => withAttributes(e, "MessageAttributes", carrier)),
      };
    case "SNS.PublishBatch":
      return {
        ...input,
        PublishBatchRequestEntries: mapEntries(input.PublishBatchRequestEntries, (e) =>
          withAttributes(e, "MessageAttributes", carrier),
        ),
      };
    case "EventBridge.PutEvents":
      return { ...input, Entries: mapEntries(input.Entries, (e) => withDetail(e, carrier)) };
    default:
      return input;
  }
}

const PRODUCERS = new Set([
  "SQS.SendMessage",
  "SQS.SendMessageBatch",
  "SNS.Publish",
  "SNS.PublishBatch",
  "EventBridge.PutEvents",
]);

function spanKind(service: string, operation: string, input: unknown): SpanKind {
  if (PRODUCERS.has(`${service}.${operation}`)) return SpanKind.PRODUCER;
  if (service === "Lambda" && operation === "Invoke" && isObj(input) && input.InvocationType === "Event") {
    return SpanKind.PRODUCER;
  }
  return SpanKind.CLIENT;
}

interface HandlerContext {
  clientName?: string;
  commandName?: string;
}
type Next = (args: { input: unknown }) => Promise<unknown>;

/** The middleware: a span per call, its context injected, the call's outcome recorded; never throws itself. */
export function fireflyMiddleware(next: Next, handlerContext: HandlerContext): Next {
  return async (args) => {
    let span: Span | undefined;
    let nextArgs = args;
    try {
      const service = (handlerContext.clientName ?? "AWS").replace(/Client$/, "");
      const operation = (handlerContext.commandName ?? "call").replace(/Command$/, "");
      span = trace.getTracer("firefly-aws-sdk").startSpan(`${service}.${operation}`, {
        kind: spanKind(service, operation, args.input),
        attributes: { "rpc.system": "aws-api", "rpc.service": service, "rpc.method": operation },
      });
      const carrier: Carrier = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      nextArgs = { ...args, input: injectIntoInput(service, operation, args.input, carrier) };
    } catch {
      nextArgs = args;
    }
    if (!span) return next(args);
    const active = trace.setSpan(context.active(), span);
    try {
      const output = await context.with(active, () => next(nextArgs));
      span.end();
      return output;
    } catch (error) {
      const exception = error instanceof Error ? error : new Error(String(error));
      span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
      span.end();
      throw error;
    }
  };
}

/** The plugin: `client.middlewareStack.use(firefly())`. */
export function firefly() {
  return {
    applyToStack(stack: { add(middleware: unknown, options: Record<string, unknown>): void }) {
      stack.add(fireflyMiddleware, { step: "initialize", name: "fireflyTraceContext", override: true });
    },
  };
}
