#!/usr/bin/env node
// Runs a function's handler through the built Firefly layer on this machine's Node.js, with an event
// from a file, and prints what the layer exported. The layer runs exactly as built (the bundle that
// ships in the zip, its own env parsing, flush and OTLP export); only Lambda's runtime is played by
// this script: it loads the layer's handler the way the runtime would and calls it once.
//
//   npm run try:layer -- <function dir> <handler, e.g. index.handler> <event.json> [options]
//     --mode handler|wrapper   instrumentation mode (default handler)
//     --pipeline               export to the local pipeline (.firefly/local.json) instead of printing
//     --endpoint URL --token T export to a collector of your own instead of printing
//     --json                   print the spans and log records as OTLP/JSON
//     --timeout SECONDS        the function's timeout as the layer sees it (default 30)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as http from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const OPT = join(here, "dist", "opt");

function usage(message) {
  if (message) console.error(`try:layer: ${message}`);
  console.error(
    "usage: npm run try:layer -- <function dir> <handler> <event.json> [--mode handler|wrapper] [--pipeline | --endpoint URL --token T] [--json] [--timeout S]",
  );
  process.exit(2);
}

export function parseArgs(argv) {
  const positional = [];
  const options = { mode: "handler", json: false, timeout: 30 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === "--mode") options.mode = value();
    else if (arg === "--pipeline") options.pipeline = true;
    else if (arg === "--endpoint") options.endpoint = value();
    else if (arg === "--token") options.token = value();
    else if (arg === "--json") options.json = true;
    else if (arg === "--timeout") options.timeout = Number(value());
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 3) usage("expected a function dir, a handler and an event file");
  if (!["handler", "wrapper"].includes(options.mode))
    usage(`--mode must be handler or wrapper, not ${options.mode}`);
  if (!(options.timeout > 0)) usage("--timeout must be a positive number of seconds");
  if (options.endpoint && !options.token)
    usage("--endpoint needs --token (the collector refuses anonymous data)");
  const [dir, handler, eventFile] = positional;
  return { dir: resolve(dir), handler, eventFile: resolve(eventFile), ...options };
}

/** A loopback OTLP/JSON endpoint that keeps what the layer sends. */
function startReceiver() {
  const received = { traces: [], logs: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const kind = req.url?.endsWith("/v1/logs") ? "logs" : "traces";
      try {
        received[kind].push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        // a non-JSON body is reported below as nothing received
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((ok) =>
    server.listen(0, "127.0.0.1", () =>
      ok({ server, received, url: `http://127.0.0.1:${server.address().port}` }),
    ),
  );
}

const value = (v) => {
  if (!v) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("boolValue" in v) return v.boolValue;
  return JSON.stringify(v);
};
const attrs = (list = []) => list.map((a) => `${a.key}=${value(a.value)}`).join(" ");
const KIND = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];
const STATUS = ["UNSET", "OK", "ERROR"];

export function describe(received) {
  const lines = [];
  for (const body of received.traces)
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          const ms = (Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6).toFixed(1);
          lines.push(
            `span ${s.name} ${KIND[s.kind] ?? s.kind} ${STATUS[s.status?.code ?? 0]} ${ms} ms trace=${s.traceId} span=${s.spanId}${s.parentSpanId ? ` parent=${s.parentSpanId}` : ""}`,
            `  ${attrs(s.attributes)}`,
          );
          for (const e of s.events ?? []) lines.push(`  event ${e.name} ${attrs(e.attributes)}`);
        }
  for (const body of received.logs)
    for (const rl of body.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const r of sl.logRecords ?? [])
          lines.push(
            `log ${r.severityText ?? ""} ${value(r.body)} trace=${r.traceId ?? ""} span=${r.spanId ?? ""}`,
          );
  return lines;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.dir)) usage(`function dir ${args.dir} does not exist`);
  let event;
  try {
    event = JSON.parse(readFileSync(args.eventFile, "utf8"));
  } catch (error) {
    usage(`cannot read the event file ${args.eventFile}: ${error.message}`);
  }
  if (!existsSync(join(OPT, "firefly", "handler.mjs"))) {
    console.error("try:layer: building the layer first (npm run build:layer)");
    execFileSync(process.execPath, [join(here, "build.mjs")], { stdio: "inherit" });
  }

  let endpoint = args.endpoint;
  let token = args.token;
  if (args.pipeline) {
    const local = join(here, "..", ".firefly", "local.json");
    if (!existsSync(local)) usage("no local pipeline: start it with `npm run pipeline:up`");
    const pipeline = JSON.parse(readFileSync(local, "utf8"));
    endpoint = pipeline.otlp.url;
    token = pipeline.otlp.headers.authorization.replace(/^Bearer /, "");
  }
  const receiver = endpoint ? undefined : await startReceiver();

  const name = "try-layer";
  const env = {
    ...process.env,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(args.timeout),
    AWS_REGION: process.env.AWS_REGION ?? "eu-west-1",
    LAMBDA_TASK_ROOT: args.dir,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint ?? receiver.url,
    // Printing needs JSON; a real collector takes either.
    OTEL_EXPORTER_OTLP_PROTOCOL: endpoint ? "http/protobuf" : "http/json",
    FIREFLY_TRY_EVENT: JSON.stringify(event),
    FIREFLY_TRY_TIMEOUT_MS: String(args.timeout * 1000),
  };
  if (token) env.OTEL_EXPORTER_OTLP_HEADERS = `authorization=Bearer%20${encodeURIComponent(token)}`;
  delete env.AWS_LAMBDA_RUNTIME_API; // no Runtime API here: the layer flushes in line
  const driver = join(here, "try-driver.mjs");
  let command;
  let argv;
  if (args.mode === "handler") {
    env._HANDLER = join(OPT, "firefly", "handler.handler");
    env.FIREFLY_HANDLER = args.handler;
    command = process.execPath;
    argv = [driver];
  } else {
    // The wrapper preloads the layer, which moves _HANDLER to FIREFLY_HANDLER and points the runtime
    // at the layer's handler, as it does on Lambda.
    env._HANDLER = args.handler;
    env.AWS_LAMBDA_EXEC_WRAPPER = join(OPT, "firefly-wrapper");
    command = "/bin/sh";
    argv = [env.AWS_LAMBDA_EXEC_WRAPPER, process.execPath, driver];
  }
  const code = await new Promise((ok) => {
    const child = spawn(command, argv, { env, stdio: "inherit" });
    child.on("exit", (c, signal) => ok(c ?? (signal ? 1 : 0)));
  });
  if (receiver) {
    receiver.server.close();
    if (args.json) console.log(JSON.stringify(receiver.received, null, 2));
    else {
      const lines = describe(receiver.received);
      console.log(
        lines.length
          ? lines.join("\n")
          : "try:layer: the layer exported nothing (see its [firefly] lines above)",
      );
    }
  } else console.log(`try:layer: exported to ${endpoint}`);
  process.exit(code);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
