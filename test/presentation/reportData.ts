// Lambda's REPORT and timeout lines for the dashboard test's function, delivered the way a CloudWatch Logs
// subscription sends them through Firehose, so every REPORT panel and alert query has data: a cold start,
// a timeout and an out-of-memory invocation, in two deliveries so the counters rise between samples.
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { REPORT_METRICS } from "../../components/shipping/logsConfig";
import { reportLine, subscriptionRecord, timeoutLine } from "../pipeline/cloudwatchLogs";
import { deliver } from "../pipeline/firehose";
import type { LocalPipeline } from "../pipeline/local";
import { waitForSamples } from "../pipeline/query";

export async function sendReports(local: LocalPipeline, fn: string): Promise<void> {
  const logGroup = `/aws/lambda/${fn}`;
  const timedOut = randomUUID();
  const rounds = [
    [
      reportLine({
        requestId: randomUUID(),
        durationMs: 180.5,
        billedMs: 181,
        memoryMb: 512,
        maxMemoryMb: 120,
        initMs: 250.1,
      }),
      reportLine({
        requestId: randomUUID(),
        durationMs: 40.2,
        billedMs: 41,
        memoryMb: 512,
        maxMemoryMb: 130,
      }),
    ],
    [
      timeoutLine(timedOut, 3),
      reportLine({
        requestId: timedOut,
        durationMs: 3000.1,
        billedMs: 3000,
        memoryMb: 512,
        maxMemoryMb: 200,
        status: "timeout",
      }),
      reportLine({
        requestId: randomUUID(),
        durationMs: 90,
        billedMs: 90,
        memoryMb: 512,
        maxMemoryMb: 512,
        status: "error",
        errorType: "Runtime.OutOfMemory",
      }),
    ],
  ];
  const invocations = `${REPORT_METRICS.invocations}{faas_name="${fn}"}`;
  let sent = 0;
  for (const lines of rounds) {
    const result = await deliver(
      [
        subscriptionRecord(
          lines.map((message) => ({ message })),
          { logGroup },
        ),
      ],
      {
        ...local.firehoseLogs,
        retryForMs: 20_000,
      },
    );
    assert.equal(result.status, 200, `REPORT delivery: ${JSON.stringify(result.body)}`);
    sent += lines.filter((l) => l.startsWith("REPORT")).length;
    const expected = sent;
    // The interval processor emits every 10 s: wait for this round's total before the next.
    await waitForSamples(local.prometheus.url, `sum(${invocations})`, {
      until: (s) => s[0]?.value === expected,
      timeoutMs: 60_000,
    });
  }
}
