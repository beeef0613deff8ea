// Client spans and traceparent for outgoing http/https and fetch requests, through Node's diagnostics
// channels: no require hooks, nothing loaded until a request is made.
// Node publishes `http.client.request.created` (headers still writable) from 22.12 on. Node 20 only
// publishes `http.client.request.start` once the headers are sent, so there the request is caught one
// step earlier, in http.Agent#addRequest (every ClientRequest passes through it, https included).
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Agent, type ClientRequest } from "node:http";
import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";

/** The part of an undici request the `undici:request:*` channels expose. */
interface UndiciRequest {
  readonly origin?: string | URL;
  readonly method?: string;
  readonly path?: string;
  addHeader?(name: string, value: string): unknown;
}

export interface HttpClientOptions {
  /** `host:port` values never traced, e.g. the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API). */
  readonly ignoreHosts: readonly string[];
}

/** url.full without the query string: presigned URLs carry credentials there. */
function stripQuery(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

function startClientSpan(tracer: Tracer, method: string, url: URL): Span {
  return tracer.startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: {
      "http.request.method": method,
      "server.address": url.hostname,
      "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80),
      "url.full": `${url.origin}${stripQuery(url.pathname)}`,
    },
  });
}

function endWithStatus(span: Span, status: number | undefined): void {
  if (typeof status === "number") {
    span.setAttribute("http.response.status_code", status);
    if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function endWithError(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
  span.end();
}

/** Injects the span's context through `set`, ignoring failures (e.g. headers already sent). */
function inject(span: Span, set: (name: string, value: string) => void): void {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  for (const [name, value] of Object.entries(carrier)) {
    try {
      set(name, value);
    } catch {
      // the request was built with raw headers: it stays untraced downstream, but works
    }
  }
}

/** Subscribes to the http and undici channels; returns a function that unsubscribes. */
export function instrumentHttpClients(tracer: Tracer, options: HttpClientOptions): () => void {
  const spans = new WeakMap<object, Span>();
  const ignored = new Set(options.ignoreHosts);
  // Every handler is guarded: a channel subscriber that throws would throw inside the user's request.
  const guard =
    <M>(fn: (message: M) => void) =>
    (message: unknown) => {
      try {
        fn(message as M);
      } catch {
        // telemetry never breaks a request
      }
    };
  const shouldTrace = (host: string) => !ignored.has(host) && !isTracingSuppressed(context.active());

  const onRequestCreated = guard<{ request: ClientRequest }>(({ request }) => {
    const host = String(request.getHeader("host") ?? request.host);
    if (!shouldTrace(host)) return;
    const url = new URL(`${request.protocol}//${host}${request.path}`);
    const span = startClientSpan(tracer, request.method, url);
    spans.set(request, span);
    if (!request.headersSent) inject(span, (name, value) => request.setHeader(name, value));
  });
  const restore = catchCreatedRequests(onRequestCreated);

  // http and undici report the outcome in the same two shapes: a response with a status, or an error.
  const onResponse = guard<{ request: object; response: { statusCode?: number } }>(
    ({ request, response }) => {
      const span = spans.get(request);
      if (span) endWithStatus(span, response.statusCode);
      spans.delete(request);
    },
  );
  const onError = guard<{ request: object; error: unknown }>(({ request, error }) => {
    const span = spans.get(request);
    if (span) endWithError(span, error);
    spans.delete(request);
  });
  const subscriptions: [string, (message: unknown) => void][] = [
    ["http.client.response.finish", onResponse],
    ["http.client.request.error", onError],
    [
      "undici:request:create",
      guard<{ request: UndiciRequest }>(({ request }) => {
        if (!request.origin) return;
        const url = new URL(String(request.path ?? "/"), request.origin);
        if (!shouldTrace(url.host)) return;
        const span = startClientSpan(tracer, request.method ?? "GET", url);
        spans.set(request, span);
        inject(span, (name, value) => request.addHeader?.(name, value));
      }),
    ],
    ["undici:request:headers", onResponse],
    ["undici:request:error", onError],
  ];
  for (const [name, fn] of subscriptions) subscribe(name, fn);
  return () => {
    restore();
    for (const [name, fn] of subscriptions) unsubscribe(name, fn);
  };
}

/** Calls `onCreated` for every new ClientRequest while its headers can still be set; returns an undo. */
function catchCreatedRequests(onCreated: (message: unknown) => void): () => void {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) {
    subscribe("http.client.request.created", onCreated);
    return () => unsubscribe("http.client.request.created", onCreated);
  }
  const proto = Agent.prototype as unknown as { addRequest(req: ClientRequest, ...rest: unknown[]): unknown };
  const original = proto.addRequest;
  proto.addRequest = function (this: unknown, req: ClientRequest, ...rest: unknown[]) {
    onCreated({ request: req });
    return original.call(this, req, ...rest);
  };
  return () => {
    proto.addRequest = original;
  };
}
