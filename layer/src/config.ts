// Layer settings from the environment, read once at init. Pure: takes the env, returns values, and
// reports what it could not honour as warnings instead of throwing (a bad setting must not break the
// function; it falls back to the default and says so in the function's log).
import { parseKeyPairsIntoRecord } from "@opentelemetry/core";
import { SAMPLERS, type SamplerName } from "./samplers";

export type { SamplerName };

/** Defaults, documented in docs/layer.md. */
export const DEFAULTS = {
  endpoint: "http://localhost:4318",
  flushTimeoutMs: 1000,
  timeoutMarginMs: 100,
  breakerRetryMs: 30000,
  logsMaxRecords: 1000,
  logsMaxBytes: 262144,
  protocol: "http/protobuf",
  sampler: "parentbased_always_on",
  propagators: "tracecontext,baggage",
} as const;

export type Protocol = "http/protobuf" | "http/json";

export interface LayerConfig {
  readonly tracesUrl: string;
  readonly protocol: Protocol;
  readonly headers: Record<string, string>;
  readonly flushTimeoutMs: number;
  /** Export after the response, as an internal extension (FIREFLY_EXPORT_AFTER_RESPONSE). */
  readonly exportAfterResponse: boolean;
  readonly timeoutMarginMs: number;
  /** How long the exporter's circuit breaker stays open before one export is tried again. */
  readonly breakerRetryMs: number;
  /** OTLP/HTTP logs URL: the logs-specific endpoint, else the base endpoint + `/v1/logs`. */
  readonly logsUrl: string;
  readonly logs: boolean;
  readonly logsMaxRecords: number;
  readonly logsMaxBytes: number;
  readonly serviceName: string;
  readonly resourceAttributes: Record<string, string>;
  readonly sampler: SamplerName;
  readonly samplerRatio: number;
  readonly propagators: readonly ("tracecontext" | "baggage")[];
  readonly disabled: boolean;
  /** No startup line (FIREFLY_QUIET); warnings are still written. */
  readonly quiet: boolean;
  /**
   * Several invocations in flight in one process (Lambda Managed Instances, which sets
   * AWS_LAMBDA_MAX_CONCURRENCY, the variable aws-lambda-ric 4 switches on).
   */
  readonly multiConcurrent: boolean;
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;
const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/** OTLP/HTTP traces URL: the signal-specific endpoint as-is, else the base endpoint + `/v1/traces`. */
export function tracesUrl(env: Env): string {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (specific) return specific;
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? DEFAULTS.endpoint;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** OTLP/HTTP logs URL, beside the traces URL: same endpoint and token. */
export function logsUrl(env: Env, traces: string): string {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT);
  if (specific) return specific;
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (base) return `${base.replace(/\/+$/, "")}/v1/logs`;
  return traces.replace(/\/v1\/traces\/?$/, "/v1/logs");
}

export function readConfig(env: Env): LayerConfig {
  const warnings: string[] = [];
  const number = (name: string, fallback: number, ok: (n: number) => boolean, what: string): number => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (Number.isFinite(n) && ok(n)) return n;
    warnings.push(`${name} "${raw}" is not ${what}; using ${fallback}.`);
    return fallback;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = nonEmpty(env[name])?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    warnings.push(`${name} "${raw}" is not true or false; using ${fallback}.`);
    return fallback;
  };

  let url = tracesUrl(env);
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(parsed.protocol);
  } catch {
    warnings.push(
      `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT "${url}" is not an http(s) URL; set it to e.g. https://collector.example.com:4318. Using ${DEFAULTS.endpoint}.`,
    );
    url = `${DEFAULTS.endpoint}/v1/traces`;
  }

  const rawProtocol =
    nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ??
    nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ??
    DEFAULTS.protocol;
  let protocol: Protocol = DEFAULTS.protocol;
  if (rawProtocol === "http/json" || rawProtocol === "http/protobuf") protocol = rawProtocol;
  else
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL "${rawProtocol}" is not supported by the Firefly layer (http/protobuf or http/json); using http/protobuf.`,
    );

  // Signal-specific headers override the shared ones key by key, as the OTel SDKs do.
  const headers = {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };

  let flushTimeoutMs: number = DEFAULTS.flushTimeoutMs;
  const rawFlush = nonEmpty(env.FIREFLY_FLUSH_TIMEOUT_MS);
  if (rawFlush !== undefined) {
    const n = Number(rawFlush);
    if (Number.isFinite(n) && n >= 0) flushTimeoutMs = n;
    else
      warnings.push(
        `FIREFLY_FLUSH_TIMEOUT_MS "${rawFlush}" is not a non-negative number of milliseconds; using ${DEFAULTS.flushTimeoutMs}.`,
      );
  }

  const exportAfterResponse = flag("FIREFLY_EXPORT_AFTER_RESPONSE", true);
  const timeoutMarginMs = number(
    "FIREFLY_TIMEOUT_MARGIN_MS",
    DEFAULTS.timeoutMarginMs,
    (n) => n >= 0,
    "a non-negative number of milliseconds",
  );
  const breakerRetryMs = number(
    "FIREFLY_BREAKER_RETRY_MS",
    DEFAULTS.breakerRetryMs,
    (n) => n >= 0,
    "a non-negative number of milliseconds",
  );
  const logs = flag("FIREFLY_LOGS", true);
  const positive = (n: number) => Number.isInteger(n) && n > 0;
  const logsMaxRecords = number(
    "FIREFLY_LOGS_MAX_RECORDS",
    DEFAULTS.logsMaxRecords,
    positive,
    "a positive integer",
  );
  const logsMaxBytes = number(
    "FIREFLY_LOGS_MAX_BYTES",
    DEFAULTS.logsMaxBytes,
    positive,
    "a positive integer",
  );

  const resourceAttributes = parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName =
    nonEmpty(env.OTEL_SERVICE_NAME) ??
    resourceAttributes["service.name"] ??
    nonEmpty(env.AWS_LAMBDA_FUNCTION_NAME) ??
    "unknown_service";

  const rawSampler = (nonEmpty(env.OTEL_TRACES_SAMPLER) ?? DEFAULTS.sampler).toLowerCase();
  let sampler: SamplerName = DEFAULTS.sampler;
  if ((SAMPLERS as readonly string[]).includes(rawSampler)) sampler = rawSampler as SamplerName;
  else
    warnings.push(
      `OTEL_TRACES_SAMPLER "${rawSampler}" is not one of ${SAMPLERS.join(", ")}; using ${DEFAULTS.sampler}.`,
    );
  let samplerRatio = 1;
  const rawArg = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
  if (rawArg !== undefined && sampler.endsWith("traceidratio")) {
    const n = Number(rawArg);
    if (Number.isFinite(n) && n >= 0 && n <= 1) samplerRatio = n;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG "${rawArg}" is not a ratio between 0 and 1; using 1.`);
  }

  const propagators: ("tracecontext" | "baggage")[] = [];
  for (const name of (nonEmpty(env.OTEL_PROPAGATORS) ?? DEFAULTS.propagators)
    .split(",")
    .map((p) => p.trim())) {
    if (name === "tracecontext" || name === "baggage") {
      if (!propagators.includes(name)) propagators.push(name);
    } else if (name !== "none" && name !== "")
      warnings.push(
        `OTEL_PROPAGATORS entry "${name}" is not supported by the Firefly layer (tracecontext, baggage); ignored.`,
      );
  }

  const disabled = ["true", "1"].includes((nonEmpty(env.OTEL_SDK_DISABLED) ?? "").toLowerCase());
  const quiet = flag("FIREFLY_QUIET", false);
  const multiConcurrent = env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined;

  return {
    tracesUrl: url,
    protocol,
    headers,
    flushTimeoutMs,
    exportAfterResponse,
    timeoutMarginMs,
    breakerRetryMs,
    logsUrl: logsUrl(env, url),
    logs,
    logsMaxRecords,
    logsMaxBytes,
    serviceName,
    resourceAttributes,
    sampler,
    samplerRatio,
    propagators,
    disabled,
    quiet,
    multiConcurrent,
    warnings,
  };
}
