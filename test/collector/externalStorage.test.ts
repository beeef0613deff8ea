// storage external with the real collector: it writes metrics (remote write) and traces (OTLP/gRPC)
// to stores you run, over TLS, each with the auth header you configured. The stores here are loopback
// stand-ins that check the header; the collector trusts their certificate through SSL_CERT_FILE, as it
// would trust a public CA's.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { COLLECTOR_SECRET_ENV, COLLECTOR_STORE_AUTH_ENV } from "../../components/contracts/collector";
import { renderCollectorConfig } from "../../components/shipping/collectorConfig";
import { Storage } from "../../components/types";
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

describe("collector with storage external (the real binary, TLS stores on loopback)", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-external-"));
  const writes: { authorization?: string; bytes: number }[] = [];
  const exports: { token?: string; bytes: number }[] = [];
  let remoteWrite: https.Server;
  let traceStore: http2.Http2SecureServer;
  let collector: StartedProcess;
  let otlpHttp = 0;
  const token = `otlp-token-${"z".repeat(30)}`;

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
    const [rwPort, tracePort, ...ports] = await freePorts(8);
    remoteWrite = https.createServer(tls, (req, res) => {
      let bytes = 0;
      req.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      req.on("end", () => {
        writes.push({ authorization: req.headers.authorization, bytes });
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

    const [otlpGrpc, http, firehose, health, zpages, metrics] = ports;
    otlpHttp = http;
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
        bindAddress: "127.0.0.1",
        fileStorageDir: path.join(dir, "queue"),
        ports: { otlpGrpc, otlpHttp: http, firehose, health, zpages, metrics },
      }),
    );
    collector = startProcess(
      "collector",
      binaries().collector.path,
      [`--config=${config}`],
      path.join(dir, "collector.log"),
      {
        [COLLECTOR_SECRET_ENV.otlpToken]: token,
        [COLLECTOR_SECRET_ENV.firehoseAccessKey]: `firehose-key-${"k".repeat(30)}`,
        [COLLECTOR_STORE_AUTH_ENV.metrics]: METRICS_AUTH,
        [COLLECTOR_STORE_AUTH_ENV.traces]: TRACES_AUTH,
        SSL_CERT_FILE: cert,
      },
    );
    await waitForHttp(`http://127.0.0.1:${health}/health`, collector);
  });

  after(async () => {
    if (collector) await stopProcess(collector);
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

  it("writes metrics to your remote-write URL over TLS with your header", async () => {
    // The collector's own metrics and span metrics are pushed every 15 s.
    for (let i = 0; i < 200 && writes.length === 0; i++) await sleep(200);
    assert.ok(writes.length > 0, "no remote write arrived");
    assert.ok(writes.every((w) => w.authorization === METRICS_AUTH && w.bytes > 0));
  });
});
