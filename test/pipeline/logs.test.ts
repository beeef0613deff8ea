// End to end on the local pipeline (real collector, real VictoriaLogs, real Prometheus): CloudWatch Logs
// subscription deliveries exactly as AWS sends them through Firehose become queryable log lines with
// the function name and request id as fields, and Lambda's REPORT lines become exact metric values;
// OTLP logs keep their trace ids.
import * as assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { LAMBDA_PRICE_DEFAULTS, LOG_FIELDS, REPORT_METRICS } from "../../components/shipping/logsConfig";
import {
  controlRecord,
  logsQuery,
  type ReportLine,
  reportLine,
  subscriptionRecord,
  timeoutLine,
  waitForLogs,
} from "./cloudwatchLogs";
import { deliver } from "./firehose";
import { ensureLocalPipeline, type LocalPipeline } from "./local";
import { newSpanId, newTraceId } from "./otlp";
import { waitForSamples } from "./query";

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const close = (actual: number, expected: number) =>
  Math.abs(actual - expected) <= 1e-9 * Math.max(1, expected);

/** Waits until the single series the selector picks holds `expected`, then asserts it. */
async function expectValue(local: LocalPipeline, expr: string, expected: number): Promise<void> {
  const samples = await waitForSamples(local.prometheus.url, expr, {
    until: (s) => s.length === 1 && close(s[0].value, expected),
    timeoutMs: 30_000,
  }).catch((error: Error) => assert.fail(`${expr} should be ${expected}: ${error.message}`));
  assert.equal(samples.length, 1);
}

describe("pipeline: CloudWatch Logs via Firehose → log store and REPORT metrics", function () {
  this.timeout(120_000);
  let local: LocalPipeline;
  before(async () => {
    local = await ensureLocalPipeline();
  });

  it("a subscription delivery's REPORT, timeout and OOM lines become exact metrics and queryable log lines", async () => {
    const fn = unique("cwl");
    const ids: string[] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const reports: ReportLine[] = [
      {
        requestId: ids[0],
        durationMs: 128.83,
        billedMs: 129,
        memoryMb: 128,
        maxMemoryMb: 74,
        initMs: 166.62,
      },
      {
        requestId: ids[1],
        durationMs: 3000.05,
        billedMs: 3000,
        memoryMb: 128,
        maxMemoryMb: 90,
        status: "timeout",
      },
      {
        requestId: ids[2],
        durationMs: 50.11,
        billedMs: 51,
        memoryMb: 128,
        maxMemoryMb: 128,
        status: "error",
        errorType: "Runtime.OutOfMemory",
      },
      { requestId: ids[3], durationMs: 199.5, billedMs: 200, memoryMb: 128, maxMemoryMb: 80 },
    ];
    const logGroup = `/aws/lambda/${fn}`;
    // Two Firehose records, as CloudWatch Logs batches them: the first with the timeout line.
    const first = subscriptionRecord(
      [
        { message: reportLine(reports[0]) },
        { message: timeoutLine(ids[1], 3) },
        { message: reportLine(reports[1]) },
      ],
      { logGroup },
    );
    const second = subscriptionRecord(
      [{ message: reportLine(reports[2]) }, { message: reportLine(reports[3]) }],
      { logGroup },
    );
    const result = await deliver([controlRecord(logGroup), first, second], {
      ...local.firehoseLogs,
      gzip: true,
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.requestId !== undefined, true, "the answer echoes requestId");

    const f = `faas_name="${fn}"`;
    const m = REPORT_METRICS;
    await expectValue(local, `${m.invocations}{${f},lambda_status="success"}`, 2);
    await expectValue(local, `${m.invocations}{${f},lambda_status="timeout"}`, 1);
    await expectValue(local, `${m.invocations}{${f},lambda_status="out_of_memory"}`, 1);
    await expectValue(local, `${m.platformEvents}{${f},lambda_platform="timeout"}`, 1);
    await expectValue(local, `${m.billedDurationMs}{${f}}`, 129 + 3000 + 51 + 200);
    await expectValue(local, `${m.durationMs}_count{${f}}`, 4);
    await expectValue(local, `${m.durationMs}_sum{${f}}`, 128.83 + 3000.05 + 50.11 + 199.5);
    await expectValue(local, `${m.memorySizeMb}{${f}}`, 128);
    await expectValue(local, `${m.maxMemoryUsedMb}_sum{${f}}`, 74 + 90 + 128 + 80);
    await expectValue(local, `${m.maxMemoryUsedMb}_bucket{${f},le="128"}`, 4);
    await expectValue(local, `${m.maxMemoryUsedMb}_bucket{${f},le="64"}`, 0);
    // 74/128, 90/128 and 80/128 are at most 0.95 of the memory size; the OOM invocation used all of it.
    await expectValue(local, `${m.memoryUsedRatio}_bucket{${f},le="0.95"}`, 3);
    await expectValue(local, `${m.memoryUsedRatio}_bucket{${f},le="+Inf"}`, 4);
    await expectValue(local, `${m.initDurationMs}_count{${f}}`, 1);
    await expectValue(local, `${m.initDurationMs}_sum{${f}}`, 166.62);
    const gbSeconds = ((129 + 3000 + 51 + 200) / 1000) * (128 / 1024);
    await expectValue(local, `${m.gbSeconds}{${f},faas_arch="x86_64"}`, gbSeconds);
    await expectValue(
      local,
      `${m.costUsd}{${f},faas_arch="x86_64"}`,
      gbSeconds * LAMBDA_PRICE_DEFAULTS.x86PerGbSecond + 4 * LAMBDA_PRICE_DEFAULTS.perRequest,
    );

    // Five log lines (the control probe is not one), each with the function name and its request id.
    const rows = await waitForLogs(local.logs.url, `${LOG_FIELDS.functionName}:="${fn}"`, 5);
    assert.equal(rows.length, 5, JSON.stringify(rows));
    for (const row of rows) assert.ok(ids.includes(row[LOG_FIELDS.requestId]), JSON.stringify(row));
    const timeout = await logsQuery(local.logs.url, `${LOG_FIELDS.functionName}:="${fn}" "Task timed out"`);
    assert.equal(timeout.length, 1);
    assert.equal(timeout[0][LOG_FIELDS.requestId], ids[1]);
    assert.equal(timeout[0][LOG_FIELDS.platform], "timeout");
    const [cold] = await logsQuery(local.logs.url, `${LOG_FIELDS.requestId}:"${ids[0]}" REPORT`);
    assert.equal(cold[LOG_FIELDS.billedDurationMs], "129");
    assert.equal(cold[LOG_FIELDS.maxMemoryUsedMb], "74");
    assert.equal(cold[LOG_FIELDS.initDurationMs], "166.62");
    assert.equal(cold[LOG_FIELDS.status], "success");
    const [oom] = await logsQuery(local.logs.url, `${LOG_FIELDS.requestId}:"${ids[2]}" REPORT`);
    assert.equal(oom[LOG_FIELDS.status], "out_of_memory");
    assert.equal(oom[LOG_FIELDS.errorType], "Runtime.OutOfMemory");
  });

  it("prices arm64 functions at the arm64 rate, from the stream's common attribute", async () => {
    const fn = unique("cwl-arm");
    const record = subscriptionRecord(
      [
        {
          message: reportLine({
            requestId: randomUUID(),
            durationMs: 999.9,
            billedMs: 1000,
            memoryMb: 1024,
            maxMemoryMb: 300,
          }),
        },
      ],
      { logGroup: `/aws/lambda/${fn}` },
    );
    const result = await deliver([record], {
      ...local.firehoseLogs,
      commonAttributes: { "faas.arch": "arm64" },
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    await expectValue(
      local,
      `${REPORT_METRICS.costUsd}{faas_name="${fn}",faas_arch="arm64"}`,
      1 * LAMBDA_PRICE_DEFAULTS.arm64PerGbSecond + LAMBDA_PRICE_DEFAULTS.perRequest,
    );
  });

  it("a custom log group names the function by the group", async () => {
    const group = unique("/shared/app-logs");
    const id = randomUUID();
    const record = subscriptionRecord(
      [
        {
          message: reportLine({
            requestId: id,
            durationMs: 10,
            billedMs: 10,
            memoryMb: 256,
            maxMemoryMb: 60,
          }),
        },
      ],
      {
        logGroup: group,
      },
    );
    assert.equal((await deliver([record], local.firehoseLogs)).status, 200);
    const rows = await waitForLogs(local.logs.url, `${LOG_FIELDS.requestId}:"${id}"`, 1);
    assert.equal(rows[0]?.[LOG_FIELDS.functionName], group);
  });

  it("refuses a wrong or missing access key with 401 and stores nothing", async () => {
    const fn = unique("cwl-denied");
    const record = subscriptionRecord([{ message: `REPORT from ${fn}` }], { logGroup: `/aws/lambda/${fn}` });
    for (const accessKey of ["wrong", ""]) {
      const result = await deliver([record], { ...local.firehoseLogs, accessKey });
      assert.equal(result.status, 401, JSON.stringify(result.body));
    }
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await logsQuery(local.logs.url, `${LOG_FIELDS.functionName}:="${fn}"`), []);
  });
});

describe("pipeline: OTLP logs → log store", function () {
  this.timeout(60_000);
  let local: LocalPipeline;
  before(async () => {
    local = await ensureLocalPipeline();
  });

  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(`${local.otlp.url}/v1/logs`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  function logsRequest(
    fn: string,
    lines: { traceId: string; spanId: string; text: string; requestId: string }[],
  ) {
    const now = BigInt(Date.now()) * 1_000_000n;
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    return {
      resourceLogs: [
        {
          resource: {
            attributes: [str("service.name", fn), str("faas.name", fn), str("cloud.provider", "aws")],
          },
          scopeLogs: [
            {
              scope: { name: "firefly-layer" },
              logRecords: lines.map((l) => ({
                timeUnixNano: String(now),
                severityNumber: 9,
                severityText: "INFO",
                body: { stringValue: l.text },
                attributes: [str("faas.invocation_id", l.requestId)],
                traceId: l.traceId,
                spanId: l.spanId,
              })),
            },
          ],
        },
      ],
    };
  }

  it("stores each record with its trace id, span id and request id", async () => {
    const fn = unique("otlp-logs");
    const lines = [0, 1, 2].map((i) => ({
      traceId: newTraceId(),
      spanId: newSpanId(),
      requestId: randomUUID(),
      text: `order ${i} accepted`,
    }));
    assert.equal(await post(local.otlp.headers, logsRequest(fn, lines)), 200);
    for (const l of lines) {
      const rows = await waitForLogs(local.logs.url, `trace_id:"${l.traceId}"`, 1);
      assert.equal(rows.length, 1, `trace ${l.traceId}`);
      assert.equal(rows[0]._msg, l.text);
      assert.equal(rows[0].span_id, l.spanId);
      assert.equal(rows[0][LOG_FIELDS.requestId], l.requestId);
      assert.equal(rows[0][LOG_FIELDS.functionName], fn);
    }
  });

  it("requires the bearer token", async () => {
    const fn = unique("otlp-denied");
    const body = logsRequest(fn, [
      { traceId: newTraceId(), spanId: newSpanId(), requestId: randomUUID(), text: "x" },
    ]);
    assert.equal(await post({}, body), 401);
    assert.equal(await post({ authorization: "Bearer wrong" }, body), 401);
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await logsQuery(local.logs.url, `${LOG_FIELDS.functionName}:="${fn}"`), []);
  });
});
