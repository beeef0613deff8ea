/**
 * AWS's own Runtime Interface Emulator (aws-lambda-rie, built from the Go module proxy by
 * .ci/setup.d/16-rie.sh) running a function with the real runtime interface client and the built layer.
 * It serves the Runtime API and the Extensions API as Lambda does, enforces the function timeout, and
 * logs `INVOKE RTDONE(... duration: X ms)`: the runtime's part of an invocation, what a caller waits for
 * on Lambda. Its HTTP answer waits for extensions too, so that is the billed part, not the caller's.
 *
 * API
 *   RIE_BIN: the emulator's path (.firefly/tools/aws-lambda-rie-<commit>)
 *   startRie(options): Promise<RieFunction>
 *       options.runtime   "nodejs20.x" | "nodejs22.x" | "nodejs24.x" (Node and client as runtimeBinaries)
 *       options.mode      "redirect" | "wrapper" | "none", as in runtime.ts
 *       options.taskRoot, options.handler, options.env
 *       options.timeoutS  AWS_LAMBDA_FUNCTION_TIMEOUT (default 30); options.layerZip another build
 *   fn.invoke(event): Promise<{ body, runtimeMs, billedMs, status }>
 *       body: the parsed answer; runtimeMs: the RTDONE duration of this invocation; billedMs: the
 *       answer's wall time (the runtime's part plus the extension's post-response work)
 *   fn.initMs: the INIT REPORT duration (init runs lazily, at the first invoke)
 *   fn.log, fn.stop()
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { LAMBDA_SH, type LambdaRuntime, type LayerMode, runtimeBinaries, unpackLayer } from "./runtime";

export const RIE_COMMIT = "bef5c4ba774d";
export const RIE_BIN = path.resolve(__dirname, `../../.firefly/tools/aws-lambda-rie-${RIE_COMMIT}`);

export interface RieOptions {
  readonly runtime: LambdaRuntime;
  readonly mode: LayerMode;
  readonly taskRoot: string;
  readonly handler: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutS?: number;
  readonly functionName?: string;
  /** Another build of the layer (default: layer/dist/firefly-layer.zip). */
  readonly layerZip?: string;
}

export interface RieInvocation {
  readonly status: number;
  readonly body: unknown;
  /** The runtime's part (RTDONE duration): what the caller waits for on Lambda. */
  readonly runtimeMs: number;
  /** The emulator's answer time: the runtime's part plus post-response extension work (billed). */
  readonly billedMs: number;
  readonly rtdoneStatus: string;
}

export interface RieFunction {
  readonly log: string;
  readonly initMs: number | undefined;
  invoke(event: unknown): Promise<RieInvocation>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const RTDONE = /INVOKE RTDONE\(status: ([^,]+), produced bytes: \d+, duration: ([\d.]+)ms\)/g;

export async function startRie(options: RieOptions): Promise<RieFunction> {
  if (!existsSync(RIE_BIN)) throw new Error(`${RIE_BIN} is missing: run \`bash .ci/setup.d/16-rie.sh\``);
  const { node, ric } = runtimeBinaries(options.runtime);
  const opt = options.mode === "none" ? undefined : unpackLayer(options.layerZip);
  const handler = options.mode === "redirect" ? `${opt}/firefly/handler.handler` : options.handler;
  const functionName = options.functionName ?? "fixture";
  const port = await freePort();
  const apiPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    LAMBDA_TASK_ROOT: options.taskRoot,
    LAMBDA_RUNTIME_DIR: path.dirname(ric),
    _HANDLER: handler,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EXECUTION_ENV: `AWS_Lambda_${options.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutS ?? 30),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${randomUUID().replaceAll("-", "")}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    NODE_PATH: opt ? `${opt}/nodejs/node_modules` : "",
    ...(options.mode === "redirect" ? { FIREFLY_HANDLER: options.handler } : {}),
    ...(options.mode === "wrapper" ? { AWS_LAMBDA_EXEC_WRAPPER: `${opt}/firefly-wrapper` } : {}),
    ...options.env,
  };
  // Lambda's bootstrap execs the wrapper in front of node when AWS_LAMBDA_EXEC_WRAPPER is set.
  const bootstrap = [node, ric, handler];
  if (options.mode === "wrapper") bootstrap.unshift(LAMBDA_SH, `${opt}/firefly-wrapper`);
  let log = "";
  const child: ChildProcess = spawn(
    RIE_BIN,
    [
      "--runtime-interface-emulator-address",
      `127.0.0.1:${port}`,
      "--runtime-api-address",
      `127.0.0.1:${apiPort}`,
      ...bootstrap,
    ],
    { cwd: options.taskRoot, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));

  // The emulator answers on its port once it is up; the runtime starts at the first invoke.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) break;
    if (exited || Date.now() > deadline) throw new Error(`aws-lambda-rie did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    get log() {
      return log;
    },
    get initMs() {
      const m = log.match(/INIT REPORT\(durationMs: ([\d.]+)\)/);
      return m ? Number(m[1]) : undefined;
    },
    async invoke(event) {
      const from = log.length;
      const started = performance.now();
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/2015-03-31/functions/function/invocations",
            agent: false,
          },
          (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text: body }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify(event));
      });
      const billedMs = performance.now() - started;
      // This invocation's RTDONE line is logged before the answer; give the pipe a moment. A timed-out
      // or crashed invocation has none.
      let rt: RegExpExecArray | undefined;
      for (let i = 0; i < 10 && !rt; i++) {
        rt = [...log.slice(from).matchAll(RTDONE)][0];
        if (!rt) await new Promise((r) => setTimeout(r, 20));
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // non-JSON answers (errors from the emulator itself) stay text
      }
      return {
        status,
        body,
        billedMs,
        runtimeMs: rt ? Number(rt[2]) : Number.NaN,
        rtdoneStatus: rt ? rt[1] : "none",
      };
    },
    async stop() {
      if (exited) return;
      // SIGTERM lets the emulator stop the runtime process it started; SIGKILL if it does not.
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
