// Small query helpers for the stores behind the local pipeline: PromQL over Prometheus's HTTP API and
// the Jaeger query API (the same APIs Promscale serves, so these work against either store).
import { sleep } from "./processes";

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** Instant PromQL query; throws on an API error. */
export async function promQuery(prometheusUrl: string, expr: string): Promise<PromSample[]> {
  const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== "success" || !body.data)
    throw new Error(`PromQL ${expr}: ${body.error ?? response.status}`);
  if (body.data.resultType !== "vector")
    throw new Error(`PromQL ${expr}: expected a vector, got ${body.data.resultType}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/**
 * Polls a PromQL query until it returns at least `min` samples and `until` holds (counters start at 0:
 * wait for the value, not the series); returns them or throws after `timeoutMs`.
 */
export async function waitForSamples(
  prometheusUrl: string,
  expr: string,
  {
    min = 1,
    timeoutMs = 30_000,
    until = () => true,
  }: { min?: number; timeoutMs?: number; until?: (samples: PromSample[]) => boolean } = {},
): Promise<PromSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await promQuery(prometheusUrl, expr);
    if (samples.length >= min && until(samples)) return samples;
    if (Date.now() > deadline) {
      throw new Error(
        `PromQL ${expr}: ${JSON.stringify(samples)} after ${timeoutMs} ms, expected ≥ ${min} samples${until.name ? ` and ${until.name}` : ""}`,
      );
    }
    await sleep(500);
  }
}

/** Names of every series Prometheus holds matching a selector (e.g. `{FunctionName="x"}`). */
export async function promSeries(prometheusUrl: string, match: string): Promise<Record<string, string>[]> {
  const url = `${prometheusUrl}/api/v1/series?match[]=${encodeURIComponent(match)}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
    data: Record<string, string>[];
  };
  return body.data;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
  startTime: number;
  duration: number;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** One trace by id (hex), or undefined when the store does not have it. */
export async function jaegerTrace(jaegerUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) return undefined;
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

/** Polls until the trace holds at least `spans` spans; throws after `timeoutMs`. */
export async function waitForTrace(
  jaegerUrl: string,
  traceId: string,
  { spans = 1, timeoutMs = 30_000 }: { spans?: number; timeoutMs?: number } = {},
): Promise<JaegerTrace> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const trace = await jaegerTrace(jaegerUrl, traceId);
    if (trace && trace.spans.length >= spans) return trace;
    if (Date.now() > deadline) {
      throw new Error(
        `trace ${traceId}: ${trace?.spans.length ?? 0} spans after ${timeoutMs} ms, expected ≥ ${spans}`,
      );
    }
    await sleep(500);
  }
}

/** Service names the trace store knows. */
export async function jaegerServices(jaegerUrl: string): Promise<string[]> {
  const body = (await (
    await fetch(`${jaegerUrl}/api/services`, { signal: AbortSignal.timeout(10_000) })
  ).json()) as {
    data: string[] | null;
  };
  return body.data ?? [];
}

/** Traces of one service, newest first (Jaeger's search API). */
export async function jaegerFindTraces(
  jaegerUrl: string,
  service: string,
  limit = 20,
): Promise<JaegerTrace[]> {
  const url = `${jaegerUrl}/api/traces?service=${encodeURIComponent(service)}&limit=${limit}&lookback=1h`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
    data: JaegerTrace[] | null;
  };
  return body.data ?? [];
}
