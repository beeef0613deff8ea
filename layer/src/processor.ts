// Buffers the spans of an invocation and exports them in one request at flush, with a bounded wait:
// a dead or slow collector costs at most the budget, and never an error in user code.
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { OtlpHttpExporter } from "./exporter";

/** Spans kept between flushes; beyond this, new spans are dropped rather than growing memory. */
export const MAX_BUFFERED_SPANS = 2048;

export interface FlushResult {
  readonly exported: number;
  readonly dropped: number;
  readonly error?: string;
}

export class InvocationSpanProcessor implements SpanProcessor {
  private buffer: ReadableSpan[] = [];
  private overflow = 0;
  // Log when export starts failing and when it recovers, not once per invocation of a long outage.
  private failing = false;

  constructor(
    private readonly exporter: Pick<OtlpHttpExporter, "send" | "shutdown">,
    private readonly budgetMs: number,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.buffer.length >= MAX_BUFFERED_SPANS) this.overflow++;
    else this.buffer.push(span);
  }

  /**
   * Exports everything buffered; never rejects, and returns within the budget, or within `limitMs`
   * when that is shorter (the invocation's remaining time: the flush must not make it time out).
   */
  async flush(limitMs?: number): Promise<FlushResult> {
    const waitMs = limitMs === undefined ? this.budgetMs : Math.max(0, Math.min(this.budgetMs, limitMs));
    const reason =
      waitMs < this.budgetMs
        ? `export did not finish within the invocation's remaining time (${waitMs} ms)`
        : `export did not finish within FIREFLY_FLUSH_TIMEOUT_MS=${this.budgetMs}`;
    const spans = this.buffer;
    const dropped = this.overflow;
    this.buffer = [];
    this.overflow = 0;
    if (spans.length === 0) return { exported: 0, dropped };
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(reason));
      }, waitMs);
    });
    try {
      await Promise.race([this.exporter.send(spans, abort.signal), deadline]);
      if (this.failing) this.warn("span export recovered");
      this.failing = false;
      return { exported: spans.length, dropped };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.failing) this.warn(`dropping spans until export recovers: ${message}`);
      this.failing = true;
      return { exported: 0, dropped: spans.length + dropped, error: message };
    } finally {
      clearTimeout(timer);
    }
  }

  async forceFlush(): Promise<void> {
    await this.flush();
  }

  async shutdown(): Promise<void> {
    await this.flush();
    this.exporter.shutdown();
  }
}
