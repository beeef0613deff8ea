// Firehose load for the gateway benchmark. No Firehose load generator exists outside AWS, so this one
// sends what a CloudWatch Metric Stream in `opentelemetry1.0` format delivers through Firehose: HTTP
// requests `{requestId, timestamp, records: [{data: base64}]}`, each record a run of varint-delimited
// ExportMetricsServiceRequest protobufs holding AWS/Lambda summaries with a nested `Dimensions` map.
// The protobuf is written by hand (a few field types) so the bench needs no proto toolchain.
import * as http from "node:http";

class Pb {
  private readonly parts: Buffer[] = [];

  private varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, value: Buffer): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, "utf8"));
  }

  message(field: number, build: (pb: Pb) => void): this {
    const inner = new Pb();
    build(inner);
    return this.bytes(field, inner.done());
  }

  double(field: number, value: number): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  fixed64(field: number, value: bigint): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    this.parts.push(b);
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// KeyValue{key=1, value=2 AnyValue{string_value=1, kvlist_value=6 KeyValueList{values=1}}}
const kv = (pb: Pb, field: number, key: string, value: string) =>
  pb.message(field, (k) => k.string(1, key).message(2, (v) => v.string(1, value)));

const LAMBDA_METRICS = ["Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"];

/** One ExportMetricsServiceRequest: `metrics` summaries for one function, as CloudWatch streams them. */
export function metricStreamRequest(functionName: string, metrics: number, nowMs: number): Buffer {
  const end = BigInt(nowMs) * 1_000_000n;
  const start = end - 60_000_000_000n;
  const pb = new Pb();
  pb.message(1, (rm) => {
    rm.message(1, (res) => {
      kv(res, 1, "cloud.provider", "aws");
      kv(res, 1, "cloud.account.id", "123456789012");
      kv(res, 1, "cloud.region", "eu-west-1");
      kv(res, 1, "aws.exporter.arn", "arn:aws:cloudwatch:eu-west-1:123456789012:metric-stream/firefly");
    });
    rm.message(2, (sm) => {
      for (let i = 0; i < metrics; i++) {
        const name = LAMBDA_METRICS[i % LAMBDA_METRICS.length];
        sm.message(2, (m) => {
          m.string(1, `amazonaws.com/AWS/Lambda/${name}`).string(3, "{Count}");
          // Metric.summary = 11 → Summary.data_points = 1
          m.message(11, (s) =>
            s.message(1, (dp) => {
              kv(dp, 7, "Namespace", "AWS/Lambda");
              kv(dp, 7, "MetricName", name);
              dp.message(7, (k) =>
                k.string(1, "Dimensions").message(2, (v) =>
                  v.message(6, (list) => {
                    kv(list, 1, "FunctionName", functionName);
                    kv(list, 1, "Resource", functionName);
                  }),
                ),
              );
              dp.fixed64(2, start)
                .fixed64(3, end)
                .fixed64(4, 60n)
                .double(5, 60 + i);
              for (const [q, v] of [
                [0, 1],
                [0.5, 2],
                [0.99, 9],
                [1, 10],
              ]) {
                dp.message(6, (qv) => qv.double(1, q).double(2, v));
              }
            }),
          );
        });
      }
    });
  });
  return pb.done();
}

/** The `records` array of a Firehose delivery, as JSON: each record holds `requestsPerRecord` delimited requests. */
export function firehoseRecords(
  records: number,
  requestsPerRecord: number,
  metricsPerRequest: number,
): string {
  const now = Date.now();
  const list: { data: string }[] = [];
  for (let r = 0; r < records; r++) {
    const chunks: Buffer[] = [];
    for (let q = 0; q < requestsPerRecord; q++) {
      const msg = metricStreamRequest(`bench-fn-${(r * requestsPerRecord + q) % 50}`, metricsPerRequest, now);
      const len: number[] = [];
      let v = msg.length;
      while (v >= 0x80) {
        len.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      len.push(v);
      chunks.push(Buffer.from(len), msg);
    }
    list.push({ data: Buffer.concat(chunks).toString("base64") });
  }
  return JSON.stringify(list);
}

/** A whole delivery body; the receiver rejects a body whose requestId differs from the header's. */
export function firehoseBody(requestId: string, recordsJson: string): string {
  return `{"requestId":${JSON.stringify(requestId)},"timestamp":${Date.now()},"records":${recordsJson}}`;
}

export interface FirehoseLoadResult {
  seconds: number;
  requests: number;
  failed: number;
  records: number;
  datapoints: number;
}

export interface FirehoseLoadOptions {
  url: string;
  accessKey: string;
  seconds: number;
  /** Concurrent deliveries in flight (Firehose itself runs several per stream). */
  concurrency: number;
  recordsPerRequest: number;
  requestsPerRecord: number;
  metricsPerRequest: number;
}

/** Sends deliveries back to back for `seconds`, `concurrency` at a time; counts what got a 200. */
export async function firehoseLoad(o: FirehoseLoadOptions): Promise<FirehoseLoadResult> {
  // Records built once: building protobufs in this process would steal CPU from the collector under test.
  const records = firehoseRecords(o.recordsPerRequest, o.requestsPerRecord, o.metricsPerRequest);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const url = new URL(o.url);
  let ok = 0;
  let failed = 0;
  const deadline = Date.now() + o.seconds * 1000;
  const startedAt = Date.now();
  const send = () =>
    new Promise<number>((resolve) => {
      const requestId = crypto.randomUUID();
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "x-amz-firehose-access-key": o.accessKey,
            "x-amz-firehose-request-id": requestId,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", () => resolve(0));
      req.end(firehoseBody(requestId, records));
    });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (Date.now() < deadline) {
        if ((await send()) === 200) ok++;
        else failed++;
      }
    }),
  );
  agent.destroy();
  const seconds = (Date.now() - startedAt) / 1000;
  const delivered = ok * o.recordsPerRequest;
  return {
    seconds,
    requests: ok,
    failed,
    records: delivered,
    datapoints: delivered * o.requestsPerRecord * o.metricsPerRequest,
  };
}
