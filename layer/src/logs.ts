// The function's log lines as OTLP log records, correlated with its spans: `console.*` calls and direct
// writes to process.stdout/stderr, captured and then passed on unchanged (what reaches CloudWatch does
// not change). Lines written during an invocation carry its `faas.invocation_id` and the trace and
// span id of the span active where they were written; lines between invocations carry neither.
// Bounded per invocation in records and bytes; what is cut is marked.
import type * as Util from "node:util";
import { context, type SpanContext, trace } from "@opentelemetry/api";
import type { LayerResource } from "./tracer";

/** OTLP severity numbers. */
const SEVERITY = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17 } as const;
type Severity = keyof typeof SEVERITY;

const CONSOLE_METHODS: [keyof Console, Severity][] = [
  ["log", "INFO"],
  ["info", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
  ["debug", "DEBUG"],
  ["trace", "TRACE"],
];

/** Attributes marking a cut: on a record whose body was shortened, and on the summary of dropped ones. */
export const TRUNCATED_ATTRIBUTE = "firefly.log.truncated";
export const DROPPED_ATTRIBUTE = "firefly.log.dropped_records";

/** What the OTLP logs serializer reads from a record (the SDK's ReadableLogRecord, minus what it never uses). */
export interface LogRecord {
  readonly hrTime: [number, number];
  readonly hrTimeObserved: [number, number];
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: string;
  readonly attributes: Record<string, string | number | boolean>;
  readonly droppedAttributesCount: number;
  readonly spanContext?: SpanContext;
  readonly resource: LayerResource;
  readonly instrumentationScope: { name: string };
}

export interface LogLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

// node:util loads several internal modules: only when the first line is captured, not in every init.
let format: typeof Util.format | undefined;

const hrTime = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

export class LogCapture {
  private buffer: LogRecord[] = [];
  private invocationId: string | undefined;
  private records = 0;
  private bytes = 0;
  private dropped = 0;
  // Set while a console method runs: its own write to a stream is the same line, captured once.
  private inConsole = false;
  private quietDepth = 0;
  private readonly scope = { name: "firefly-lambda" };

  constructor(
    private readonly resource: LayerResource,
    private readonly limits: LogLimits,
  ) {}

  /** Wraps the console methods and the two streams' write, around whatever the runtime installed. */
  install(target: Console = console, owner: NodeJS.Process = process): void {
    for (const [method, severity] of CONSOLE_METHODS) {
      const original = target[method] as (...args: unknown[]) => void;
      if (typeof original !== "function") continue;
      const capture = this;
      (target as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
        if (capture.quietDepth === 0 && !capture.inConsole) capture.record(severity, args);
        capture.inConsole = true;
        try {
          return original.apply(this, args);
        } finally {
          capture.inConsole = false;
        }
      };
    }
    this.whenCreated(owner, "stdout", (stream) => this.wrapWrite(stream, "INFO"));
    this.whenCreated(owner, "stderr", (stream) => this.wrapWrite(stream, "ERROR"));
  }

  /**
   * Calls `wrap` on process.stdout or stderr when something first uses it. Node creates each stream on
   * first access, which costs about a millisecond of init, and on Lambda the runtime writes its log
   * lines to a file descriptor of its own, so often nothing ever does.
   */
  private whenCreated(
    owner: NodeJS.Process,
    name: "stdout" | "stderr",
    wrap: (stream: NodeJS.WriteStream) => void,
  ): void {
    const descriptor = Object.getOwnPropertyDescriptor(owner, name);
    if (!descriptor?.get || !descriptor.configurable) {
      wrap(owner[name]);
      return;
    }
    Object.defineProperty(owner, name, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get() {
        // Node's own getter again from here on: no cost on later accesses.
        Object.defineProperty(owner, name, descriptor);
        const stream = owner[name];
        wrap(stream);
        return stream;
      },
    });
  }

  private wrapWrite(stream: NodeJS.WriteStream, severity: Severity): void {
    const original = stream.write;
    const capture = this;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (capture.quietDepth === 0 && !capture.inConsole) {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
        if (text) capture.record(severity, [text.replace(/\n$/, "")]);
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }

  /** Runs `fn` without capturing what it writes (the layer's own messages). */
  quiet<T>(fn: () => T): T {
    this.quietDepth++;
    try {
      return fn();
    } finally {
      this.quietDepth--;
    }
  }

  /** An invocation starts: its lines carry its id, and its caps start afresh. */
  begin(invocationId: string | undefined): void {
    this.invocationId = invocationId;
    this.records = 0;
    this.bytes = 0;
    this.dropped = 0;
  }

  /** The invocation ended: later lines belong to none; a summary record says what the caps dropped. */
  end(): void {
    if (this.dropped > 0) {
      const id = this.invocationId;
      this.push(
        "WARN",
        `[firefly] ${this.dropped} log records of this invocation were over the per-invocation cap and were not exported`,
        {
          ...(id ? { "faas.invocation_id": id } : {}),
          [DROPPED_ATTRIBUTE]: this.dropped,
        },
      );
    }
    this.invocationId = undefined;
    this.dropped = 0;
  }

  /** Takes what was captured since the last take. */
  take(): LogRecord[] {
    const taken = this.buffer;
    this.buffer = [];
    return taken;
  }

  private record(severity: Severity, args: unknown[]): void {
    try {
      if (this.records >= this.limits.maxRecords || this.bytes >= this.limits.maxBytes) {
        this.dropped++;
        return;
      }
      format ??= (process.getBuiltinModule("node:util") as typeof Util).format;
      let body = format(...args);
      const attributes: Record<string, string | number | boolean> = {};
      const room = this.limits.maxBytes - this.bytes;
      if (Buffer.byteLength(body) > room) {
        body = Buffer.from(body)
          .subarray(0, room)
          .toString("utf8")
          .replace(/\uFFFD$/, "");
        attributes[TRUNCATED_ATTRIBUTE] = true;
      }
      this.records++;
      this.bytes += Buffer.byteLength(body);
      if (this.invocationId) attributes["faas.invocation_id"] = this.invocationId;
      const span = this.invocationId ? trace.getSpan(context.active())?.spanContext() : undefined;
      this.push(severity, body, attributes, span);
    } catch {
      // a line that cannot be captured is still written
    }
  }

  private push(
    severity: Severity,
    body: string,
    attributes: Record<string, string | number | boolean>,
    spanContext?: SpanContext,
  ): void {
    const now = hrTime(Date.now());
    this.buffer.push({
      hrTime: now,
      hrTimeObserved: now,
      severityNumber: SEVERITY[severity],
      severityText: severity,
      body,
      attributes,
      droppedAttributesCount: 0,
      spanContext,
      resource: this.resource,
      instrumentationScope: this.scope,
    });
  }
}
