// Incoming context: pure parsers, one per trigger, chosen by one router (`extractParent`).
// Nothing here reads globals or throws: a malformed event yields a new root trace.
import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  SpanKind,
  type TextMapPropagator,
  trace,
} from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Carrier, FaasTrigger, IncomingContext, LambdaContextLike, TriggerSource } from "./types";

/** The key under which EventBridge `detail` and async Invoke payloads carry context. */
export const PAYLOAD_KEY = "_firefly";

/** tracecontext + baggage: the default of OTEL_PROPAGATORS. */
export const DEFAULT_PROPAGATOR: TextMapPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

const FIELDS = ["traceparent", "tracestate", "baggage"] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Builds a carrier from a lookup, keeping only string values; undefined when it holds no traceparent. */
function carrierFrom(get: (field: string) => unknown): Carrier | undefined {
  const carrier: Carrier = {};
  for (const field of FIELDS) {
    const value = str(get(field));
    if (value !== undefined) carrier[field] = value;
  }
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** A plain `{traceparent, tracestate, baggage}` object, as in `_firefly` or ClientContext.custom. */
export function parseCarrierObject(value: unknown): Carrier | undefined {
  return isObj(value) ? carrierFrom((f) => value[f]) : undefined;
}

/** HTTP headers of API Gateway REST/HTTP APIs, function URLs and ALB: any case, multi-value too. */
export function parseHttpHeaders(event: unknown): Carrier | undefined {
  if (!isObj(event)) return undefined;
  const lower = new Map<string, unknown>();
  // Single-value headers win over multiValueHeaders, as API Gateway fills both with the same value.
  for (const [source, pick] of [
    [event.multiValueHeaders, (v: unknown) => (Array.isArray(v) ? v[0] : undefined)],
    [event.headers, (v: unknown) => v],
  ] as const) {
    if (!isObj(source)) continue;
    for (const [key, value] of Object.entries(source)) lower.set(key.toLowerCase(), pick(value));
  }
  return carrierFrom((f) => lower.get(f));
}

/** One SQS record: message attributes, else an SNS envelope in the body (SNS → SQS without raw delivery). */
export function parseSqsRecord(record: unknown): Carrier | undefined {
  if (!isObj(record)) return undefined;
  const attrs = record.messageAttributes;
  if (isObj(attrs)) {
    const found = carrierFrom((f) => (isObj(attrs[f]) ? (attrs[f] as Obj).stringValue : undefined));
    if (found) return found;
  }
  const body = str(record.body);
  if (body === undefined || !body.startsWith("{")) return undefined;
  try {
    return parseSnsMessageAttributes(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/** SNS message attributes (`{Type, Value}`), inside a Lambda SNS record or an SNS JSON envelope. */
function parseSnsMessageAttributes(message: unknown): Carrier | undefined {
  if (!isObj(message) || !isObj(message.MessageAttributes)) return undefined;
  const attrs = message.MessageAttributes;
  return carrierFrom((f) => (isObj(attrs[f]) ? (attrs[f] as Obj).Value : undefined));
}

/** One SNS → Lambda record: `Sns.MessageAttributes.traceparent.Value`. */
export function parseSnsRecord(record: unknown): Carrier | undefined {
  return isObj(record) ? parseSnsMessageAttributes(record.Sns) : undefined;
}

/** EventBridge: only `detail._firefly` reaches the target. */
export function parseEventBridge(event: unknown): Carrier | undefined {
  return isObj(event) && isObj(event.detail) ? parseCarrierObject(event.detail[PAYLOAD_KEY]) : undefined;
}

/** Synchronous SDK Invoke: `context.clientContext.custom`. */
export function parseClientContext(lambdaContext: LambdaContextLike | undefined): Carrier | undefined {
  return parseCarrierObject(lambdaContext?.clientContext?.custom);
}

/** Asynchronous SDK Invoke (`InvocationType: Event` drops ClientContext): payload `_firefly`. */
export function parseInvokePayload(event: unknown): Carrier | undefined {
  return isObj(event) ? parseCarrierObject(event[PAYLOAD_KEY]) : undefined;
}

/** Classifies an event by shape. Order matters: records first, then HTTP, then EventBridge. */
export function classify(event: unknown): TriggerSource {
  if (!isObj(event)) return "unknown";
  const records = event.Records;
  if (Array.isArray(records) && records.length > 0 && isObj(records[0])) {
    const source = str(records[0].eventSource) ?? str(records[0].EventSource);
    if (source === "aws:sqs") return "sqs";
    if (source === "aws:sns") return "sns";
    if (source?.startsWith("aws:")) return "datasource";
  }
  const rc = event.requestContext;
  if (isObj(rc)) {
    if (isObj(rc.elb)) return "alb";
    if (event.version === "2.0" && isObj(rc.http)) {
      return str(rc.domainName)?.includes(".lambda-url.") ? "function-url" : "api-gateway-http";
    }
    if (typeof event.httpMethod === "string") return "api-gateway-rest";
  }
  if (typeof event["detail-type"] === "string" && typeof event.source === "string" && "detail" in event) {
    return event["detail-type"] === "Scheduled Event" ? "schedule" : "eventbridge";
  }
  return "unknown";
}

const TRIGGER: Record<TriggerSource, FaasTrigger> = {
  "api-gateway-rest": "http",
  "api-gateway-http": "http",
  "function-url": "http",
  alb: "http",
  sqs: "pubsub",
  sns: "pubsub",
  eventbridge: "pubsub",
  schedule: "timer",
  invoke: "other",
  datasource: "datasource",
  unknown: "other",
};

/** HTTP method, route and path of the HTTP triggers, for span name and attributes. */
function httpAttributes(event: Obj, source: TriggerSource): { name?: string; attributes: Attributes } {
  const rc = isObj(event.requestContext) ? event.requestContext : {};
  const http = isObj(rc.http) ? rc.http : {};
  const method = str(event.httpMethod) ?? str(http.method);
  const path = str(event.path) ?? str(event.rawPath) ?? str(http.path);
  // REST APIs name the route in `resource`; HTTP APIs in `routeKey` ("GET /items/{id}" or "$default").
  const routeKey = str(event.routeKey);
  const route =
    source === "api-gateway-rest"
      ? str(event.resource)
      : routeKey && routeKey !== "$default"
        ? routeKey.slice(routeKey.indexOf(" ") + 1)
        : undefined;
  const attributes: Attributes = {};
  if (method) attributes["http.request.method"] = method;
  if (path) attributes["url.path"] = path;
  if (route) attributes["http.route"] = route;
  return { name: method && route ? `${method} ${route}` : undefined, attributes };
}

function recordsAttributes(event: Obj, source: "sqs" | "sns"): Attributes {
  const records = event.Records as unknown[];
  const first = records[0] as Obj;
  const arn = source === "sqs" ? str(first.eventSourceARN) : str(first.EventSubscriptionArn);
  const parts = arn?.split(":") ?? [];
  const attributes: Attributes = {
    "messaging.system": source === "sqs" ? "aws_sqs" : "aws_sns",
    "messaging.operation.type": "process",
    "messaging.batch.message_count": records.length,
  };
  // The queue/topic name is the sixth ARN field (a subscription ARN adds a seventh, the subscription id).
  if (parts[5]) attributes["messaging.destination.name"] = parts[5];
  if (records.length === 1) {
    const id =
      source === "sqs" ? str(first.messageId) : isObj(first.Sns) ? str(first.Sns.MessageId) : undefined;
    if (id) attributes["messaging.message.id"] = id;
  }
  return attributes;
}

function toContext(carrier: Carrier | undefined, propagator: TextMapPropagator): Context | undefined {
  if (!carrier) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, key) => (c as Record<string, string | undefined>)[key],
    keys: (c) => Object.keys(c as object),
  });
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? ctx : undefined;
}

/**
 * Decides the parent (or links) of the invocation span from the event and the Lambda context.
 * Pure and total: any malformed input gives a root context and trigger "other".
 */
export function extractParent(
  event: unknown,
  lambdaContext?: LambdaContextLike,
  propagator: TextMapPropagator = DEFAULT_PROPAGATOR,
): IncomingContext {
  try {
    return route(event, lambdaContext, propagator);
  } catch {
    return {
      source: "unknown",
      trigger: "other",
      parent: ROOT_CONTEXT,
      links: [],
      kind: SpanKind.SERVER,
      attributes: {},
    };
  }
}

function route(
  event: unknown,
  lambdaContext: LambdaContextLike | undefined,
  propagator: TextMapPropagator,
): IncomingContext {
  const source = classify(event);
  const base = {
    source,
    trigger: TRIGGER[source],
    links: [] as Link[],
    kind: SpanKind.SERVER,
    attributes: {},
  };
  const e = event as Obj;
  switch (source) {
    case "sqs":
    case "sns": {
      const parse = source === "sqs" ? parseSqsRecord : parseSnsRecord;
      const contexts = (e.Records as unknown[]).map((r) => toContext(parse(r), propagator));
      const found = contexts.filter((c): c is Context => c !== undefined);
      const attributes = recordsAttributes(e, source);
      // One message: its producer is the parent. A batch has many parents: link each, start a new trace.
      if ((e.Records as unknown[]).length === 1) {
        return { ...base, kind: SpanKind.CONSUMER, attributes, parent: found[0] ?? ROOT_CONTEXT };
      }
      const links = found.map((c) => ({ context: trace.getSpanContext(c)! }));
      return { ...base, kind: SpanKind.CONSUMER, attributes, links, parent: ROOT_CONTEXT };
    }
    case "api-gateway-rest":
    case "api-gateway-http":
    case "function-url":
    case "alb": {
      const { name, attributes } = httpAttributes(e, source);
      const parent =
        toContext(parseHttpHeaders(e), propagator) ??
        toContext(parseClientContext(lambdaContext), propagator) ??
        ROOT_CONTEXT;
      return { ...base, name, attributes, parent };
    }
    case "eventbridge":
    case "schedule": {
      const attributes: Attributes = {
        "aws.eventbridge.source": str(e.source) ?? "",
        "aws.eventbridge.detail_type": str(e["detail-type"]) ?? "",
      };
      const parent = toContext(parseEventBridge(e), propagator) ?? ROOT_CONTEXT;
      return { ...base, attributes, parent };
    }
    default: {
      // A direct SDK Invoke: ClientContext when synchronous, the payload when asynchronous.
      const parent =
        toContext(parseClientContext(lambdaContext), propagator) ??
        toContext(parseInvokePayload(event), propagator);
      if (parent) return { ...base, source: "invoke", trigger: "other", parent };
      return { ...base, parent: ROOT_CONTEXT };
    }
  }
}
