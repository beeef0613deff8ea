// OTLP/HTTP span export with node:http(s). One POST per flush; the caller bounds it with a signal.
// Nothing here runs in init but the constructor: the serialisers, the transport and its agent are
// loaded and made at the first export, after the first response.
import type * as ChildProcess from "node:child_process";
import type * as Http from "node:http";
import { context } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Protocol } from "./config";
import type { LogRecord } from "./logs";
import type * as Serialize from "./serialize";

export interface OtlpExporterOptions {
  readonly url: string;
  readonly protocol: Protocol;
  readonly headers: Readonly<Record<string, string>>;
  /** What it sends: spans (default) or log records (the layer's LogRecord). */
  readonly signal?: "traces" | "logs";
}

type Item = ReadableSpan | LogRecord;

// The layer's build resolves "./serialize" to firefly/serialize.cjs beside the layer's own bundle.
let serializer: typeof Serialize.serialize | undefined;
const serialize: typeof Serialize.serialize = (...args) => {
  serializer ??= (require("./serialize") as typeof Serialize).serialize;
  return serializer(...args);
};

/** One OTLP request, ready to send from a child process (see postSync). */
export interface SyncPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

// The child's whole program: POST each request of the JSON array on stdin ({u: url, h: headers,
// b: base64 body}) at once; print each one's HTTP status (0: no answer), in order; exit when all ended.
const SYNC_POST = `const c=[];process.stdin.on("data",d=>c.push(d)).on("end",()=>{const q=JSON.parse(Buffer.concat(c)),s=q.map(()=>0);let n=q.length;const done=()=>{if(--n===0){process.stdout.write(s.join(" "));process.exit(0)}};q.forEach((r,i)=>{const u=new URL(r.u),b=Buffer.from(r.b,"base64");require(u.protocol==="https:"?"node:https":"node:http").request(u,{method:"POST",headers:{...r.h,"content-length":b.length}},x=>{s[i]=x.statusCode;x.resume();x.on("end",done)}).on("error",done).end(b)})})`;

/**
 * Sends the requests from a short-lived child process and waits for it: for a process about to exit
 * (an uncaught exception), where the runtime exits as soon as the event's listeners return. One child
 * for all of them: a Node start (~40 ms), paid only on a crash. Returns each request's HTTP status
 * (0: no answer); throws when the child did not finish within `timeoutMs`.
 */
export function postSync(posts: readonly SyncPost[], timeoutMs: number): number[] {
  const input = JSON.stringify(
    posts.map((p) => ({ u: p.url, h: p.headers, b: Buffer.from(p.body).toString("base64") })),
  );
  const env: Record<string, string> = {};
  for (const key of ["PATH", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"]) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  // Loaded here, on a crash, not at init: child_process costs milliseconds of every cold start.
  const { execFileSync } = process.getBuiltinModule("node:child_process") as typeof ChildProcess;
  const out = execFileSync(process.execPath, ["-e", SYNC_POST], {
    input,
    timeout: timeoutMs,
    env,
    stdio: "pipe",
    encoding: "utf8",
  });
  return out.split(" ").map(Number);
}

/** Sends spans to an OTLP/HTTP endpoint. Resolves when the endpoint answered 2xx; rejects otherwise. */
export class OtlpHttpExporter {
  private readonly url: URL;
  // Keep-alive saves a TCP (and TLS) handshake per invocation; a socket that died while the
  // environment was frozen is retried once on a fresh one. node:https loads TLS and crypto (several
  // ms): made at the first export, never in init.
  private client: { transport: typeof Http; agent: Http.Agent } | undefined;

  private readonly contentType: string;

  constructor(private readonly options: OtlpExporterOptions) {
    this.url = new URL(options.url);
    this.contentType = options.protocol === "http/json" ? "application/json" : "application/x-protobuf";
  }

  serialize(items: Item[]): Uint8Array {
    return serialize(this.options.signal ?? "traces", this.options.protocol, items);
  }

  private connection(): { transport: typeof Http; agent: Http.Agent } {
    if (!this.client) {
      // node:https's request and Agent have node:http's shape.
      const transport = process.getBuiltinModule(
        this.url.protocol === "https:" ? "node:https" : "node:http",
      ) as typeof Http;
      this.client = { transport, agent: new transport.Agent({ keepAlive: true, maxSockets: 2 }) };
    }
    return this.client;
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

  /** The request that would send these spans (or log records), for postSync. */
  request(items: Item[]): SyncPost {
    return {
      url: this.url.href,
      headers: { ...this.options.headers, "content-type": this.contentType },
      body: this.serialize(items),
    };
  }

  /**
   * Exports from a process about to exit (see postSync), together with `also` (the invocation's log
   * records) in the same child process. Throws when the spans were not exported.
   */
  sendSync(spans: Item[], timeoutMs: number, also: readonly SyncPost[] = []): void {
    const own = spans.length > 0 ? [this.request(spans)] : [];
    const [status] = postSync([...own, ...also], timeoutMs);
    if (own.length > 0 && !(status >= 200 && status < 300))
      throw new Error(`OTLP endpoint ${this.url.origin} answered ${status ? `HTTP ${status}` : "nothing"}`);
  }

  private post(body: Uint8Array, signal: AbortSignal, background: boolean): Promise<void> {
    const { transport, agent } = this.connection();
    // Our own export must not become a traced client span (nor carry a traceparent).
    return context.with(suppressTracing(context.active()), () => {
      return new Promise<void>((resolve, reject) => {
        const req = transport.request(
          this.url,
          {
            method: "POST",
            agent,
            signal,
            headers: {
              ...this.options.headers,
              "content-type": this.contentType,
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
    this.client?.agent.destroy();
  }
}
