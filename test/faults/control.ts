// Fault-control helpers: processes that can be stopped, SIGKILLed and started again on the same ports
// and data, and network peers that misbehave on purpose (a black hole, a slow server, a closed port).
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A port nobody listens on right now (the OS picks it, then we let it go). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `firefly-faults-${prefix}-`));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it resolves true; throws with `what` and the last error after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** GET a URL on loopback; resolves with status and body, never throws on HTTP errors. */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

export interface ProcessSpec {
  /** Short name for logs and errors. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Resolves true once the process serves; polled after every start. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

/**
 * A real process under fault control. Output goes to a log file (kept for the failure message) so a
 * chatty collector cannot fill a pipe and stall.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly logFile: string;
  starts = 0;

  constructor(
    private readonly spec: ProcessSpec,
    logDir: string,
  ) {
    this.logFile = path.join(logDir, `${spec.name}.log`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process; `env` overrides the spec's environment for this start only (a misconfiguration). */
  async start(env: Readonly<Record<string, string>> = {}): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    const out = fs.openSync(this.logFile, "a");
    fs.writeSync(out, `\n--- start #${++this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: { ...process.env, ...this.spec.env, ...env },
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const failed = new Promise<never>((_, reject) =>
      child.once("exit", (code, signal) =>
        reject(
          new Error(`${this.spec.name} exited (${code ?? signal}) before it was ready:\n${this.tail()}`),
        ),
      ),
    );
    failed.catch(() => undefined);
    await Promise.race([
      waitFor(`${this.spec.name} to be ready`, this.spec.ready, this.spec.readyTimeoutMs ?? 30_000),
      failed,
    ]).catch((error) => {
      throw new Error(`${error.message}\n${this.tail()}`);
    });
  }

  /** Graceful stop (SIGTERM), as an orchestrator does; SIGKILL if it hangs. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** A crash: no chance to flush or close anything. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  /** The last warnings and errors of the process's log, for failure messages. */
  tail(lines = 10): string {
    try {
      const log = fs.readFileSync(this.logFile, "utf8").split("\n");
      const notable = log.filter((l) => /\b(warn|error|fatal|panic)\b/i.test(l));
      return `${this.spec.name} log (${this.logFile}), last warnings/errors:\n${notable.slice(-lines).join("\n")}`;
    } catch {
      return `${this.spec.name}: no log`;
    }
  }
}

/** Tracks sockets so `close()` really ends a server now, not after its clients hang up. */
function closeNow(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface FaultServer {
  readonly port: number;
  /** Connections accepted so far (proves the client really tried). */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never reads or answers: a firewall that drops replies, a hung peer. */
export async function blackHole(): Promise<FaultServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => closeNow(server, sockets),
  };
}

/** An HTTP server that reads the request, then answers 200 only after `delayMs`: an overloaded collector. */
export async function slowServer(delayMs: number): Promise<FaultServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const timer = setTimeout(
        () => res.writeHead(200, { "content-type": "application/json" }).end("{}"),
        delayMs,
      );
      res.on("close", () => clearTimeout(timer));
    });
  });
  server.on("connection", (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => closeNow(server, sockets),
  };
}
