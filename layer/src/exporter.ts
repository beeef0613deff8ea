// OTLP/HTTP span export with node:http(s). One POST per flush; the caller bounds it with a signal.
import type * as ChildProcess from "node:child_process";
import * as http from "node:http";
import type * as Https from "node:https";
import { context } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Protocol } from "./config";
import type { LogRecord } from "./logs";

export interface OtlpExporterOptions {
  readonly url: string;
  readonly protocol: Protocol;
  readonly headers: Readonly<Record<string, string>>;
  /** What it sends: spans (default) or log records (the layer's LogRecord). */
  readonly signal?: "traces" | "logs";
}

type Item = ReadableSpan | LogRecord;

// The child's whole program: POST stdin to FF_URL with FF_HEADERS; exit 0 on 2xx.
const SYNC_POST = `const u=new URL(process.env.FF_URL),m=require(u.protocol==="https:"?"node:https":"node:http"),c=[];process.stdin.on("data",d=>c.push(d)).on("end",()=>{const b=Buffer.concat(c);m.request(u,{method:"POST",headers:{...JSON.parse(process.env.FF_HEADERS),"content-length":b.length}},r=>{r.resume();r.on("end",()=>process.exit(r.statusCode>=200&&r.statusCode<300?0:2))}).on("error",()=>process.exit(3)).end(b)})`;

/** Sends spans to an OTLP/HTTP endpoint. Resolves when the endpoint answered 2xx; rejects otherwise. */
export class OtlpHttpExporter {
  private readonly url: URL;
  // Keep-alive saves a TCP (and TLS) handshake per invocation; a socket that died while the
  // environment was frozen is retried once on a fresh one.
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof Https;

  constructor(private readonly options: OtlpExporterOptions) {
    this.url = new URL(options.url);
    // TLS and crypto cost several ms of init to load: only when the endpoint needs them.
    this.transport = this.url.protocol === "https:" ? process.getBuiltinModule("node:https") : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 2 });
  }

  serialize(items: Item[]): Uint8Array {
    const json = this.options.protocol === "http/json";
    const body =
      this.options.signal === "logs"
        ? (json ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(items as never)
        : (json ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(items as ReadableSpan[]);
    if (!body) throw new Error("OTLP serialisation produced no body");
    return body;
  }

  /**
   * `background`: the export runs after the response (the layer as an extension) and must not keep
   * the event loop alive: the runtime's wait for its next event does that, and a callback-style
   * handler's response (aws-lambda-ric 3.x) is only posted once the loop is otherwise empty.
   */
  async send(spans: Item[], signal: AbortSignal, background = false): Promise<void> {
    const body = this.serialize(spans);
    try {
      await this.post(body, signal, background);
    } catch (error) {
      if ((error as { reusedSocket?: boolean }).reusedSocket && !signal.aborted)
        await this.post(body, signal, background);
      else throw error;
    }
  }

  /**
   * Exports from a process about to exit (an uncaught exception): the runtime exits as soon as the
   * event's listeners return, so the POST runs to completion in a short-lived child process, bounded
   * by `timeoutMs`. Costs a Node start (~40 ms), paid only on a crash. Throws when not exported.
   */
  sendSync(spans: Item[], timeoutMs: number): void {
    const body = this.serialize(spans);
    const contentType = this.options.protocol === "http/json" ? "application/json" : "application/x-protobuf";
    const env: Record<string, string> = {
      FF_URL: this.url.href,
      FF_HEADERS: JSON.stringify({ ...this.options.headers, "content-type": contentType }),
    };
    for (const key of ["PATH", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"]) {
      const value = process.env[key];
      if (value) env[key] = value;
    }
    // Loaded here, on a crash, not at init: child_process costs milliseconds of every cold start.
    const { execFileSync } = process.getBuiltinModule("node:child_process") as typeof ChildProcess;
    execFileSync(process.execPath, ["-e", SYNC_POST], {
      input: body,
      timeout: timeoutMs,
      env,
      stdio: "pipe",
    });
  }

  private post(body: Uint8Array, signal: AbortSignal, background: boolean): Promise<void> {
    const contentType = this.options.protocol === "http/json" ? "application/json" : "application/x-protobuf";
    const transport = this.transport;
    // Our own export must not become a traced client span (nor carry a traceparent).
    return context.with(suppressTracing(context.active()), () => {
      return new Promise<void>((resolve, reject) => {
        const req = transport.request(
          this.url,
          {
            method: "POST",
            agent: this.agent,
            signal,
            headers: {
              ...this.options.headers,
              "content-type": contentType,
              "content-length": body.byteLength,
            },
          },
          (res) => {
            res.resume();
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) res.on("end", resolve);
            else reject(new Error(`OTLP endpoint ${this.url.origin} answered HTTP ${status}`));
            res.on("error", reject);
          },
        );
        if (background) req.on("socket", (socket) => socket.unref());
        req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
        req.end(body);
      });
    });
  }

  shutdown(): void {
    this.agent.destroy();
  }
}
