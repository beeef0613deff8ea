// The layer's tracer and spans: the OpenTelemetry SDK's Tracer and Span (sdk-trace 3.x, Apache-2.0),
// less what the layer never uses: no TracerProvider, span processor fan-out, Resource class, the SDK's
// self-metrics or its inspect output. Their code is compiled and run in every cold start, and the
// layer has one tracer, one processor and a resource that is only ever a set of attributes. Behaviour
// is the SDK's: same sampling, limits, attribute cleaning, times and warnings, and spans are the SDK's
// ReadableSpan, so the processor and the OTLP serialisers take them (and the SDK's) alike.
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context as contextApi,
  diag,
  type Exception,
  type HrTime,
  INVALID_SPAN_CONTEXT,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import {
  AddAttributeDecision,
  addHrTimes,
  cleanAttributes,
  cleanSimpleAttributes,
  hrTime,
  hrTimeDuration,
  isTimeInput,
  isTimeInputHrTime,
  isTracingSuppressed,
  maybeAddAttribute,
  millisToHrTime,
} from "@opentelemetry/core";
import {
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanLimits,
  type SpanProcessor,
  type TimedEvent,
} from "@opentelemetry/sdk-trace";

/** The resource every span carries: what the OTLP serialisers read of the SDK's Resource. */
export interface LayerResource {
  readonly attributes: Attributes;
  readonly schemaUrl?: string;
}

/** The SDK's default limits (TracerProvider with no spanLimits). */
const LIMITS: Required<SpanLimits> = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Number.POSITIVE_INFINITY,
  linkCountLimit: 128,
  eventCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
};
const NO_ATTR_LIMITS = {
  attributeCountLimit: Number.POSITIVE_INFINITY,
  attributeValueLengthLimit: Number.POSITIVE_INFINITY,
};

// Random ids as the SDK's Node RandomIdGenerator makes them (never all zeros).
const ID_BUFFER = Buffer.allocUnsafe(16);
function randomId(bytes: number): string {
  for (let i = 0; i < bytes / 4; i++) ID_BUFFER.writeUInt32BE((Math.random() * 2 ** 32) >>> 0, i * 4);
  for (let i = 0; i < bytes; i++) {
    if (ID_BUFFER[i] > 0) break;
    if (i === bytes - 1) ID_BUFFER[bytes - 1] = 1;
  }
  return ID_BUFFER.toString("hex", 0, bytes);
}

interface SpanInit {
  readonly resource: LayerResource;
  readonly scope: { name: string; version?: string; schemaUrl?: string };
  readonly context: Context;
  readonly spanContext: SpanContext;
  readonly name: string;
  readonly kind: SpanKind;
  readonly links: Link[];
  readonly parentSpanContext?: SpanContext;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
  readonly startTime?: TimeInput;
  readonly processor: SpanProcessor;
}

class LayerSpan implements Span, ReadableSpan {
  readonly kind: SpanKind;
  readonly parentSpanContext?: SpanContext;
  readonly attributes: Attributes;
  links: Link[] = [];
  readonly events: TimedEvent[] = [];
  readonly startTime: HrTime;
  readonly resource: ReadableSpan["resource"];
  readonly instrumentationScope: ReadableSpan["instrumentationScope"];
  name: string;
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  endTime: HrTime = [0, 0];
  private readonly _spanContext: SpanContext;
  private _ended = false;
  private _duration: HrTime = [-1, -1];
  private _droppedAttributesCount: number;
  private _droppedEventsCount = 0;
  private _droppedLinksCount = 0;
  private _attributesCount: number;
  private readonly _processor: SpanProcessor;
  private readonly _performanceStartTime: number;
  private readonly _performanceOffset: number;
  private readonly _startTimeProvided: boolean;

  constructor(init: SpanInit) {
    const now = Date.now();
    this._spanContext = init.spanContext;
    this._performanceStartTime = performance.now();
    this._performanceOffset = now - (this._performanceStartTime + performance.timeOrigin);
    this._startTimeProvided = init.startTime != null;
    this._processor = init.processor;
    this.name = init.name;
    this.parentSpanContext = init.parentSpanContext;
    this.kind = init.kind;
    this.startTime = this._getTime(init.startTime ?? now);
    // The serialisers read only `attributes` and `schemaUrl` of a resource.
    this.resource = init.resource as ReadableSpan["resource"];
    this.instrumentationScope = init.scope;
    const { linkCountLimit } = LIMITS;
    if (init.links.length > linkCountLimit) {
      this.links = init.links.slice(init.links.length - linkCountLimit);
      this._droppedLinksCount = init.links.length - linkCountLimit;
    } else this.links = init.links;
    this.attributes = init.attributes;
    this._attributesCount = Object.keys(this.attributes).length;
    this._droppedAttributesCount = init.droppedAttributesCount;
    this._processor.onStart(this as never, init.context);
  }

  spanContext(): SpanContext {
    return this._spanContext;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (this._isSpanEnded()) return this;
    const decision = maybeAddAttribute({
      key,
      value,
      attributes: this.attributes,
      limits: LIMITS,
      currentAttributesCount: this._attributesCount,
    });
    if (decision === AddAttributeDecision.DROP_LIMIT_REACHED) {
      this._droppedAttributesCount++;
      if (this._droppedAttributesCount === 1) diag.warn("Dropping extra attributes.");
    } else if (decision === AddAttributeDecision.ADD_NEW) this._attributesCount++;
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    for (const key in attributes) if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: SpanAttributes | TimeInput, timeStamp?: TimeInput): this {
    if (this._isSpanEnded()) return this;
    const { eventCountLimit } = LIMITS;
    if (this.events.length >= eventCountLimit) {
      if (this._droppedEventsCount === 0) diag.debug("Dropping extra events.");
      this.events.shift();
      this._droppedEventsCount++;
    }
    if (isTimeInput(attributesOrStartTime)) {
      if (!isTimeInput(timeStamp)) timeStamp = attributesOrStartTime;
      attributesOrStartTime = undefined;
    }
    this.events.push({
      name,
      time: this._getTime(timeStamp),
      ...cleanSimpleAttributes(attributesOrStartTime as Attributes | undefined, {
        attributeCountLimit: LIMITS.attributePerEventCountLimit,
        attributeValueLengthLimit: LIMITS.attributeValueLengthLimit,
      }),
    });
    return this;
  }

  addLink(link: Link): this {
    if (this._isSpanEnded()) return this;
    if (this.links.length >= LIMITS.linkCountLimit) {
      if (this._droppedLinksCount === 0) diag.debug("Dropping extra links.");
      this.links.shift();
      this._droppedLinksCount++;
    }
    this.links.push(cleanLink(link));
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this._isSpanEnded()) return this;
    if (status.code === SpanStatusCode.UNSET) return this;
    if (this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === "string") next.message = status.message;
      else if (status.message != null)
        diag.warn(`Dropping invalid status.message of type '${typeof status.message}', expected 'string'`);
    }
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (this._isSpanEnded()) return this;
    this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this._isSpanEnded()) {
      diag.error(
        `${this.name} ${this._spanContext.traceId}-${this._spanContext.spanId} - You can only call end() on a span once.`,
      );
      return;
    }
    this.endTime = this._getTime(endTime);
    this._duration = hrTimeDuration(this.startTime, this.endTime);
    if (this._duration[0] < 0) {
      diag.warn(
        "Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.",
        this.startTime,
        this.endTime,
      );
      this.endTime = this.startTime.slice() as HrTime;
      this._duration = [0, 0];
    }
    if (this._droppedEventsCount > 0)
      diag.warn(`Dropped ${this._droppedEventsCount} events because eventCountLimit reached`);
    if (this._droppedLinksCount > 0)
      diag.warn(`Dropped ${this._droppedLinksCount} links because linkCountLimit reached`);
    this._processor.onEnding?.(this as never);
    this._ended = true;
    this._processor.onEnd(this);
  }

  private _getTime(input: TimeInput | undefined): HrTime {
    if (typeof input === "number" && input <= performance.now())
      return hrTime(input + this._performanceOffset);
    if (typeof input === "number") return millisToHrTime(input);
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input as HrTime;
    if (this._startTimeProvided) return millisToHrTime(Date.now());
    return addHrTimes(this.startTime, millisToHrTime(performance.now() - this._performanceStartTime));
  }

  isRecording(): boolean {
    return !this._ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") attributes["exception.message"] = exception;
    else if (exception) {
      if (exception.code) attributes["exception.type"] = exception.code.toString();
      else if (exception.name) attributes["exception.type"] = exception.name;
      if (exception.message) attributes["exception.message"] = exception.message;
      if (exception.stack) attributes["exception.stacktrace"] = exception.stack;
    }
    if (attributes["exception.type"] || attributes["exception.message"])
      this.addEvent("exception", attributes, time);
    else diag.warn(`Failed to record an exception ${exception}`);
  }

  get duration(): HrTime {
    return this._duration;
  }
  get ended(): boolean {
    return this._ended;
  }
  get droppedAttributesCount(): number {
    return this._droppedAttributesCount;
  }
  get droppedEventsCount(): number {
    return this._droppedEventsCount;
  }
  get droppedLinksCount(): number {
    return this._droppedLinksCount;
  }

  private _isSpanEnded(): boolean {
    if (this._ended) {
      const { traceId, spanId } = this._spanContext;
      diag.warn(
        `Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`,
        new Error(`Operation attempted on ended Span {traceId: ${traceId}, spanId: ${spanId}}`),
      );
    }
    return this._ended;
  }
}

function cleanLink(link: Link): Link {
  return {
    context: link.context,
    ...cleanAttributes(link.attributes, {
      attributeCountLimit: LIMITS.attributePerLinkCountLimit,
      attributeValueLengthLimit: LIMITS.attributeValueLengthLimit,
    }),
  };
}

/** The SDK's Tracer over one sampler and one span processor. */
export class LayerTracer implements Tracer {
  constructor(
    private readonly scope: { name: string; version?: string; schemaUrl?: string },
    private readonly resource: LayerResource,
    private readonly sampler: Sampler,
    private readonly processor: SpanProcessor,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    if (options.root) ctx = trace.deleteSpan(ctx);
    const parentSpan = trace.getSpan(ctx);
    if (isTracingSuppressed(ctx)) {
      diag.debug("Instrumentation suppressed, returning Noop Span");
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
    const parentSpanContext = parentSpan?.spanContext();
    const spanId = randomId(8);
    let validParent: SpanContext | undefined;
    let traceId: string;
    let traceState: SpanContext["traceState"];
    if (!parentSpanContext || !trace.isSpanContextValid(parentSpanContext)) traceId = randomId(16);
    else {
      traceId = parentSpanContext.traceId;
      traceState = parentSpanContext.traceState;
      validParent = parentSpanContext;
    }
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links = (options.links ?? []).map(cleanLink);
    const first = cleanAttributes(options.attributes, NO_ATTR_LIMITS);
    const attributes = first.attributes ?? {};
    const sampling = this.sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    traceState = sampling.traceState ?? traceState;
    const traceFlags =
      sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext: SpanContext = { traceId, spanId, traceFlags, traceState };
    if (sampling.decision === SamplingDecision.NOT_RECORD) {
      diag.debug("Recording is off, propagating context in a non-recording span");
      return trace.wrapSpanContext(spanContext);
    }
    const second = cleanAttributes(Object.assign(attributes, sampling.attributes), LIMITS);
    return new LayerSpan({
      resource: this.resource,
      scope: this.scope,
      context: ctx,
      spanContext,
      name,
      kind,
      links,
      parentSpanContext: validParent,
      attributes: second.attributes ?? {},
      droppedAttributesCount: (first.droppedAttributesCount ?? 0) + (second.droppedAttributesCount ?? 0),
      startTime: options.startTime,
      processor: this.processor,
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> | undefined {
    // As the SDK: (fn), (options, fn) or (options, context, fn), told apart by how many there are.
    if (args.length < 1) return undefined;
    const fn = args[args.length - 1] as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : undefined;
    const parent = (args.length > 2 ? (args[1] as Context | undefined) : undefined) ?? contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

/** The global TracerProvider: one tracer per name, version and schema URL, as the SDK's. */
export class LayerTracerProvider {
  private readonly tracers = new Map<string, LayerTracer>();

  constructor(
    private readonly resource: LayerResource,
    private readonly sampler: Sampler,
    private readonly processor: SpanProcessor,
  ) {}

  /** As the SDK provider's: code that flushes the global provider itself still exports the spans. */
  forceFlush(): Promise<void> {
    return this.processor.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.processor.shutdown();
  }

  getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const key = `${name}@${version || ""}:${options?.schemaUrl || ""}`;
    let tracer = this.tracers.get(key);
    if (!tracer) {
      tracer = new LayerTracer(
        { name, version, schemaUrl: options?.schemaUrl },
        this.resource,
        this.sampler,
        this.processor,
      );
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}
