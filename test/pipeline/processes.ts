// Background processes for the local pipeline: free loopback ports, detached starts with logs in files
// (so a test run or `pipeline:up` can exit while they keep running), readiness polling, and stops that
// only ever signal a pid whose command line is still the binary we started.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";

export interface StartedProcess {
  /** Short role name (collector, prometheus, jaeger). */
  name: string;
  pid: number;
  /** Absolute path of the binary, checked against /proc before any signal is sent. */
  binary: string;
  log: string;
}

/** Ports the kernel reports free on 127.0.0.1, all distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Starts `binary args…` in its own process group, stdout and stderr appended to `log`. */
export function startProcess(
  name: string,
  binary: string,
  args: string[],
  log: string,
  env: Record<string, string> = {},
): StartedProcess {
  const fd = fs.openSync(log, "a", 0o600);
  try {
    const child = spawn(binary, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`);
    return { name, pid: child.pid, binary, log };
  } finally {
    fs.closeSync(fd);
  }
}

/** True while `p.pid` is alive and still runs `p.binary` (a recycled pid is never ours). */
export function isRunning(p: StartedProcess): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const argv0 = fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0")[0];
    return argv0 === p.binary;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(p: StartedProcess, graceMs = 10_000): Promise<void> {
  if (!isRunning(p)) return;
  process.kill(p.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isRunning(p)) {
    if (Date.now() > deadline) {
      process.kill(p.pid, "SIGKILL");
      await sleep(200);
      return;
    }
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 2xx; fails with the process's log tail when it dies or time runs out. */
export async function waitForHttp(url: string, p: StartedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(p)) throw new Error(`${p.name} exited during start-up:\n${tail(p.log)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${p.name} not ready at ${url} after ${timeoutMs} ms:\n${tail(p.log)}`);
    await sleep(100);
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
