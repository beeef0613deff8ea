// The shared local pipeline, as tests use it: `ensureLocalPipeline()` returns the running pipeline's
// `.firefly/local.json`, starting it first when it is not running (so plain `npm test` works once the
// binaries exist). It keeps running after the tests; `npm run pipeline:down` stops it. A lock file keeps
// two test runs in the same tree from starting it twice.
import * as fs from "node:fs";
import * as path from "node:path";
import { COLLECTOR_HEALTH_PATH } from "../../components/shipping/collectorConfig";
import { isRunning, type StartedProcess, sleep } from "./processes";
import { type LocalPipeline, REPO, startPipeline, stopAll } from "./stack";

export type { LocalPipeline } from "./stack";

export const STATE_DIR = path.join(REPO, ".firefly");
export const LOCAL_JSON = path.join(STATE_DIR, "local.json");
const STATE_JSON = path.join(STATE_DIR, "pipeline.json");
const LOCK = path.join(STATE_DIR, "pipeline.lock");

interface State {
  dir: string;
  processes: StartedProcess[];
  readiness: string[];
}

let ensured: Promise<LocalPipeline> | undefined;

/** The running local pipeline; starts it when needed. Throws naming any missing binary and its build command. */
export function ensureLocalPipeline(): Promise<LocalPipeline> {
  ensured ??= withLock(async () => {
    const running = await readRunning();
    if (running) return running;
    await stopRecorded();
    const pipeline = await startPipeline();
    const state: State = {
      dir: pipeline.dir,
      processes: [
        pipeline.collector.process,
        pipeline.jaeger.process,
        pipeline.logStore.process,
        pipeline.prometheus.process,
      ],
      readiness: [
        `http://127.0.0.1:${pipeline.collector.ports.health}${COLLECTOR_HEALTH_PATH}`,
        `${pipeline.prometheus.url}/-/ready`,
        `${pipeline.jaeger.url}/api/services`,
        `${pipeline.logStore.url}/health`,
      ],
    };
    fs.writeFileSync(STATE_JSON, JSON.stringify(state, null, 2));
    fs.writeFileSync(LOCAL_JSON, JSON.stringify(pipeline.local, null, 2) + "\n", { mode: 0o600 });
    return pipeline.local;
  }).catch((error) => {
    ensured = undefined;
    throw error;
  });
  return ensured;
}

/** Stops what `ensureLocalPipeline` or `pipeline:up` started and removes its files. */
export async function stopLocalPipeline(): Promise<number> {
  ensured = undefined;
  return withLock(stopRecorded);
}

async function readRunning(): Promise<LocalPipeline | undefined> {
  const state = readJson<State>(STATE_JSON);
  const local = readJson<LocalPipeline>(LOCAL_JSON);
  if (!state || !local || !state.processes.every(isRunning)) return undefined;
  for (const url of state.readiness) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.ok;
      })
      .catch(() => false);
    if (!ok) return undefined;
  }
  return local;
}

async function stopRecorded(): Promise<number> {
  const state = readJson<State>(STATE_JSON);
  const count = state ? state.processes.filter(isRunning).length : 0;
  if (state) await stopAll(state.processes, state.dir);
  fs.rmSync(STATE_JSON, { force: true });
  fs.rmSync(LOCAL_JSON, { force: true });
  return count;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(fs.readFileSync(LOCK, "utf8"));
      if (!owner || !pidAlive(owner)) {
        fs.rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${LOCK} is held by pid ${owner} for over 2 minutes`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
