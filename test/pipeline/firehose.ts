// CloudWatch Metric Stream records for Lambda metrics, in the wire format the collector is configured
// for (METRIC_STREAM_OUTPUT_FORMAT = opentelemetry1.0), and delivery the way Kinesis Data Firehose's
// HTTP endpoint destination does it. The OTLP protobuf is written by hand (a few field numbers from
// opentelemetry-proto v1.0.0 metrics.proto) because the JS SDK has no summary data points.
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { sleep } from "./processes";

/** One CloudWatch metric datum as a metric stream sends it: a one-minute aggregate. */
export interface CloudWatchDatum {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** CloudWatch unit (Count, Milliseconds, …). */
  unit: string;
  /** End of the one-minute period, ms since epoch. */
  endMs: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Extra statistics from `statisticsConfigurations`, e.g. { 0.5: 12, 0.9: 30, 0.99: 80 }. */
  percentiles?: Record<number, number>;
}

export interface LambdaMetricsOptions {
  functionName: string;
  /** An alias: adds the per-alias series CloudWatch streams (Resource = "name:alias", ExecutedVersion). */
  alias?: string;
  /** Version the alias points to. Default: "1". */
  executedVersion?: string;
  /** Also the account-wide series (no dimensions). Default: true. */
  accountWide?: boolean;
  invocations?: number;
  errors?: number;
  throttles?: number;
  /** Durations of the minute's invocations, ms; min/max/sum/percentiles are computed from them. */
  durationsMs?: number[];
  concurrentExecutions?: number;
  /** End of the minute, ms since epoch. Default: now. */
  endMs?: number;
}

const LAMBDA = "AWS/Lambda";
const PERCENTILES = [0.5, 0.9, 0.99];

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** The Lambda data CloudWatch streams for one function in one minute (Invocations, Errors, Duration, …). */
export function lambdaMetricData(o: LambdaMetricsOptions): CloudWatchDatum[] {
  const endMs = o.endMs ?? Date.now();
  const invocations = o.invocations ?? 10;
  const durations = [...(o.durationsMs ?? Array.from({ length: invocations }, (_, i) => 20 + i * 5))].sort(
    (a, b) => a - b,
  );
  const scopes: Record<string, string>[] = [{ FunctionName: o.functionName }];
  if (o.alias) {
    const resource = `${o.functionName}:${o.alias}`;
    scopes.push({ FunctionName: o.functionName, Resource: resource });
    scopes.push({
      FunctionName: o.functionName,
      Resource: resource,
      ExecutedVersion: o.executedVersion ?? "1",
    });
  }
  if (o.accountWide ?? true) scopes.push({});

  const count = (metricName: string, value: number, dimensions: Record<string, string>): CloudWatchDatum => ({
    namespace: LAMBDA,
    metricName,
    dimensions,
    unit: "Count",
    endMs,
    count: 1,
    sum: value,
    min: value,
    max: value,
  });
  const data: CloudWatchDatum[] = [];
  for (const dimensions of scopes) {
    data.push(count("Invocations", invocations, dimensions));
    data.push(count("Errors", o.errors ?? 0, dimensions));
    data.push(count("Throttles", o.throttles ?? 0, dimensions));
    if (durations.length > 0) {
      data.push({
        namespace: LAMBDA,
        metricName: "Duration",
        dimensions,
        unit: "Milliseconds",
        endMs,
        count: durations.length,
        sum: durations.reduce((a, b) => a + b, 0),
        min: durations[0],
        max: durations[durations.length - 1],
        percentiles: Object.fromEntries(PERCENTILES.map((q) => [q, percentile(durations, q)])),
      });
    }
    // CloudWatch publishes ConcurrentExecutions per function and account-wide, not per alias.
    if (!("Resource" in dimensions)) {
      data.push(count("ConcurrentExecutions", o.concurrentExecutions ?? 2, dimensions));
    }
  }
  return data;
}

// ---- protobuf (opentelemetry-proto v1.0.0) --------------------------------------------------------

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const bytesField = (field: number, value: Buffer) =>
  Buffer.concat([tag(field, 2), varint(value.length), value]);
const stringField = (field: number, value: string) => bytesField(field, Buffer.from(value, "utf8"));
function doubleField(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([tag(field, 1), b]);
}
function fixed64Field(field: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), b]);
}

// KeyValue{1 key, 2 value}; AnyValue{1 string_value, 6 kvlist_value}; KeyValueList{1 values}
const stringValue = (s: string) => stringField(1, s);
const keyValue = (key: string, anyValue: Buffer) =>
  Buffer.concat([stringField(1, key), bytesField(2, anyValue)]);
const kvList = (entries: Record<string, string>) =>
  bytesField(
    6,
    Buffer.concat(Object.entries(entries).map(([k, v]) => bytesField(1, keyValue(k, stringValue(v))))),
  );

/** CloudWatch unit → the UCUM unit CloudWatch writes in the OpenTelemetry formats. */
const UNITS: Record<string, string> = {
  Count: "{Count}",
  Milliseconds: "ms",
  Seconds: "s",
  None: "1",
  Percent: "%",
};

function summaryDataPoint(d: CloudWatchDatum): Buffer {
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const quantiles: [number, number][] = [
    [0, d.min],
    ...Object.entries(d.percentiles ?? {}).map(([q, v]) => [Number(q), v] as [number, number]),
    [1, d.max],
  ];
  return Buffer.concat([
    // SummaryDataPoint{7 attributes, 2 start_time_unix_nano, 3 time_unix_nano, 4 count, 5 sum, 6 quantile_values}
    bytesField(7, keyValue("Namespace", stringValue(d.namespace))),
    bytesField(7, keyValue("MetricName", stringValue(d.metricName))),
    bytesField(7, keyValue("Dimensions", kvList(d.dimensions))),
    fixed64Field(2, ns(d.endMs - 60_000)),
    fixed64Field(3, ns(d.endMs)),
    fixed64Field(4, BigInt(d.count)),
    doubleField(5, d.sum),
    ...quantiles.map(([q, v]) => bytesField(6, Buffer.concat([doubleField(1, q), doubleField(2, v)]))),
  ]);
}

export interface StreamResource {
  accountId: string;
  region: string;
  streamName: string;
}

/** One ExportMetricsServiceRequest for one datum, as CloudWatch builds it. */
export function exportMetricsServiceRequest(d: CloudWatchDatum, r: StreamResource): Buffer {
  const resource = Buffer.concat(
    [
      ["cloud.provider", "aws"],
      ["cloud.account.id", r.accountId],
      ["cloud.region", r.region],
      ["aws.exporter.arn", `arn:aws:cloudwatch:${r.region}:${r.accountId}:metric-stream/${r.streamName}`],
    ].map(([k, v]) => bytesField(1, keyValue(k, stringValue(v)))),
  );
  // Metric{1 name, 3 unit, 11 summary{1 data_points}}
  const metric = Buffer.concat([
    stringField(1, `amazonaws.com/${d.namespace}/${d.metricName}`),
    stringField(3, UNITS[d.unit] ?? d.unit),
    bytesField(11, bytesField(1, summaryDataPoint(d))),
  ]);
  // ExportMetricsServiceRequest{1 resource_metrics{1 resource, 2 scope_metrics{2 metrics}}}
  return bytesField(1, Buffer.concat([bytesField(1, resource), bytesField(2, bytesField(2, metric))]));
}

/** A Firehose record's data: length-prefixed (uvarint) ExportMetricsServiceRequests, one per datum. */
export function metricStreamRecord(data: CloudWatchDatum[], resource: Partial<StreamResource> = {}): Buffer {
  const r: StreamResource = {
    accountId: "123456789012",
    region: "us-east-1",
    streamName: "firefly",
    ...resource,
  };
  return Buffer.concat(
    data.map((d) => {
      const request = exportMetricsServiceRequest(d, r);
      return Buffer.concat([varint(request.length), request]);
    }),
  );
}

// ---- delivery -------------------------------------------------------------------------------------

export interface FirehoseDelivery {
  url: string;
  accessKey: string;
  /** Gzip the body (`Content-Encoding: gzip`), as a destination with GZIP content encoding does. Default: false. */
  gzip?: boolean;
  /** Sent as X-Amz-Firehose-Common-Attributes. */
  commonAttributes?: Record<string, string>;
  /** Retry like Firehose (everything but 200 and 413) until this many ms have passed. Default: no retry. */
  retryForMs?: number;
}

export interface FirehoseResult {
  status: number;
  body: { requestId?: string; timestamp?: number; errorMessage?: string };
  attempts: number;
}

/** The request body Firehose sends: { requestId, timestamp, records: [{ data: base64 }] }. */
export function firehoseRequestBody(records: Buffer[], requestId: string, timestamp: number) {
  return { requestId, timestamp, records: records.map((r) => ({ data: r.toString("base64") })) };
}

/** POSTs the records as one Firehose delivery; with `retryForMs`, repeats it until 200 or 413. */
export async function deliver(records: Buffer[], d: FirehoseDelivery): Promise<FirehoseResult> {
  const requestId = randomUUID();
  const deadline = Date.now() + (d.retryForMs ?? 0);
  for (let attempts = 1; ; attempts++) {
    const timestamp = Date.now();
    const json = Buffer.from(JSON.stringify(firehoseRequestBody(records, requestId, timestamp)));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-amz-firehose-protocol-version": "1.0",
      "x-amz-firehose-request-id": requestId,
      "x-amz-firehose-access-key": d.accessKey,
    };
    if (d.commonAttributes) {
      headers["x-amz-firehose-common-attributes"] = JSON.stringify({ commonAttributes: d.commonAttributes });
    }
    if (d.gzip) headers["content-encoding"] = "gzip";
    let status = 0;
    let body: FirehoseResult["body"] = {};
    try {
      const response = await fetch(d.url, {
        method: "POST",
        headers,
        body: d.gzip ? gzipSync(json) : json,
        signal: AbortSignal.timeout(180_000),
      });
      status = response.status;
      const text = await response.text();
      body = text ? JSON.parse(text) : {};
    } catch (error) {
      body = { errorMessage: String(error) };
    }
    if (status === 200 || status === 413 || Date.now() >= deadline) return { status, body, attempts };
    await sleep(Math.min(1000 * attempts, 5000));
  }
}
