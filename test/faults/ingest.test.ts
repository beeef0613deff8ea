// Faults 4b and 5 at the collector's front door. Strangers (no key, a wrong key, no token, a wrong
// token) get 401 and nothing of theirs is stored; a collector whose secrets are missing does not start
// rather than take data from anyone. Malformed and oversize Firehose bodies get a 4xx, not a crash: the
// collector stays healthy and keeps taking good deliveries afterwards. The functions' token, readable
// by anyone who may read a function's configuration, sends spans and nothing else: a metric forged
// with it is refused. And an internet caller cannot switch tracing off: the built layer, under the
// real runtime client, still leaves a span for an HTTP request sent with sampled=0.
import * as assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import * as path from "node:path";
import { COLLECTOR_HEALTH_PATH, COLLECTOR_SECRET_ENV } from "../../components/shipping/collectorConfig";
import { STRICT_PARENT_SAMPLING_ENV } from "../../layer/src/samplers";
import * as events from "../layer/events";
import { type LambdaFunction, startFunction } from "../layer/runtime";
import { deliver } from "../pipeline/firehose";
import { httpGet, sleep, waitFor } from "./control";
import { deliveryBody, postBadPayloads, postOnce, recordsFor, storedFunctions } from "./firehose";
import { record } from "./ledger";
import { otlpJson, post } from "./load";
import { promQuery, usePipeline } from "./pipeline";
import { pipelineMissing } from "./settings";

describe("fault: strangers and malformed input at the collector", function () {
  this.timeout(120_000);
  const current = usePipeline(pipelineMissing);

  const healthy = async () =>
    (await httpGet(`http://127.0.0.1:${current().ports.health}${COLLECTOR_HEALTH_PATH}`)).status === 200;
  const deliverGood = (functionName: string) =>
    deliver(recordsFor(functionName), {
      url: current().firehoseUrl,
      accessKey: current().firehoseKey,
      retryForMs: 10_000,
    });

  it("answers 401 to Firehose deliveries and OTLP requests without the right secret, and stores none", async () => {
    const pipeline = current();
    const keys: [string, string | undefined][] = [
      ["no key", undefined],
      ["empty key", ""],
      ["wrong key", "x".repeat(48)],
      ["key with a suffix", `${pipeline.firehoseKey}x`],
      ["key prefix", pipeline.firehoseKey.slice(0, -1)],
    ];
    for (const [i, [what, key]] of keys.entries()) {
      const { requestId, body } = deliveryBody(`stranger-fn-${i}`);
      const res = await postOnce(pipeline.firehoseUrl, key, body, requestId);
      assert.equal(res.status, 401, `Firehose with ${what}: HTTP ${res.status} ${res.body}`);
    }
    // The key holder's delivery lands, so an empty store below means "refused", not "broken".
    const good = await deliverGood("owner-fn-0");
    assert.equal(good.status, 200, `the key holder was refused: ${JSON.stringify(good)}`);
    await sleep(2_000);
    assert.deepEqual([...(await storedFunctions(pipeline.prometheusUrl, "owner-fn-"))], ["owner-fn-0"]);
    assert.deepEqual([...(await storedFunctions(pipeline.prometheusUrl, "stranger-fn-"))], []);

    const spans = otlpJson(5, "stranger");
    const tokens: [string, Record<string, string>][] = [
      ["no token", {}],
      ["wrong token", { authorization: `Bearer ${"y".repeat(48)}` }],
      ["token without scheme", { authorization: pipeline.otlpToken }],
      ["basic auth", { authorization: `Basic ${Buffer.from(`x:${pipeline.otlpToken}`).toString("base64")}` }],
    ];
    for (const [what, headers] of tokens) {
      const res = await post(pipeline.otlpTracesUrl, spans.body, {
        "content-type": "application/json",
        ...headers,
      });
      assert.equal(res.status, 401, `OTLP with ${what}: HTTP ${res.status} ${res.body}`);
    }
    const owner = otlpJson(5, "owner");
    const ok = await post(pipeline.otlpTracesUrl, owner.body, {
      "content-type": "application/json",
      authorization: `Bearer ${pipeline.otlpToken}`,
    });
    assert.equal(ok.status, 200, `the token holder was refused: ${ok.body}`);
    await sleep(13_000); // tail sampling's decision wait (10 s) and the batch timeout
    for (const id of owner.ids)
      assert.ok(pipeline.traceStore.spans.has(id), "the token holder's span was not stored");
    for (const id of spans.ids) assert.ok(!pipeline.traceStore.spans.has(id), "a stranger's span was stored");
    record({
      fault: "strangers",
      injected: `${keys.length} Firehose deliveries without the right key, ${tokens.length} OTLP requests without the right token`,
      notes: "all 401, 0 stored; the owner's delivery and spans stored",
    });
  });

  it("refuses a metric forged with the functions' token and stores none; the collector's own metrics still arrive", async () => {
    const pipeline = current();
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const forged = (fn: string) =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "forger" } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: "aws_lambda_invocations",
                    gauge: {
                      dataPoints: [
                        {
                          asDouble: 1e9,
                          timeUnixNano: now,
                          attributes: [{ key: "FunctionName", value: { stringValue: fn } }],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      });
    const metricsUrl = pipeline.otlpTracesUrl.replace(/\/v1\/traces$/, "/v1/metrics");
    const res = await post(metricsUrl, forged("forged-fn-0"), {
      "content-type": "application/json",
      authorization: `Bearer ${pipeline.otlpToken}`,
    });
    assert.ok(res.status === 404 || res.status === 405, `forged metric: HTTP ${res.status} ${res.body}`);
    // The collector's own metrics travel on a loopback-only receiver, so the pipeline-health dashboard
    // keeps its data: wait for them, then the forged series must still be absent.
    await waitFor(
      "the collector's own metrics in Prometheus",
      async () => (await promQuery(pipeline.prometheusUrl, 'count({job="firefly-gateway"})')).length > 0,
      40_000,
    );
    const stored = await promQuery(
      pipeline.prometheusUrl,
      '{__name__=~"aws_lambda_invocations.*", FunctionName=~"forged-fn.*"}',
    );
    assert.deepEqual(stored, [], "a forged series was stored");
    record({
      fault: "strangers",
      injected: "an OTLP metric (aws_lambda_invocations) sent with the functions' valid token",
      notes: `HTTP ${res.status}, nothing stored; the collector's own metrics stored`,
    });
  });

  it("an outside caller's sampled=0 still leaves a span (built layer, aws-lambda-ric, this collector)", async () => {
    const pipeline = current();
    const running: LambdaFunction[] = [];
    const start = async (env: Record<string, string> = {}) => {
      const fn = await startFunction({
        mode: "redirect",
        taskRoot: path.join(__dirname, "../layer/fixtures/fn"),
        handler: "index.http",
        env: {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: pipeline.otlpTracesUrl,
          OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${pipeline.otlpToken}`,
          ...env,
        },
      });
      running.push(fn);
      return fn;
    };
    // An HTTP API request whose caller asks, with -00, not to be traced.
    const traceId = randomBytes(16).toString("hex");
    const event = {
      ...events.apiGatewayHttp,
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-00` },
    };
    const stored = () => pipeline.traceStore.spans.size;
    try {
      const strict = await start({ [STRICT_PARENT_SAMPLING_ENV]: "true" });
      const before = stored();
      assert.ok((await strict.invoke(event)).ok);
      await sleep(4_000);
      const afterStrict = stored();
      const guarded = await start();
      assert.ok((await guarded.invoke(event)).ok, guarded.log);
      await waitFor("the span in the trace store", async () => stored() > afterStrict, 15_000);
      assert.equal(afterStrict, before, "strict parent-based sampling leaves no span, as asked");
      assert.equal(stored(), afterStrict + 1, "the default leaves exactly the invocation's span");
      record({
        fault: "strangers",
        injected: "an API Gateway HTTP request with traceparent sampled=0 to a function with the built layer",
        notes: `default: 1 span stored; ${STRICT_PARENT_SAMPLING_ENV}=true: 0`,
      });
    } finally {
      await Promise.all(running.map((f) => f.stop()));
    }
  });

  it("does not start without its secrets instead of accepting anyone", async () => {
    const pipeline = current();
    await pipeline.collector.stop();
    const unset: Record<string, string>[] = [
      { [COLLECTOR_SECRET_ENV.firehoseAccessKey]: "" },
      { [COLLECTOR_SECRET_ENV.otlpToken]: "" },
    ];
    try {
      for (const env of unset) {
        await assert.rejects(
          pipeline.collector.start(env),
          /exited/,
          `the collector started with ${Object.keys(env)[0]} empty`,
        );
      }
    } finally {
      await pipeline.collector.stop();
      await pipeline.collector.start();
    }
    record({
      fault: "missing-secrets",
      injected: `collector started with an empty ${unset.map((e) => Object.keys(e)[0]).join(", then an empty ")}`,
      notes: "refused to start both times",
    });
  });

  it("answers malformed and oversize Firehose bodies with 4xx and stays healthy", async () => {
    const pipeline = current();
    const id = randomUUID();
    const body = (records: unknown, requestId: string = id) =>
      JSON.stringify({ requestId, timestamp: Date.now(), records });
    const cases: [string, string | Buffer][] = [
      ["empty body", ""],
      ["not JSON", "{{{{"],
      ["JSON array", "[]"],
      ["records not a list", body("x")],
      ["data not protobuf", body([{ data: Buffer.from("\xff\xff\xff\xff garbage").toString("base64") }])],
      ["truncated record", body([{ data: recordsFor("cut-fn")[0].subarray(0, 40).toString("base64") }])],
      ["requestId mismatch", body([], "other")],
      // Above the receiver's 20 MiB default: Firehose never sends it (its buffer is set lower), an attacker might.
      ["oversize (25 MiB)", Buffer.alloc(25 * 1024 * 1024, 0x20)],
    ];
    const { statuses, wrong } = await postBadPayloads(
      pipeline.firehoseUrl,
      pipeline.firehoseKey,
      id,
      cases,
      async () => (pipeline.collector.running ? healthy() : false),
    );
    const after = await deliverGood("after-bad-fn");
    assert.equal(
      after.status,
      200,
      `a good delivery after the bad ones was refused: ${JSON.stringify(after)}`,
    );
    record({
      fault: "bad-firehose-input",
      injected: `${cases.length} malformed or oversize Firehose bodies`,
      notes: `${statuses.join(", ")}; collector healthy, next good delivery accepted`,
    });
    assert.deepEqual(wrong, [], `not refused with a 4xx:\n${pipeline.collector.tail()}`);
  });

  // A record whose data is not base64 is dropped with a 200: awsfirehosereceiver v0.145.0 ignores the
  // decode error nextRecord returns (metrics_receiver.go, Consume) and unmarshals an empty record.
  // Firehose itself always sends base64, so only a key holder can trigger it, but it is an
  // acknowledged-and-dropped delivery all the same (docs/guarantees.md lists it under "not
  // guaranteed"). This pins today's behaviour instead of skipping: when an upstream release answers
  // 4xx, this test fails, and the guarantee and this test flip to "refused with a 4xx".
  it("acknowledges a record that is not base64 with 200 and drops it (upstream awsfirehose receiver bug, not guaranteed)", async () => {
    const pipeline = current();
    const id2 = randomUUID();
    const res = await postOnce(
      pipeline.firehoseUrl,
      pipeline.firehoseKey,
      JSON.stringify({ requestId: id2, timestamp: Date.now(), records: [{ data: "!!!not base64!!!" }] }),
      id2,
    );
    assert.equal(
      res.status,
      200,
      `HTTP ${res.status} ${res.body}: the receiver no longer acknowledges undecodable records; move this case to the refused ones above and drop it from "not guaranteed" in docs/guarantees.md`,
    );
  });
});
