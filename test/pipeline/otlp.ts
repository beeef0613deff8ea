// OTLP/HTTP JSON spans for the pipeline tests: small trees with chosen ids, status and attributes,
// posted the way an OpenTelemetry exporter does (POST /v1/traces, Authorization header).
import { randomBytes } from "node:crypto";

export const SPAN_KIND = { server: 2, client: 3 } as const;

export interface TestSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  durationMs?: number;
  error?: boolean;
  attributes?: Record<string, string | boolean>;
  /** service.name of the span's resource; spans of one service share a resource. */
  service: string;
}

export const newTraceId = () => randomBytes(16).toString("hex");
export const newSpanId = () => randomBytes(8).toString("hex");

const attribute = ([key, value]: [string, string | boolean]) => ({
  key,
  value: typeof value === "boolean" ? { boolValue: value } : { stringValue: value },
});

/** An ExportTraceServiceRequest in OTLP/JSON for one trace; `faas.name` = service name. */
export function traceRequest(traceId: string, spans: TestSpan[]) {
  const start = BigInt(Date.now() - 5_000) * 1_000_000n;
  const services = [...new Set(spans.map((s) => s.service))];
  return {
    resourceSpans: services.map((service) => ({
      resource: {
        attributes: [
          ["service.name", service],
          ["faas.name", service],
          ["cloud.provider", "aws"],
        ].map((kv) => attribute(kv as [string, string])),
      },
      scopeSpans: [
        {
          scope: { name: "firefly-pipeline-test" },
          spans: spans
            .filter((s) => s.service === service)
            .map((s) => ({
              traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: String(start),
              endTimeUnixNano: String(start + BigInt(s.durationMs ?? 20) * 1_000_000n),
              attributes: Object.entries({ "faas.trigger": "http", ...s.attributes }).map(attribute),
              status: s.error ? { code: 2, message: "boom" } : {},
            })),
        },
      ],
    })),
  };
}

/** POSTs one trace to `${otlpUrl}/v1/traces`; returns the HTTP status. */
export async function sendTrace(
  otlpUrl: string,
  headers: Record<string, string>,
  traceId: string,
  spans: TestSpan[],
): Promise<number> {
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(traceRequest(traceId, spans)),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** A three-span, two-service trace: an HTTP request (server) calling another function (client → server). */
export function callChain(prefix: string): TestSpan[] {
  const root = newSpanId();
  const call = newSpanId();
  return [
    { spanId: root, name: "GET /orders", kind: SPAN_KIND.server, service: `${prefix}-api`, durationMs: 40 },
    {
      spanId: call,
      parentSpanId: root,
      name: "Lambda.Invoke",
      kind: SPAN_KIND.client,
      service: `${prefix}-api`,
      durationMs: 30,
    },
    {
      spanId: newSpanId(),
      parentSpanId: call,
      name: `${prefix}-worker`,
      kind: SPAN_KIND.server,
      service: `${prefix}-worker`,
      durationMs: 25,
    },
  ];
}
