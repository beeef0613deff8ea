// A trace store the suite can stop and start: an OTLP/gRPC TraceService on node:http2 (h2c) that keeps
// the span and trace ids of the spans it accepted (the fault suite and the replicas test use it). Jaeger and Promscale cannot run on this machine; what the faults
// exercise is the collector's exporter and its persistent queue, which see exactly the same protocol
// (unary Export, gzip, grpc-status) from this store as from theirs. Duplicates (a retry after a lost
// answer) count once: the question is whether a span is missing, not how often it came.
import * as http2 from "node:http2";
import type * as net from "node:net";
import * as zlib from "node:zlib";

const EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/** Reads a protobuf varint at `pos`; returns [value, next position]. Values here stay below 2^53. */
function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** The length-delimited fields numbered `field` of one protobuf message. */
function fields(buf: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = varint(buf, pos);
    pos = afterTag;
    const wire = tag & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, start] = varint(buf, pos);
      if (tag >>> 3 === field) out.push(buf.subarray(start, start + len));
      pos = start + len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/**
 * [span id, trace id] (hex) of each span in an ExportTraceServiceRequest:
 * resource_spans(1) → scope_spans(2) → spans(2) → trace_id(1), span_id(2).
 */
export function spanRecords(request: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (const rs of fields(request, 1))
    for (const ss of fields(rs, 2))
      for (const span of fields(ss, 2))
        out.push([fields(span, 2)[0].toString("hex"), fields(span, 1)[0].toString("hex")]);
  return out;
}

export class TraceStore {
  /** span id → trace id of every span accepted. */
  readonly spans = new Map<string, string>();
  requests = 0;
  private server: http2.Http2Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly port: number) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = http2.createServer();
    server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    server.on("stream", (stream, headers) => this.handle(stream, headers));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** An outage: the listener goes away and every open connection is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => undefined);
    stream.on("end", () => {
      let status = 0;
      let message = "";
      try {
        if (headers[":path"] !== EXPORT_PATH) throw Object.assign(new Error("unimplemented"), { grpc: 12 });
        const frame = Buffer.concat(chunks);
        if (frame.length < 5) throw new Error("short gRPC frame");
        let body = frame.subarray(5, 5 + frame.readUInt32BE(1));
        if (frame[0] === 1) {
          const encoding = headers["grpc-encoding"];
          if (encoding !== "gzip") throw new Error(`unsupported grpc-encoding ${encoding}`);
          body = zlib.gunzipSync(body);
        }
        this.requests++;
        for (const [spanId, traceId] of spanRecords(body)) this.spans.set(spanId, traceId);
      } catch (error) {
        status = (error as { grpc?: number }).grpc ?? 13;
        message = (error as Error).message;
      }
      if (stream.destroyed) return;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () =>
        stream.sendTrailers(
          status === 0 ? { "grpc-status": "0" } : { "grpc-status": String(status), "grpc-message": message },
        ),
      );
      // An empty ExportTraceServiceResponse: uncompressed flag, zero length.
      stream.end(status === 0 ? Buffer.alloc(5) : undefined);
    });
  }
}
