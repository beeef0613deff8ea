// OTLP/HTTP span export with node:http(s). One POST per flush; the caller bounds it with a signal.
import * as http from "node:http";
import type * as Https from "node:https";
import { context } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Protocol } from "./config";

export interface OtlpExporterOptions {
  readonly url: string;
  readonly protocol: Protocol;
  readonly headers: Readonly<Record<string, string>>;
}

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

  serialize(spans: ReadableSpan[]): Uint8Array {
    const serializer = this.options.protocol === "http/json" ? JsonTraceSerializer : ProtobufTraceSerializer;
    const body = serializer.serializeRequest(spans);
    if (!body) throw new Error("OTLP serialisation produced no body");
    return body;
  }

  async send(spans: ReadableSpan[], signal: AbortSignal): Promise<void> {
    const body = this.serialize(spans);
    try {
      await this.post(body, signal);
    } catch (error) {
      if ((error as { reusedSocket?: boolean }).reusedSocket && !signal.aborted)
        await this.post(body, signal);
      else throw error;
    }
  }

  private post(body: Uint8Array, signal: AbortSignal): Promise<void> {
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
        req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
        req.end(body);
      });
    });
  }

  shutdown(): void {
    this.agent.destroy();
  }
}
