// Bad input at the collector's CloudWatch Logs door: malformed, gzip-corrupt, wrongly shaped and oversize
// Firehose deliveries get a 4xx, not a crash; strangers get 401; the collector stays healthy and the next
// good delivery lands in the log store.
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { COLLECTOR_HEALTH_PATH } from "../../components/shipping/collectorConfig";
import {
  logsQuery,
  reportLine,
  subscriptionMessage,
  subscriptionRecord,
  waitForLogs,
} from "../pipeline/cloudwatchLogs";
import { deliver } from "../pipeline/firehose";
import { httpGet } from "./control";
import { postBadPayloads, postOnce } from "./firehose";
import { record } from "./ledger";
import { usePipeline } from "./pipeline";
import { pipelineMissing } from "./settings";

describe("fault: malformed CloudWatch Logs deliveries at the collector", function () {
  this.timeout(120_000);
  const current = usePipeline(pipelineMissing);

  const healthy = async () =>
    (await httpGet(`http://127.0.0.1:${current().ports.health}${COLLECTOR_HEALTH_PATH}`)).status === 200;

  it("answers malformed, gzip-corrupt and oversize payloads with 4xx, strangers with 401, and stays healthy", async () => {
    const pipeline = current();
    const id = randomUUID();
    const body = (records: unknown) => JSON.stringify({ requestId: id, timestamp: Date.now(), records });
    const data = (b: Buffer) => body([{ data: b.toString("base64") }]);
    const good = subscriptionRecord([{ message: "fine" }], { logGroup: "/aws/lambda/bad-input" });
    const message = subscriptionMessage([{ message: "x" }], { logGroup: "/aws/lambda/bad-input" });
    const cases: [string, string | Buffer][] = [
      ["not JSON", "{{{{"],
      ["records not a list", body("x")],
      ["record not gzip (plain JSON)", data(Buffer.from(JSON.stringify(message)))],
      ["gzip header, corrupt stream", data(Buffer.concat([good.subarray(0, 12), Buffer.alloc(64, 0xab)]))],
      ["gzip cut short", data(good.subarray(0, good.length - 10))],
      ["gzip of non-JSON", data(gzipSync("REPORT RequestId: nothing"))],
      ["unknown messageType", data(gzipSync(JSON.stringify({ ...message, messageType: "OTHER" })))],
      ["DATA_MESSAGE without logGroup", data(gzipSync(JSON.stringify({ ...message, logGroup: "" })))],
      // Above the receiver's 20 MiB default: the Firehose stream's buffer is set lower, an attacker might not.
      ["oversize (25 MiB)", Buffer.alloc(25 * 1024 * 1024, 0x20)],
    ];
    const { statuses, wrong } = await postBadPayloads(
      pipeline.firehoseLogsUrl,
      pipeline.firehoseKey,
      id,
      cases,
      async () => (pipeline.collector.running ? healthy() : false),
    );
    for (const key of [undefined, "", "wrong"]) {
      const res = await postOnce(pipeline.firehoseLogsUrl, key, data(good), id);
      assert.equal(res.status, 401, `access key ${JSON.stringify(key)}: HTTP ${res.status}`);
    }

    const requestId = randomUUID();
    const after = await deliver(
      [
        subscriptionRecord(
          [
            {
              message: reportLine({ requestId, durationMs: 5, billedMs: 5, memoryMb: 128, maxMemoryMb: 40 }),
            },
          ],
          { logGroup: "/aws/lambda/after-bad-input" },
        ),
      ],
      { url: pipeline.firehoseLogsUrl, accessKey: pipeline.firehoseKey, retryForMs: 10_000 },
    );
    assert.equal(
      after.status,
      200,
      `a good delivery after the bad ones was refused: ${JSON.stringify(after)}`,
    );
    const rows = await waitForLogs(pipeline.logsUrl, `faas.invocation_id:"${requestId}"`, 1);
    assert.equal(rows.length, 1, "the good delivery after the bad ones did not reach the log store");
    assert.deepEqual(
      await logsQuery(pipeline.logsUrl, `faas.name:="bad-input"`),
      [],
      "a refused payload was stored",
    );
    record({
      fault: "bad-cloudwatch-logs-input",
      injected: `${cases.length} malformed, gzip-corrupt or oversize CloudWatch Logs deliveries, 3 without the right key`,
      notes: `${statuses.join(", ")}; collector healthy, next good delivery stored`,
    });
    assert.deepEqual(wrong, [], `not refused with a 4xx:\n${pipeline.collector.tail()}`);
  });
});
