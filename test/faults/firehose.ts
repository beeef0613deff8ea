// Firehose deliveries for the faults, built with the shipping phase's metric-stream record builder and
// sent with its Firehose-style sender (retries everything but 200 and 413 until its retry duration
// runs out). Each delivery carries one function's AWS/Lambda metrics under a name of its own, so the
// metric store can be asked which deliveries arrived.
import * as assert from "node:assert/strict";
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

/**
 * Posts each bad payload once with the right key and returns what came back: `statuses` for the
 * ledger, `wrong` for every payload not refused with a 4xx (a cut-off oversize upload counts as
 * refused). After each one the collector must still run and answer its health check.
 */
export async function postBadPayloads(
  url: string,
  accessKey: string,
  requestId: string,
  cases: [string, string | Buffer][],
  healthy: () => Promise<boolean>,
): Promise<{ statuses: string[]; wrong: string[] }> {
  const statuses: string[] = [];
  const wrong: string[] = [];
  for (const [what, payload] of cases) {
    let status: number;
    try {
      status = (await postOnce(url, accessKey, payload, requestId)).status;
    } catch (error) {
      // The collector may cut an oversize upload short; that is a refusal too, if it stays up.
      if (!what.startsWith("oversize")) throw error;
      status = -1;
    }
    statuses.push(`${what}: ${status}`);
    if (!(status === -1 || (status >= 400 && status < 500))) wrong.push(`${what}: HTTP ${status}`);
    assert.ok(await healthy(), `the collector is not healthy after: ${what}`);
  }
  return { statuses, wrong };
}
