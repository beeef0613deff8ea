import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";

/** Where an invocation came from, as far as its event shape tells. */
export type TriggerSource =
  | "api-gateway-rest"
  | "api-gateway-http"
  | "function-url"
  | "alb"
  | "sqs"
  | "sns"
  | "eventbridge"
  | "schedule"
  | "invoke"
  | "datasource"
  | "unknown";

/** The values of the FaaS semantic convention attribute `faas.trigger`. */
export type FaasTrigger = "http" | "pubsub" | "datasource" | "timer" | "other";

/** Text-map fields that carry W3C context; missing means absent from the event. */
export interface Carrier {
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
}

/** What the router decided about one invocation: its parent, links, kind and trigger attributes. */
export interface IncomingContext {
  readonly source: TriggerSource;
  readonly trigger: FaasTrigger;
  /** The context to start the invocation span in: ROOT_CONTEXT when the event carried none. */
  readonly parent: Context;
  /** One link per message context of a batch (empty otherwise). */
  readonly links: Link[];
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  /** Span name when the trigger gives a better one than the function name (e.g. `GET /items/{id}`). */
  readonly name?: string;
}

/** The part of the Lambda context object the router reads. */
export interface LambdaContextLike {
  readonly clientContext?: { readonly custom?: unknown } | null;
}
