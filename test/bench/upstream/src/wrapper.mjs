// Rebuild of the upstream OpenTelemetry Node.js Lambda layer's wrapper (opentelemetry-lambda
// nodejs/packages/layer/src/wrapper.ts), re-expressed against the 3.x SDK now on npm: the same
// packages, the same default instrumentation list, the same providers and exporters, the same two-step
// init()/wrap() that init.mjs drives. Used only to measure cold start and size against Firefly.
import { context, DiagConsoleLogger, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  diagLogLevelFromString,
  getStringFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { AwsLambdaInstrumentation } from "@opentelemetry/instrumentation-aws-lambda";
import { AwsInstrumentation } from "@opentelemetry/instrumentation-aws-sdk";
import { AWSXRayPropagator } from "@opentelemetry/propagator-aws-xray";
import { AWSXRayLambdaPropagator } from "@opentelemetry/propagator-aws-xray-lambda";
import { awsLambdaDetector } from "@opentelemetry/resource-detector-aws";
import { detectResources, envDetector, processDetector } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

// In a split ESM bundle, import() of a CommonJS package yields only `default`; webpack's interop (what
// upstream uses) exposes the named exports too, so merge them back.
function interop(m) {
  return m.default && typeof m.default === "object" ? { ...m.default, ...m } : m;
}

// Upstream's default OTEL_NODE_ENABLED_INSTRUMENTATIONS.
const DEFAULT_INSTRUMENTATIONS = "dns,express,graphql,grpc,hapi,http,ioredis,koa,mongodb,mysql,net,pg,redis";

// Every instrumentation the upstream layer ships, loaded lazily by name as upstream does; the bundler
// turns each import() into its own chunk, so unselected ones cost zip bytes but no load time.
const LOADERS = {
  amqplib: async () =>
    new (interop(await import("@opentelemetry/instrumentation-amqplib")).AmqplibInstrumentation)(),
  bunyan: async () =>
    new (interop(await import("@opentelemetry/instrumentation-bunyan")).BunyanInstrumentation)(),
  "cassandra-driver": async () =>
    new (interop(
      await import("@opentelemetry/instrumentation-cassandra-driver"),
    ).CassandraDriverInstrumentation)(),
  connect: async () =>
    new (interop(await import("@opentelemetry/instrumentation-connect")).ConnectInstrumentation)(),
  dataloader: async () =>
    new (interop(await import("@opentelemetry/instrumentation-dataloader")).DataloaderInstrumentation)(),
  dns: async () => new (interop(await import("@opentelemetry/instrumentation-dns")).DnsInstrumentation)(),
  express: async () =>
    new (interop(await import("@opentelemetry/instrumentation-express")).ExpressInstrumentation)(),
  fs: async () => new (interop(await import("@opentelemetry/instrumentation-fs")).FsInstrumentation)(),
  graphql: async () =>
    new (interop(await import("@opentelemetry/instrumentation-graphql")).GraphQLInstrumentation)(),
  grpc: async () => new (interop(await import("@opentelemetry/instrumentation-grpc")).GrpcInstrumentation)(),
  hapi: async () => new (interop(await import("@opentelemetry/instrumentation-hapi")).HapiInstrumentation)(),
  http: async () => new (interop(await import("@opentelemetry/instrumentation-http")).HttpInstrumentation)(),
  ioredis: async () =>
    new (interop(await import("@opentelemetry/instrumentation-ioredis")).IORedisInstrumentation)(),
  kafkajs: async () =>
    new (interop(await import("@opentelemetry/instrumentation-kafkajs")).KafkaJsInstrumentation)(),
  knex: async () => new (interop(await import("@opentelemetry/instrumentation-knex")).KnexInstrumentation)(),
  koa: async () => new (interop(await import("@opentelemetry/instrumentation-koa")).KoaInstrumentation)(),
  memcached: async () =>
    new (interop(await import("@opentelemetry/instrumentation-memcached")).MemcachedInstrumentation)(),
  mongodb: async () =>
    new (interop(await import("@opentelemetry/instrumentation-mongodb")).MongoDBInstrumentation)(),
  mongoose: async () =>
    new (interop(await import("@opentelemetry/instrumentation-mongoose")).MongooseInstrumentation)(),
  mysql: async () =>
    new (interop(await import("@opentelemetry/instrumentation-mysql")).MySQLInstrumentation)(),
  mysql2: async () =>
    new (interop(await import("@opentelemetry/instrumentation-mysql2")).MySQL2Instrumentation)(),
  "nestjs-core": async () =>
    new (interop(await import("@opentelemetry/instrumentation-nestjs-core")).NestInstrumentation)(),
  net: async () => new (interop(await import("@opentelemetry/instrumentation-net")).NetInstrumentation)(),
  pg: async () => new (interop(await import("@opentelemetry/instrumentation-pg")).PgInstrumentation)(),
  pino: async () => new (interop(await import("@opentelemetry/instrumentation-pino")).PinoInstrumentation)(),
  redis: async () =>
    new (interop(await import("@opentelemetry/instrumentation-redis")).RedisInstrumentation)(),
  restify: async () =>
    new (interop(await import("@opentelemetry/instrumentation-restify")).RestifyInstrumentation)(),
  "socket.io": async () =>
    new (interop(await import("@opentelemetry/instrumentation-socket.io")).SocketIoInstrumentation)(),
  undici: async () =>
    new (interop(await import("@opentelemetry/instrumentation-undici")).UndiciInstrumentation)(),
  winston: async () =>
    new (interop(await import("@opentelemetry/instrumentation-winston")).WinstonInstrumentation)(),
};

const PROPAGATORS = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  xray: () => new AWSXRayPropagator(),
  "xray-lambda": () => new AWSXRayLambdaPropagator(),
};

function names(value) {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

async function createInstrumentations() {
  const enabled = new Set(names(process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS || DEFAULT_INSTRUMENTATIONS));
  for (const name of names(process.env.OTEL_NODE_DISABLED_INSTRUMENTATIONS || "")) enabled.delete(name);
  const rest = [];
  for (const [name, load] of Object.entries(LOADERS)) if (enabled.has(name)) rest.push(await load());
  return [
    new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    new AwsLambdaInstrumentation({}),
    ...rest,
  ];
}

function getPropagator() {
  const wanted = names(process.env.OTEL_PROPAGATORS || "tracecontext,baggage");
  return new CompositePropagator({
    propagators: wanted.flatMap((n) => (PROPAGATORS[n] ? [PROPAGATORS[n]()] : [])),
  });
}

async function initializeTracerProvider(resource) {
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  // 3.x SDK: processors take an options object. What upstream's LambdaTracerProvider.register() does: ALS context manager, propagator, global.
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(getPropagator());
  trace.setGlobalTracerProvider(provider);
  return provider;
}

async function initializeMeterProvider(resource) {
  if (process.env.OTEL_METRICS_EXPORTER === "none") return undefined;
  const { metrics } = interop(await import("@opentelemetry/api"));
  const { MeterProvider, PeriodicExportingMetricReader } = interop(
    await import("@opentelemetry/sdk-metrics"),
  );
  const { OTLPMetricExporter } = interop(await import("@opentelemetry/exporter-metrics-otlp-http"));
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  return meterProvider;
}

async function initializeLoggerProvider(resource) {
  if (process.env.OTEL_LOGS_EXPORTER === "none") return undefined;
  const { logs } = interop(await import("@opentelemetry/api-logs"));
  const { LoggerProvider, SimpleLogRecordProcessor } = interop(await import("@opentelemetry/sdk-logs"));
  const { OTLPLogExporter } = interop(await import("@opentelemetry/exporter-logs-otlp-http"));
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter() })],
  });
  logs.setGlobalLoggerProvider(loggerProvider);
  return loggerProvider;
}

let instrumentations = [];
let initialized = false;

export async function init() {
  if (initialized) return;
  instrumentations = await createInstrumentations();
  // Upstream patches modules before the providers exist, then registers again with them.
  registerInstrumentations({ instrumentations });
  initialized = true;
}

export async function wrap() {
  if (!initialized) throw new Error("Not initialized yet");
  const resource = detectResources({ detectors: [awsLambdaDetector, envDetector, processDetector] });
  const tracerProvider = await initializeTracerProvider(resource);
  const meterProvider = await initializeMeterProvider(resource);
  const loggerProvider = await initializeLoggerProvider(resource);
  registerInstrumentations({ instrumentations, tracerProvider, meterProvider, loggerProvider });
}

export function logDebug(...args) {
  diag.debug(...args);
}

console.log("Registering OpenTelemetry");
diag.setLogger(new DiagConsoleLogger(), diagLogLevelFromString(getStringFromEnv("OTEL_LOG_LEVEL")));
