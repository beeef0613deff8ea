// storage external with the real collector: it writes metrics (remote write), traces (OTLP/gRPC) and
// logs (OTLP/HTTP) to stores you run, over TLS, each with the auth header you configured. The metric and
// trace stores are loopback stand-ins that check the header; the log store is a real VictoriaLogs serving
// TLS behind its own Basic auth, so a record is stored only when the header is right. The collector
// trusts their certificate through SSL_CERT_FILE, as it would trust a public CA's.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { COLLECTOR_SECRET_ENV, COLLECTOR_STORE_AUTH_ENV } from "../../components/contracts/collector";
import { renderCollectorConfig } from "../../components/shipping/collectorConfig";
import { REPORT_METRICS } from "../../components/shipping/logsConfig";
import { Storage } from "../../components/types";
import { reportLine, subscriptionRecord } from "../pipeline/cloudwatchLogs";
import { deliver } from "../pipeline/firehose";
import {
  freePorts,
  type StartedProcess,
  sleep,
  startProcess,
  stopProcess,
  waitForHttp,
} from "../pipeline/processes";
import { binaries } from "../pipeline/stack";

const METRICS_AUTH = "Bearer metrics-write-credential-0123456789";
const TRACES_AUTH = "traces-write-credential-0123456789";
const LOGS_USER = "firefly-writer";
const LOGS_PASSWORD = "logs-write-credential-0123456789";
const LOGS_AUTH = `Basic ${Buffer.from(`${LOGS_USER}:${LOGS_PASSWORD}`).toString("base64")}`;

/** Snappy block decompression (the remote-write body's framing), enough to read the series names. */
function unsnappy(input: Buffer): Buffer {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = input[pos++];
    length |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  const out = Buffer.alloc(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++];
    if ((tag & 3) === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = input.readUIntLE(pos, bytes);
        pos += bytes;
      }
      input.copy(out, o, pos, pos + n + 1);
      o += n + 1;
      pos += n + 1;
      continue;
    }
    let n: number;
    let offset: number;
    if ((tag & 3) === 1) {
      n = 4 + ((tag >> 2) & 7);
      offset = ((tag >> 5) << 8) | input[pos++];
    } else if ((tag & 3) === 2) {
      n = 1 + (tag >> 2);
      offset = input.readUInt16LE(pos);
      pos += 2;
    } else {
      n = 1 + (tag >> 2);
      offset = input.readUInt32LE(pos);
      pos += 4;
    }
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset];
  }
  return out;
}

describe("collector with storage external (the real binary, TLS stores on loopback, a real log store)", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-external-"));
  const writes: { authorization?: string; bytes: number; series: string }[] = [];
  const exports: { token?: string; bytes: number }[] = [];
  let remoteWrite: https.Server;
  let traceStore: http2.Http2SecureServer;
  let collector: StartedProcess;
  let logStore: StartedProcess;
  let otlpHttp = 0;
  let firehoseLogs = 0;
  let logsUrl = "";
  let storeCa: Buffer;
  const token = `otlp-token-${"z".repeat(30)}`;
  const firehoseKey = `firehose-key-${"k".repeat(30)}`;

  /** A LogsQL query against the log store, over its TLS, with or without the credential. */
  function logsQuery(query: string, authorization?: string): Promise<{ status: number; rows: any[] }> {
    const body = new URLSearchParams({ query, limit: "100" }).toString();
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${logsUrl}/select/logsql/query`,
        {
          method: "POST",
          ca: storeCa,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            ...(authorization ? { authorization } : {}),
          },
          timeout: 10_000,
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c;
          });
          res.on("end", () => {
            const ok = res.statusCode === 200;
            resolve({
              status: res.statusCode ?? 0,
              rows: ok
                ? text
                    .split("\n")
                    .filter((l) => l.trim())
                    .map((l) => JSON.parse(l))
                : [],
            });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async function waitForLogs(query: string): Promise<any[]> {
    for (let i = 0; i < 150; i++) {
      const { status, rows } = await logsQuery(query, LOGS_AUTH);
      assert.equal(status, 200);
      if (rows.length > 0) return rows;
      await sleep(200);
    }
    return [];
  }

  before(async () => {
    const cert = path.join(dir, "store.crt");
    const key = path.join(dir, "store.key");
    const r = spawnSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, `openssl (run .ci/setup.d/58-openssl.sh): ${r.stderr}`);
    const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
    storeCa = tls.cert;
    const [rwPort, tracePort, logsPort, ...ports] = await freePorts(11);
    remoteWrite = https.createServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        writes.push({
          authorization: req.headers.authorization,
          bytes: body.length,
          series: unsnappy(body).toString("latin1"),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => remoteWrite.listen(rwPort, "127.0.0.1", resolve));
    traceStore = http2.createSecureServer(tls);
    traceStore.on("stream", (stream, headers) => {
      let bytes = 0;
      stream.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      stream.on("end", () => {
        exports.push({ token: headers["x-scope-token"] as string | undefined, bytes });
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.alloc(5));
      });
    });
    await new Promise<void>((resolve) => traceStore.listen(tracePort, "127.0.0.1", resolve));

    // The log store: VictoriaLogs itself on TLS, refusing ingest and queries without the credential.
    logsUrl = `https://127.0.0.1:${logsPort}`;
    logStore = startProcess(
      "victorialogs",
      binaries().victorialogs.path,
      [
        `-httpListenAddr=127.0.0.1:${logsPort}`,
        `-storageDataPath=${path.join(dir, "victorialogs-data")}`,
        ...["-tls", `-tlsCertFile=${cert}`, `-tlsKeyFile=${key}`],
        `-httpAuth.username=${LOGS_USER}`,
        `-httpAuth.password=${LOGS_PASSWORD}`,
        "-loggerLevel=WARN",
      ],
      path.join(dir, "victorialogs.log"),
    );
    for (let i = 0; ; i++) {
      const ready = await logsQuery("*", LOGS_AUTH).catch(() => undefined);
      if (ready?.status === 200) break;
      assert.ok(
        i < 150,
        `VictoriaLogs did not start: ${fs.readFileSync(path.join(dir, "victorialogs.log"), "utf8")}`,
      );
      await sleep(200);
    }

    const [otlpGrpc, http, firehose, cwLogs, selfMetrics, health, zpages, metrics] = ports;
    otlpHttp = http;
    firehoseLogs = cwLogs;
    const config = path.join(dir, "collector.yaml");
    fs.writeFileSync(
      config,
      renderCollectorConfig({
        storage: Storage.External,
        metricsWriteUrl: `https://127.0.0.1:${rwPort}/api/v1/write`,
        traceEndpoint: `127.0.0.1:${tracePort}`,
        tracesTls: true,
        metricsAuthHeader: "Authorization",
        tracesAuthHeader: "X-Scope-Token",
        logsEndpoint: `${logsUrl}/insert/opentelemetry`,
        logsAuthHeader: "Authorization",
        bindAddress: "127.0.0.1",
        fileStorageDir: path.join(dir, "queue"),
        ports: {
          otlpGrpc,
          otlpHttp: http,
          firehose,
          firehoseLogs: cwLogs,
          selfMetrics,
          health,
          zpages,
          metrics,
        },
      }),
    );
    collector = startProcess(
      "collector",
      binaries().collector.path,
      [`--config=${config}`],
      path.join(dir, "collector.log"),
      {
        [COLLECTOR_SECRET_ENV.otlpToken]: token,
        [COLLECTOR_SECRET_ENV.firehoseAccessKey]: firehoseKey,
        [COLLECTOR_STORE_AUTH_ENV.metrics]: METRICS_AUTH,
        [COLLECTOR_STORE_AUTH_ENV.traces]: TRACES_AUTH,
        [COLLECTOR_STORE_AUTH_ENV.logs]: LOGS_AUTH,
        SSL_CERT_FILE: cert,
      },
    );
    await waitForHttp(`http://127.0.0.1:${health}/health`, collector);
  });

  after(async () => {
    if (collector) await stopProcess(collector);
    if (logStore) await stopProcess(logStore);
    remoteWrite?.close();
    traceStore?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("exports traces to your OTLP endpoint over TLS with your header", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const res = await fetch(`http://127.0.0.1:${otlpHttp}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "external-test" } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: "0af7651916cd43dd8448eb211c80319c",
                    spanId: "b7ad6b7169203331",
                    name: "x",
                    kind: 2,
                    startTimeUnixNano: String(now - 1_000_000n),
                    endTimeUnixNano: String(now),
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    for (let i = 0; i < 100 && exports.length === 0; i++) await sleep(200);
    assert.ok(exports.length > 0, "no export reached the trace store");
    assert.ok(exports.every((e) => e.token === TRACES_AUTH && e.bytes > 5));
  });

  it("stores the functions' OTLP log records in your log store, over TLS, with your credential", async () => {
    const marker = `external-log-${randomUUID()}`;
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const res = await fetch(`http://127.0.0.1:${otlpHttp}/v1/logs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "external-test" } }] },
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: now,
                    severityText: "INFO",
                    body: { stringValue: marker },
                    traceId: "0af7651916cd43dd8448eb211c80319c",
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const rows = await waitForLogs(`_msg:"${marker}"`);
    assert.equal(rows.length, 1, "the record reached the log store once");
    assert.equal(rows[0].trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert.equal(rows[0]["service.name"], "external-test");
    // The store refuses anyone without the credential: what arrived, arrived with it.
    assert.equal((await logsQuery(`_msg:"${marker}"`)).status, 401);
  });

  it("stores Lambda's own lines from Firehose (logs/cloudwatch) in the same store, parsed", async () => {
    const requestId = randomUUID();
    const delivered = await deliver(
      [
        subscriptionRecord(
          [
            {
              message: reportLine({
                requestId,
                durationMs: 12.5,
                billedMs: 13,
                memoryMb: 128,
                maxMemoryMb: 70,
              }),
            },
          ],
          { logGroup: "/aws/lambda/external-orders" },
        ),
      ],
      { url: `http://127.0.0.1:${firehoseLogs}/`, accessKey: firehoseKey },
    );
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    const rows = await waitForLogs(`faas.invocation_id:="${requestId}"`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]["lambda.platform"], "report");
    assert.equal(rows[0]["faas.name"], "external-orders");
    assert.equal(rows[0]["lambda.max_memory_used_mb"], "70");
  });

  it("writes metrics to your remote-write URL over TLS with your header, the REPORT metrics included", async () => {
    // The collector's own metrics and span metrics are pushed every 15 s, REPORT metrics every 10 s.
    const reportWrite = () => writes.some((w) => w.series.includes(REPORT_METRICS.invocations));
    for (let i = 0; i < 200 && !reportWrite(); i++) await sleep(200);
    assert.ok(writes.length > 0, "no remote write arrived");
    assert.ok(reportWrite(), "no write carried the REPORT metrics");
    assert.ok(writes.every((w) => w.authorization === METRICS_AUTH && w.bytes > 0));
  });
});
