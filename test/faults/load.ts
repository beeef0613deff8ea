// Steady OTLP/HTTP span load, as many Lambda invocations flushing at once would produce. Every span has
// its own id; a span counts as sent only when the collector acknowledged its request with 200.
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { sleep } from "./control";

export interface PostResult {
  readonly status: number;
  readonly body: string;
}

/** POST on loopback; resolves with any HTTP answer, rejects only on network errors and timeouts. */
export function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  options: { agent?: http.Agent; timeoutMs?: number } = {},
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent: options.agent,
        timeout: options.timeoutMs ?? 10_000,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** An OTLP/JSON ExportTraceServiceRequest with `count` single-span traces; returns it and the span ids. */
export function otlpJson(count: number, service = "faults"): { body: string; ids: string[] } {
  const now = BigInt(Date.now()) * 1_000_000n;
  const ids: string[] = [];
  const spans = Array.from({ length: count }, (_, i) => {
    const spanId = randomBytes(8).toString("hex");
    ids.push(spanId);
    return {
      traceId: randomBytes(16).toString("hex"),
      spanId,
      name: `fault-load-${i}`,
      kind: 2,
      startTimeUnixNano: String(now - 5_000_000n),
      endTimeUnixNano: String(now),
      attributes: [{ key: "faas.trigger", value: { stringValue: "other" } }],
    };
  });
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: "firefly-faults" }, spans }],
      },
    ],
  });
  return { body, ids };
}

export interface LoadStats {
  /** Span ids of acknowledged requests. */
  readonly acknowledged: Set<string>;
  /** Requests refused (non-200) or failed on the network: their sender knows and may retry. */
  refused: number;
  failed: number;
  requests: number;
}

/**
 * Sends one OTLP/JSON batch from `batch()` every `intervalMs` until stopped, one request at a time as
 * one Lambda environment does; the ids of acknowledged (HTTP 200) batches are in `stats.acknowledged`.
 */
export class OtlpLoad {
  readonly stats: LoadStats = { acknowledged: new Set(), refused: 0, failed: 0, requests: 0 };
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly batch: () => { body: string; ids: string[] },
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.once();
        await sleep(this.intervalMs);
      }
    })();
  }

  async once(): Promise<void> {
    const { body, ids } = this.batch();
    this.stats.requests++;
    try {
      const res = await post(
        this.url,
        body,
        { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        { agent: this.agent, timeoutMs: 5_000 },
      );
      if (res.status === 200) for (const id of ids) this.stats.acknowledged.add(id);
      else this.stats.refused++;
    } catch {
      this.stats.failed++;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.agent.destroy();
  }
}

/** `spansPerRequest` spans every `intervalMs`. */
export class SpanLoad extends OtlpLoad {
  constructor(url: string, token: string, spansPerRequest = 20, intervalMs = 50) {
    super(url, token, () => otlpJson(spansPerRequest), intervalMs);
  }
}
