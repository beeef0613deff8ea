// `npm run try:layer` (layer/try.mjs): a user's handler through the built layer on this machine's
// Node.js, with an event file; what the layer exported is printed, or sent to the local pipeline.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ensureLocalPipeline } from "../pipeline/local";
import { waitForTrace } from "../pipeline/query";

const TRY = path.resolve(__dirname, "../../layer/try.mjs");
const FN = path.resolve(__dirname, "fixtures/fn");

function tryLayer(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TRY, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function eventFile(event: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "try-layer-")), "event.json");
  writeFileSync(file, JSON.stringify(event));
  return file;
}

const traceId = () => randomBytes(16).toString("hex");
const httpEvent = (trace: string, status = 200) => ({
  version: "2.0",
  rawPath: "/orders",
  headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` },
  queryStringParameters: { status: String(status) },
  requestContext: { http: { method: "GET", path: "/orders" }, routeKey: "GET /orders" },
});

describe("try:layer (layer/try.mjs)", function () {
  this.timeout(120_000);

  for (const mode of ["handler", "wrapper"]) {
    it(`runs a handler through the built layer (${mode} mode) and prints the span it exported`, async () => {
      const trace = traceId();
      const run = await tryLayer(FN, "index.http", eventFile(httpEvent(trace)), "--mode", mode);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /try:layer: result \{"statusCode":200,"body":"ok"\}/);
      const span = run.stdout.split("\n").find((l) => l.startsWith("span "));
      assert.ok(span, `no span printed:\n${run.stdout}\n${run.stderr}`);
      assert.match(span, / SERVER /);
      assert.ok(span.includes(`trace=${trace}`), "joins the caller's trace");
      assert.ok(span.includes("parent=00f067aa0ba902b7"), "is the caller's child");
      assert.match(run.stdout, /faas\.trigger=http/);
      assert.match(run.stdout, /http\.response\.status_code=200/);
    });
  }

  it("reports a failing handler as the runtime would, with an ERROR span", async () => {
    const run = await tryLayer(FN, "index.handler", eventFile({ fail: "boom" }));
    assert.equal(run.code, 1);
    assert.match(run.stdout, /the handler failed: Error: requested failure: boom/);
    assert.match(run.stdout, /^span .* ERROR /m);
    assert.match(run.stdout, /event exception .*requested failure: boom/);
  });

  it("refuses bad arguments with a usage line", async () => {
    const run = await tryLayer(FN, "index.handler");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /expected a function dir, a handler and an event file/);
    const noToken = await tryLayer(FN, "index.handler", eventFile({}), "--endpoint", "https://x.example");
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /--endpoint needs --token/);
  });

  it("--pipeline sends the span to the local pipeline, where Jaeger has it", async () => {
    const local = await ensureLocalPipeline();
    const trace = traceId();
    const run = await tryLayer(FN, "index.http", eventFile(httpEvent(trace)), "--pipeline");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /try:layer: exported to http:\/\/127\.0\.0\.1:\d+/);
    const stored = await waitForTrace(local.traces.jaegerUrl, trace);
    assert.equal(stored.spans.length, 1);
  });
});
