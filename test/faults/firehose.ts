// A Firehose stand-in for the faults: each delivery carries one function's AWS/Lambda metrics under a
// name of its own, so the metric store can be asked which deliveries arrived. Like Firehose it retries
// everything but 200 (413 aside, which Firehose gives up on) until its retry duration runs out.
import { randomUUID } from "node:crypto";
import { firehoseBody, metricStreamRequest } from "../bench/firehoseLoad";
import { sleep } from "./control";
import { post } from "./load";
import { promQuery } from "./pipeline";

function delimited(message: Buffer): Buffer {
  const len: number[] = [];
  let v = message.length;
  while (v >= 0x80) {
    len.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  len.push(v);
  return Buffer.concat([Buffer.from(len), message]);
}

/** A delivery body whose only function is `functionName` (one record, one Invocations summary). */
export function deliveryFor(functionName: string): { requestId: string; body: string } {
  const requestId = randomUUID();
  const data = delimited(metricStreamRequest(functionName, 1, Date.now())).toString("base64");
  return { requestId, body: firehoseBody(requestId, JSON.stringify([{ data }])) };
}

export function firehoseHeaders(requestId: string, accessKey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amz-firehose-request-id": requestId,
  };
  if (accessKey !== undefined) headers["x-amz-firehose-access-key"] = accessKey;
  return headers;
}

export interface DeliveryOutcome {
  readonly delivered: boolean;
  readonly attempts: number;
  readonly statuses: readonly number[];
}

/** Delivers one body as Firehose does: retry on anything but 200 or 413, every `backoffMs`, until `retryForMs`. */
export async function deliver(
  url: string,
  accessKey: string,
  delivery: { requestId: string; body: string },
  retryForMs: number,
  backoffMs = 1_000,
): Promise<DeliveryOutcome> {
  const deadline = Date.now() + retryForMs;
  const statuses: number[] = [];
  for (;;) {
    let status = 0;
    try {
      // Firehose waits up to 3 minutes for an answer; the collector answers well within 30 s.
      status = (
        await post(url, delivery.body, firehoseHeaders(delivery.requestId, accessKey), { timeoutMs: 60_000 })
      ).status;
    } catch {
      status = 0;
    }
    statuses.push(status);
    if (status === 200) return { delivered: true, attempts: statuses.length, statuses };
    if (status === 413 || Date.now() > deadline)
      return { delivered: false, attempts: statuses.length, statuses };
    await sleep(backoffMs);
  }
}

/** Function names (of the given prefix) the metric store holds an Invocations series for. */
export async function storedFunctions(prometheusUrl: string, prefix: string): Promise<Set<string>> {
  const result = await promQuery(
    prometheusUrl,
    `count by (FunctionName) ({__name__=~"aws_lambda_invocations.*", FunctionName=~"${prefix}.*"})`,
  );
  return new Set(result.map((r) => r.metric.FunctionName));
}
