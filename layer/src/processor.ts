// Buffers the spans of an invocation and exports them in one request at flush, with a bounded wait:
// a dead or slow collector costs at most the budget, and never an error in user code. A circuit
// breaker stops even that cost during an outage: after BREAKER_FAILURES failed exports in a row no
// export is tried for BREAKER_RETRY_MS; spans dropped meanwhile are counted, and the count rides on the
// next invocation span that reaches the collector (`firefly.spans.dropped`). All of it is per
// environment: each concurrent environment of a function finds out on its own.
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { OtlpHttpExporter, SyncPost } from "./exporter";

/** Spans kept between flushes; beyond this, new spans are dropped rather than growing memory. */
export const MAX_BUFFERED_SPANS = 2048;
/** Failed exports in a row that open the breaker. */
export const BREAKER_FAILURES = 3;
/** How long an open breaker skips exports before one is tried again (FIREFLY_BREAKER_RETRY_MS). */
export const BREAKER_RETRY_MS = 30_000;
/** Span attribute carrying how many spans were dropped since the last export that reached the collector. */
export const DROPPED_ATTRIBUTE = "firefly.spans.dropped";

export interface FlushResult {
  readonly exported: number;
  readonly dropped: number;
  readonly error?: string;
}

export class InvocationSpanProcessor implements SpanProcessor {
  private buffer: ReadableSpan[] = [];
  private overflow = 0;
  // Spans started and not ended: a timeout or a crash ends them so they are not lost with the process.
  private readonly open = new Set<Span>();
  private failures = 0;
  private retryAt = 0;
  /** Dropped spans the collector has not been told about yet. */
  private unreported = 0;
  // The part of `unreported` written on a buffered span: cleared once that span is exported.
  private stamped = 0;
  // Log when export starts failing and when it recovers, not once per invocation of a long outage.
  private failing = false;

  constructor(
    private readonly exporter: Pick<OtlpHttpExporter, "send" | "shutdown"> &
      Partial<Pick<OtlpHttpExporter, "serialize" | "sendSync">>,
    private readonly budgetMs: number,
    private readonly warn: (message: string) => void = () => {},
    private readonly retryMs: number = BREAKER_RETRY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  onStart(span: Span, _parentContext: Context): void {
    if (this.open.size < MAX_BUFFERED_SPANS) this.open.add(span);
  }

  onEnd(span: ReadableSpan): void {
    this.open.delete(span as Span);
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.buffer.length >= MAX_BUFFERED_SPANS) this.overflow++;
    else this.buffer.push(span);
  }

  /** Spans of this trace still open (a timeout or crash ends them). */
  openSpans(traceId: string): Span[] {
    return [...this.open].filter((s) => s.spanContext().traceId === traceId);
  }

  /** Writes the count of unreported dropped spans on a span about to end (the invocation span). */
  stampDropped(span: { setAttribute(key: string, value: number): unknown }): void {
    if (this.unreported === 0) return;
    span.setAttribute(DROPPED_ATTRIBUTE, this.unreported);
    this.stamped = this.unreported;
  }

  /** Whether the breaker currently skips exports. */
  get breakerOpen(): boolean {
    return this.failures >= BREAKER_FAILURES && this.now() < this.retryAt;
  }

  private take(): { spans: ReadableSpan[]; overflow: number; stamped: number } {
    const taken = { spans: this.buffer, overflow: this.overflow, stamped: this.stamped };
    this.buffer = [];
    this.overflow = 0;
    this.stamped = 0;
    return taken;
  }

  private succeeded(stamped: number): void {
    this.unreported = Math.max(0, this.unreported - stamped);
    this.failures = 0;
    if (this.failing) this.warn("span export recovered");
    this.failing = false;
  }

  private failed(message: string, count: number): void {
    this.unreported += count;
    this.failures++;
    if (this.failures >= BREAKER_FAILURES) this.retryAt = this.now() + this.retryMs;
    if (!this.failing)
      this.warn(
        `dropping spans until export recovers: ${message} (after ${BREAKER_FAILURES} failures in a row, export is retried every ${this.retryMs / 1000} s)`,
      );
    this.failing = true;
  }

  /**
   * Exports everything buffered; never rejects, and returns within the budget, or within `limitMs`
   * when that is shorter (the invocation's remaining time: the flush must not make it time out).
   * `background`: after the response (see OtlpHttpExporter.send).
   */
  async flush(limitMs?: number, background = false): Promise<FlushResult> {
    const waitMs = limitMs === undefined ? this.budgetMs : Math.max(0, Math.min(this.budgetMs, limitMs));
    const reason =
      waitMs < this.budgetMs
        ? `export did not finish within the invocation's remaining time (${waitMs} ms)`
        : `export did not finish within FIREFLY_FLUSH_TIMEOUT_MS=${this.budgetMs}`;
    const { spans, overflow, stamped } = this.take();
    this.unreported += overflow;
    if (spans.length === 0) return { exported: 0, dropped: overflow };
    if (this.breakerOpen) {
      this.unreported += spans.length;
      return { exported: 0, dropped: spans.length + overflow, error: "circuit breaker open" };
    }
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(reason));
      }, waitMs);
      timer.unref();
    });
    try {
      await Promise.race([this.exporter.send(spans, abort.signal, background), deadline]);
      this.succeeded(stamped);
      return { exported: spans.length, dropped: overflow };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failed(message, spans.length);
      return { exported: 0, dropped: spans.length + overflow, error: message };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Exports synchronously, for a process about to exit (a crash); bounded by `limitMs`. `also`: other
   * requests to send with the spans (the invocation's log records), skipped too while the breaker is open.
   */
  flushSync(limitMs: number, also: () => readonly SyncPost[] = () => []): FlushResult {
    const { spans, overflow, stamped } = this.take();
    if (!this.exporter.sendSync) return { exported: 0, dropped: overflow };
    if (this.breakerOpen)
      return { exported: 0, dropped: spans.length + overflow, error: "circuit breaker open" };
    let others: readonly SyncPost[] = [];
    try {
      others = also();
    } catch {
      // the spans go regardless
    }
    if (spans.length === 0 && others.length === 0) return { exported: 0, dropped: overflow };
    try {
      this.exporter.sendSync(spans, Math.max(1, Math.min(this.budgetMs, limitMs)), others);
      if (spans.length > 0) this.succeeded(stamped);
      return { exported: spans.length, dropped: overflow };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failed(message, spans.length);
      return { exported: 0, dropped: spans.length + overflow, error: message };
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
