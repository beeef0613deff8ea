// Firehose deliveries for the faults, built with the shipping phase's metric-stream record builder and
// sent with its Firehose-style sender (retries everything but 200 and 413 until its retry duration
// runs out). Each delivery carries one function's AWS/Lambda metrics under a name of its own, so the
// metric store can be asked which deliveries arrived.
import { randomUUID } from "node:crypto";
import { firehoseRequestBody, lambdaMetricData, metricStreamRecord } from "../pipeline/firehose";
import { post } from "./load";
import { promQuery } from "./pipeline";

/** The records of one delivery: one minute of one function's Lambda metrics. */
export function recordsFor(functionName: string): Buffer[] {
  return [metricStreamRecord(lambdaMetricData({ functionName, accountWide: false }))];
}

/** POSTs one delivery once, with whatever key (or none) the caller chooses: for strangers and bad input. */
export function postOnce(
  url: string,
  accessKey: string | undefined,
  body: string | Buffer,
  requestId: string = randomUUID(),
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amz-firehose-request-id": requestId,
  };
  if (accessKey !== undefined) headers["x-amz-firehose-access-key"] = accessKey;
  return post(url, body, headers, { timeoutMs: 60_000 });
}

/** A well-formed delivery body for `functionName`, and the request id it must be sent with. */
export function deliveryBody(functionName: string): { requestId: string; body: string } {
  const requestId = randomUUID();
  return {
    requestId,
    body: JSON.stringify(firehoseRequestBody(recordsFor(functionName), requestId, Date.now())),
  };
}

/** Function names (of the given prefix) the metric store holds an Invocations series for. */
export async function storedFunctions(prometheusUrl: string, prefix: string): Promise<Set<string>> {
  const result = await promQuery(
    prometheusUrl,
    `count by (FunctionName) ({__name__=~"aws_lambda_invocations.*", FunctionName=~"${prefix}.*"})`,
  );
  return new Set(result.map((r) => r.metric.FunctionName));
}
