/**
 * Lambda Runtime API harness: runs a handler the way Lambda does, with the real runtime interface
 * client (aws-lambda-ric) against a Runtime API served by this file, with or without the built layer.
 *
 * API
 *   unpackLayer(zip = LAYER_ZIP): Promise<string>
 *       Unzips the built layer once per process into a temp dir standing in for /opt; returns its path.
 *   startFunction(options: FunctionOptions): Promise<LambdaFunction>
 *       Starts a Runtime API server on loopback and the runtime process, and waits for init to end
 *       (the runtime's first GET /next), or rejects with the init error / exit code and the log.
 *       options.mode:     "redirect" – handler = <opt>/firefly/handler.handler, FIREFLY_HANDLER = options.handler
 *                         "wrapper"  – AWS_LAMBDA_EXEC_WRAPPER = <opt>/firefly-wrapper, handler unchanged
 *                         "none"     – no layer at all (baseline)
 *       options.taskRoot: the function's code directory (LAMBDA_TASK_ROOT, the runtime's cwd)
 *       options.handler:  the function's own handler, e.g. "index.handler" or "src/app.main"
 *       options.env:      extra environment (OTEL_*, FIREFLY_*, …); Lambda's own variables are set here
 *       options.functionName (default "fixture"), options.timeoutMs (invocation deadline, default 30000)
 *       options.extensionsApi: false answers 404 to the Extensions API (default: served)
 *       options.runtime:  "nodejs20.x" | "nodejs22.x" | "nodejs24.x": that Node (npm's `node` package) with
 *                         the client Lambda uses for it (ric 3.x on 20/22, 4.x on 24); default: this
 *                         process's Node with ric 3.x
 *   RUNTIMES, runtimeBinaries(runtime): the supported runtimes, and the binaries the harness runs for one
 *   fn.initDurationMs   process start → the runtime's first GET /next and every registered extension's
 *                       first event poll, whichever comes last: what Lambda reports as Init Duration
 *   fn.invoke(event, { clientContext?, traceId?, timeoutMs? }): Promise<InvokeResult>
 *       Queues one invocation and resolves with { requestId, ok, result | error, durationMs } where
 *       durationMs runs from handing the event to the runtime to receiving its response.
 *   fn.billedMs(requestId): Promise<number>  dispatch → the response posted and every internal extension
 *                       asking for its next event (Lambda's billed duration; the Extensions API is served too)
 *   fn.kill(signal)     signals the runtime process (an out-of-memory kill is SIGKILL)
 *   fn.extensions       how many internal extensions registered during init
 *   fn.log              everything the runtime process wrote to stdout and stderr so far
 *   fn.functionArn      the ARN sent as Lambda-Runtime-Invoked-Function-Arn
 *   fn.exited           whether the runtime process has exited (invocations then resolve with
 *                       errorType "Runtime.ExitError")
 *   fn.stop(): Promise<void>  kills the runtime process and closes the server
 *   startInvokeApi(callee: LambdaFunction): Promise<InvokeApi>
 *       Lambda's Invoke API in front of a started function, on loopback, for the AWS SDK's
 *       `endpoint`: the X-Amz-Client-Context header becomes the callee's client context; an
 *       `InvocationType: Event` call is answered 202 at once, a synchronous one 200 after the callee ran.
 *       api.url, api.close()
 * Each function gets its own server and process, so many can run side by side.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

export const LAYER_ZIP = path.resolve(__dirname, "../../layer/dist/firefly-layer.zip");
export const RIC_BIN = require.resolve("aws-lambda-ric/bin/index.mjs");
const FIREFLY_DIR = path.resolve(__dirname, "../../.firefly");

/** The Lambda Node.js runtimes the layer supports, each with the runtime interface client Lambda uses for it. */
export const RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"] as const;
export type LambdaRuntime = (typeof RUNTIMES)[number];

export interface RuntimeBinaries {
  readonly node: string;
  readonly ric: string;
  readonly ricVersion: string;
}

/**
 * The Node binary (npm's `node` package) and aws-lambda-ric for a runtime, as .ci/setup.d/15-lambda-
 * runtimes.sh installs them under .firefly/: ric 3.x (the devDependency) for Node 20 and 22, ric 4.x
 * (its own prefix: it cannot share node_modules with 3.x) for Node 24. Throws naming the setup step.
 */
export function runtimeBinaries(runtime: LambdaRuntime): RuntimeBinaries {
  const major = runtime.slice("nodejs".length, -".x".length);
  const node = path.join(FIREFLY_DIR, `node${major}/node_modules/node/bin/node`);
  const ric =
    runtime === "nodejs24.x" ? path.join(FIREFLY_DIR, "ric4/node_modules/aws-lambda-ric/index.mjs") : RIC_BIN;
  for (const file of [node, ric]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing for ${runtime}: run \`bash .ci/setup.d/15-lambda-runtimes.sh\``);
  }
  const pkg = path.join(path.dirname(ric), runtime === "nodejs24.x" ? "package.json" : "../package.json");
  return { node, ric, ricVersion: JSON.parse(readFileSync(pkg, "utf8")).version };
}
const API = "/2018-06-01/runtime";

/**
 * The shell the exec wrapper's `#!/bin/sh` gets on Lambda: /bin/sh is bash on Amazon Linux 2023, which
 * starts about 0.5 ms slower than dash (Debian's /bin/sh). The harnesses run the wrapper with it, so the
 * wrapper's figures are Lambda's whatever this machine's /bin/sh is; test/layer/wrapper.test.ts runs the
 * script under /bin/sh as well, to keep it POSIX.
 */
export const LAMBDA_SH = "/bin/bash";

export type LayerMode = "redirect" | "wrapper" | "none";

export interface FunctionOptions {
  readonly mode: LayerMode;
  readonly taskRoot: string;
  readonly handler: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly functionName?: string;
  readonly timeoutMs?: number;
  readonly layerZip?: string;
  /** Runs the function on this runtime's Node and client; default: this process's Node with ric 3.x. */
  readonly runtime?: LambdaRuntime;
  /** false: answer 404 to the Extensions API, as an emulator or platform without one would. */
  readonly extensionsApi?: boolean;
}

export interface InvokeOptions {
  /** Sent as Lambda-Runtime-Client-Context (what a synchronous SDK Invoke's ClientContext becomes). */
  readonly clientContext?: Record<string, unknown>;
  /** X-Ray header; defaults to one with Sampled=0, which is what Lambda sends with active tracing off. */
  readonly traceId?: string;
  readonly timeoutMs?: number;
}

export interface InvokeResult {
  readonly requestId: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { errorType?: string; errorMessage?: string; [key: string]: unknown };
  readonly durationMs: number;
}

export interface LambdaFunction {
  readonly initDurationMs: number;
  readonly functionArn: string;
  readonly log: string;
  readonly exited: boolean;
  /** Internal extensions the runtime process registered during init. */
  readonly extensions: number;
  /**
   * Dispatch → the environment released (the response posted and every extension asking for its next
   * event): what Lambda bills. Equals the response time when no extension registered.
   */
  billedMs(requestId: string): Promise<number>;
  /** Sends the runtime process a signal, as Lambda's out-of-memory kill does (SIGKILL). */
  kill(signal: NodeJS.Signals): void;
  invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  stop(): Promise<void>;
}

const unpacked = new Map<string, string>();

export function unpackLayer(zip: string = LAYER_ZIP): string {
  if (!existsSync(zip)) throw new Error(`${zip} does not exist: run \`npm run build:layer\` first`);
  const key = `${zip}:${statSync(zip).mtimeMs}`;
  const cached = unpacked.get(key);
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), "firefly-opt-"));
  execFileSync("unzip", ["-q", zip, "-d", dir]);
  unpacked.set(key, dir);
  return dir;
}

interface Pending {
  id: string;
  body: string;
  headers: Record<string, string>;
  sentAt?: number;
  resolve: (r: InvokeResult) => void;
}

/** An internal extension registered by the runtime process (the layer exporting after the response). */
interface Extension {
  id: string;
  /** Asked for its next event since the last INVOKE: the environment may move on. */
  ready: boolean;
  waiting?: http.ServerResponse;
  pendingEvent?: string;
}

export async function startFunction(options: FunctionOptions): Promise<LambdaFunction> {
  const functionName = options.functionName ?? "fixture";
  const functionArn = `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`;
  const queue: Pending[] = [];
  const inflight = new Map<string, Pending>();
  const extensions: Extension[] = [];
  // requestId → when every extension had asked for its next event after it (the billed end)
  const released = new Map<string, number>();
  const onReleased = new Map<string, (at: number) => void>();
  let lastDispatched: Pending | undefined;
  const markReleased = () => {
    const p = lastDispatched;
    if (!p || released.has(p.id) || inflight.has(p.id) || !extensions.every((e) => e.ready)) return;
    const at = performance.now() - (p.sentAt ?? performance.now());
    released.set(p.id, at);
    onReleased.get(p.id)?.(at);
  };
  // Runtime requests waiting for an event: one, or one per worker in ric 4's multi-concurrent mode
  // (AWS_LAMBDA_MAX_CONCURRENCY), where several invocations run at once.
  const waitingNext: http.ServerResponse[] = [];
  let firstNextAt: number | undefined;
  let initError: string | undefined;
  let onInitDone: (() => void) | undefined;
  let initDone = false;
  let initEndedAt: number | undefined;

  // Lambda hands out the next event only when the runtime and every extension have asked for one.
  const dispatch = () => {
    while (waitingNext.length > 0 && queue.length > 0 && extensions.every((e) => e.ready)) dispatchOne();
  };
  const dispatchOne = () => {
    const p = queue.shift()!;
    const res = waitingNext.shift()!;
    inflight.set(p.id, p);
    lastDispatched = p;
    p.sentAt = performance.now();
    res.writeHead(200, { "content-type": "application/json", ...p.headers }).end(p.body);
    const event = JSON.stringify({
      eventType: "INVOKE",
      requestId: p.id,
      deadlineMs: Number(p.headers["lambda-runtime-deadline-ms"]),
      invokedFunctionArn: functionArn,
      tracing: { type: "X-Amzn-Trace-Id", value: p.headers["lambda-runtime-trace-id"] },
    });
    for (const e of extensions) {
      e.ready = false;
      if (e.waiting) {
        e.waiting.writeHead(200, { "content-type": "application/json" }).end(event);
        e.waiting = undefined;
      } else e.pendingEvent = event;
    }
  };

  const finish = (id: string, ok: boolean, body: string) => {
    const p = inflight.get(id);
    if (!p) return;
    inflight.delete(id);
    let parsed: unknown = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // non-JSON response bodies (e.g. streaming) stay text
    }
    const durationMs = performance.now() - (p.sentAt ?? performance.now());
    markReleased();
    p.resolve(
      ok
        ? { requestId: id, ok, result: parsed, durationMs }
        : { requestId: id, ok, error: parsed as InvokeResult["error"], durationMs },
    );
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = req.url ?? "";
      if (req.method === "GET" && url === `${API}/invocation/next`) {
        if (firstNextAt === undefined) {
          firstNextAt = performance.now();
          if (extensions.every((e) => e.ready)) onInitDone?.();
        }
        waitingNext.push(res);
        dispatch();
        return;
      }
      // The Extensions API, as Lambda serves it to an internal extension (design.md §7).
      if (req.method === "POST" && url === "/2020-01-01/extension/register") {
        if (options.extensionsApi === false) {
          res.writeHead(404).end();
          return;
        }
        if (firstNextAt !== undefined) {
          res
            .writeHead(403, { "content-type": "application/json" })
            .end('{"errorType":"Extension.RegistrationClosed","errorMessage":"registration is closed"}');
          return;
        }
        const id = randomUUID();
        extensions.push({ id, ready: false });
        res
          .writeHead(200, { "content-type": "application/json", "lambda-extension-identifier": id })
          .end(JSON.stringify({ functionName, functionVersion: "$LATEST", handler: runtimeHandler }));
        return;
      }
      if (req.method === "GET" && url === "/2020-01-01/extension/event/next") {
        const e = extensions.find((x) => x.id === req.headers["lambda-extension-identifier"]);
        if (!e) {
          res.writeHead(403).end('{"errorType":"Extension.InvalidExtensionId"}');
          return;
        }
        if (e.pendingEvent) {
          res.writeHead(200, { "content-type": "application/json" }).end(e.pendingEvent);
          e.pendingEvent = undefined;
          return;
        }
        e.ready = true;
        e.waiting = res;
        markReleased();
        if (firstNextAt !== undefined && extensions.every((x) => x.ready) && !initDone) onInitDone?.();
        dispatch();
        return;
      }
      const m = url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/);
      if (req.method === "POST" && m) {
        res.writeHead(202).end();
        finish(decodeURIComponent(m[1]), m[2] === "response", body);
        return;
      }
      if (req.method === "POST" && url === `${API}/init/error`) {
        initError = body;
        res.writeHead(202).end();
        onInitDone?.();
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const runtimeApi = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const opt = options.mode === "none" ? undefined : unpackLayer(options.layerZip);
  const runtimeHandler = options.mode === "redirect" ? `${opt}/firefly/handler.handler` : options.handler;
  // The variables Lambda sets for a Node.js function (the ones the runtime and the layer read).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    LAMBDA_TASK_ROOT: options.taskRoot,
    LAMBDA_RUNTIME_DIR: path.dirname(options.runtime ? runtimeBinaries(options.runtime).ric : RIC_BIN),
    _HANDLER: runtimeHandler,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EXECUTION_ENV: `AWS_Lambda_${options.runtime ?? `nodejs${process.versions.node.split(".")[0]}.x`}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${randomUUID().replaceAll("-", "")}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    NODE_PATH: opt
      ? `${opt}/nodejs/node${(options.runtime ?? `nodejs${process.versions.node.split(".")[0]}.x`).replace(/\D/g, "")}/node_modules:${opt}/nodejs/node_modules`
      : "",
    ...(options.mode === "redirect" ? { FIREFLY_HANDLER: options.handler } : {}),
    ...(options.mode === "wrapper" ? { AWS_LAMBDA_EXEC_WRAPPER: `${opt}/firefly-wrapper` } : {}),
    ...options.env,
  };
  // Lambda's bootstrap runs `exec $AWS_LAMBDA_EXEC_WRAPPER node … runtime` when the wrapper is set.
  const binaries = options.runtime
    ? runtimeBinaries(options.runtime)
    : { node: process.execPath, ric: RIC_BIN };
  const command = [binaries.node, binaries.ric, runtimeHandler];
  if (options.mode === "wrapper") command.unshift(LAMBDA_SH, `${opt}/firefly-wrapper`);

  let log = "";
  let exited = false;
  const startedAt = performance.now();
  const child: ChildProcess = spawn(command[0], command.slice(1), {
    cwd: options.taskRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });

  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  let failExited: ((code: number | null) => void) | undefined;
  child.on("exit", (code) => {
    exited = true;
    failExited?.(code);
    for (const p of [...inflight.values(), ...queue.splice(0)]) {
      p.resolve({
        requestId: p.id,
        ok: false,
        error: { errorType: "Runtime.ExitError", errorMessage: `exit ${code}` },
        durationMs: 0,
      });
    }
    inflight.clear();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      onInitDone = () => {
        initDone = true;
        initEndedAt = performance.now();
        if (initError) reject(new Error(`init error: ${initError}`));
        else resolve();
      };
      failExited = (code) => reject(new Error(`runtime exited with ${code} during init`));
      if (exited) failExited(child.exitCode);
    });
  } catch (error) {
    await stop();
    (error as Error).message += `\n--- runtime log ---\n${log}`;
    throw error;
  }
  failExited = undefined;
  // Lambda's init phase ends when the runtime and every extension have asked for their next event.
  const initDurationMs = (initEndedAt ?? firstNextAt!) - startedAt;

  return {
    initDurationMs,
    functionArn,
    get log() {
      return log;
    },
    get exited() {
      return exited;
    },
    get extensions() {
      return extensions.length;
    },
    kill(signal) {
      child.kill(signal);
    },
    billedMs(requestId) {
      const at = released.get(requestId);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise<number>((resolve) => onReleased.set(requestId, resolve));
    },
    invoke(event, invokeOptions = {}) {
      const id = randomUUID();
      const headers: Record<string, string> = {
        "lambda-runtime-aws-request-id": id,
        "lambda-runtime-deadline-ms": String(
          Date.now() + (invokeOptions.timeoutMs ?? options.timeoutMs ?? 30000),
        ),
        "lambda-runtime-invoked-function-arn": functionArn,
        "lambda-runtime-trace-id":
          invokeOptions.traceId ??
          "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
      };
      if (invokeOptions.clientContext)
        headers["lambda-runtime-client-context"] = JSON.stringify(invokeOptions.clientContext);
      return new Promise<InvokeResult>((resolve) => {
        if (exited) {
          resolve({ requestId: id, ok: false, error: { errorType: "Runtime.ExitError" }, durationMs: 0 });
          return;
        }
        queue.push({ id, body: JSON.stringify(event), headers, resolve });
        dispatch();
      });
    },
    stop,
  };
}

export interface InvokeApi {
  /** Base URL to give the AWS SDK's Lambda client as its endpoint. */
  url: string;
  close(): void;
}

export async function startInvokeApi(callee: LambdaFunction): Promise<InvokeApi> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const header = req.headers["x-amz-client-context"];
      const clientContext = header ? JSON.parse(Buffer.from(String(header), "base64").toString()) : undefined;
      const asynchronous = req.headers["x-amz-invocation-type"] === "Event";
      const done = callee.invoke(JSON.parse(body || "{}"), { clientContext });
      if (!asynchronous) await done;
      res.writeHead(asynchronous ? 202 : 200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
