// An OTLP/HTTP traces endpoint served by the test: decodes protobuf (a minimal wire-format reader,
// independent of the encoder under test) and JSON, and keeps every span and request it received.
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface ReceivedRequest {
  contentType: string;
  headers: http.IncomingHttpHeaders;
  spans: number;
}

// ---- protobuf wire format: varint, fixed64, length-delimited, fixed32 ----
type Field = { no: number; wire: number; value: bigint | Uint8Array };

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error("truncated varint");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const fixed = (n: number): bigint => {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i]);
    pos += n;
    return v;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) yield { no, wire, value: fixed(8) };
    else if (wire === 5) yield { no, wire, value: fixed(4) };
    else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const text = (v: Field["value"]) => Buffer.from(v as Uint8Array).toString("utf8");
const hex = (v: Field["value"]) => Buffer.from(v as Uint8Array).toString("hex");

function anyValue(buf: Uint8Array): unknown {
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        return text(f.value);
      case 2:
        return f.value !== 0n;
      case 3:
        return Number(BigInt.asIntN(64, f.value as bigint));
      case 4: {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(f.value as bigint);
        return b.readDoubleLE();
      }
      case 5:
        return [...fields(f.value as Uint8Array)]
          .filter((g) => g.no === 1)
          .map((g) => anyValue(g.value as Uint8Array));
      case 7:
        return hex(f.value);
    }
  }
  return undefined;
}

function keyValues(list: Uint8Array[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    let key = "";
    let value: unknown;
    for (const f of fields(kv)) {
      if (f.no === 1) key = text(f.value);
      if (f.no === 2) value = anyValue(f.value as Uint8Array);
    }
    out[key] = value;
  }
  return out;
}

const sub = (buf: Uint8Array, no: number) =>
  [...fields(buf)].filter((f) => f.no === no).map((f) => f.value as Uint8Array);

function decodeSpan(buf: Uint8Array, resource: Record<string, unknown>, scope: string): ReceivedSpan {
  const span: ReceivedSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    traceState: "",
    name: "",
    kind: 0,
    startNs: 0n,
    endNs: 0n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: "" },
    resource,
    scope,
  };
  const attrs: Uint8Array[] = [];
  for (const f of fields(buf)) {
    if (f.no === 1) span.traceId = hex(f.value);
    else if (f.no === 2) span.spanId = hex(f.value);
    else if (f.no === 3) span.traceState = text(f.value);
    else if (f.no === 4) span.parentSpanId = hex(f.value);
    else if (f.no === 5) span.name = text(f.value);
    else if (f.no === 6) span.kind = Number(f.value);
    else if (f.no === 7) span.startNs = f.value as bigint;
    else if (f.no === 8) span.endNs = f.value as bigint;
    else if (f.no === 9) attrs.push(f.value as Uint8Array);
    else if (f.no === 11) {
      const ev = f.value as Uint8Array;
      span.events.push({ name: sub(ev, 2).map((v) => text(v))[0] ?? "", attributes: keyValues(sub(ev, 3)) });
    } else if (f.no === 13) {
      const link = f.value as Uint8Array;
      span.links.push({
        traceId: hex(sub(link, 1)[0] ?? new Uint8Array()),
        spanId: hex(sub(link, 2)[0] ?? new Uint8Array()),
      });
    } else if (f.no === 15) {
      for (const g of fields(f.value as Uint8Array)) {
        if (g.no === 2) span.status.message = text(g.value);
        if (g.no === 3) span.status.code = Number(g.value);
      }
    }
  }
  span.attributes = keyValues(attrs);
  return span;
}

/** Decodes an ExportTraceServiceRequest. */
export function decodeProtobuf(body: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of sub(body, 1)) {
    const resource = keyValues(sub(sub(rs, 1)[0] ?? new Uint8Array(), 1));
    for (const ss of sub(rs, 2)) {
      const scopeBuf = sub(ss, 1)[0];
      const scope = scopeBuf ? (sub(scopeBuf, 1).map((v) => text(v))[0] ?? "") : "";
      for (const s of sub(ss, 2)) spans.push(decodeSpan(s, resource, scope));
    }
  }
  return spans;
}

export interface ReceivedLog {
  timeNs: bigint;
  severityNumber: number;
  severityText: string;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId: string;
  spanId: string;
  resource: Record<string, unknown>;
}

/** Decodes an ExportLogsServiceRequest. */
export function decodeLogsProtobuf(body: Uint8Array): ReceivedLog[] {
  const logs: ReceivedLog[] = [];
  for (const rl of sub(body, 1)) {
    const resource = keyValues(sub(sub(rl, 1)[0] ?? new Uint8Array(), 1));
    for (const sl of sub(rl, 2)) {
      for (const r of sub(sl, 2)) {
        const log: ReceivedLog = {
          timeNs: 0n,
          severityNumber: 0,
          severityText: "",
          body: undefined,
          attributes: {},
          traceId: "",
          spanId: "",
          resource,
        };
        const attrs: Uint8Array[] = [];
        for (const f of fields(r)) {
          if (f.no === 1) log.timeNs = f.value as bigint;
          else if (f.no === 2) log.severityNumber = Number(f.value);
          else if (f.no === 3) log.severityText = text(f.value);
          else if (f.no === 5) log.body = anyValue(f.value as Uint8Array);
          else if (f.no === 6) attrs.push(f.value as Uint8Array);
          else if (f.no === 9) log.traceId = hex(f.value);
          else if (f.no === 10) log.spanId = hex(f.value);
        }
        log.attributes = keyValues(attrs);
        logs.push(log);
      }
    }
  }
  return logs;
}

// ---- OTLP/JSON ----
function jsonValue(v: any): unknown {
  if (v === undefined || v === null) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}
const jsonAttrs = (list: any[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

/** Decodes an ExportTraceServiceRequest in OTLP/JSON (ids as hex, per the OTLP spec). */
export function decodeJson(body: string): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of JSON.parse(body).resourceSpans ?? []) {
    const resource = jsonAttrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          traceState: s.traceState ?? "",
          name: s.name,
          kind: s.kind,
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          attributes: jsonAttrs(s.attributes),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: jsonAttrs(e.attributes) })),
          links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
          resource,
          scope: ss.scope?.name ?? "",
        });
      }
    }
  }
  return spans;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the receiver serves `/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly requests: ReceivedRequest[];
  /** Log records received on `/v1/logs` (protobuf). */
  readonly logs: ReceivedLog[];
  /** Resolves once at least `count` log records arrived; rejects after `timeoutMs`. */
  waitForLogs(count: number, timeoutMs?: number): Promise<ReceivedLog[]>;
  /** Resolves once at least `count` spans arrived; rejects after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Answers with this status instead of 200 (e.g. 401 for a missing token). */
  respondWith(status: number): void;
  /** Holds every answer back this long (a slow collector); the data is recorded on arrival. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts an OTLP/HTTP receiver on loopback. `requiredHeaders` must match or it answers 401.
 * With `tls` (PEM key and certificate) it serves HTTPS.
 */
export async function startOtlpReceiver(
  requiredHeaders: Record<string, string> = {},
  tls?: { key: string; cert: string },
): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  const logs: ReceivedLog[] = [];
  let status = 200;
  let delayMs = 0;
  const waiters: (() => void)[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/logs" && req.method === "POST") {
        const authorized = Object.entries(requiredHeaders).every(
          ([k, v]) => req.headers[k.toLowerCase()] === v,
        );
        if (authorized && status === 200) logs.push(...decodeLogsProtobuf(Buffer.concat(chunks)));
        res.writeHead(authorized ? status : 401).end();
        for (const w of waiters.splice(0)) w();
        return;
      }
      if (req.url !== "/v1/traces" || req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      for (const [k, v] of Object.entries(requiredHeaders)) {
        if (req.headers[k.toLowerCase()] !== v) {
          res.writeHead(401).end();
          return;
        }
      }
      const body = Buffer.concat(chunks);
      const contentType = String(req.headers["content-type"] ?? "");
      const decoded = contentType.includes("json") ? decodeJson(body.toString("utf8")) : decodeProtobuf(body);
      requests.push({ contentType, headers: req.headers, spans: decoded.length });
      if (status === 200) spans.push(...decoded);
      for (const w of waiters.splice(0)) w();
      const answer = () => res.writeHead(status, { "content-type": contentType }).end();
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    spans,
    requests,
    logs,
    async waitForLogs(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (logs.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} log records, received ${logs.length}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 50));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return logs;
    },
    respondWith: (s) => {
      status = s;
    },
    delay: (ms) => {
      delayMs = ms;
    },
    async waitForSpans(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (spans.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} spans, received ${spans.length}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
