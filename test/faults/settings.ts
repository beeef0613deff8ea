// Knobs of the fault suite. The issue asks for "a minute" of storage outage; CI runs the whole suite on
// 2 cores within a few minutes, so the default is 20 s: longer than the exporter's first retry
// intervals (5 s, growing to 60 s) and the Firehose path's 10 s synchronous retry, so the outage is
// certainly felt by every retry path. FAULTS_OUTAGE_S=60 runs the full minute.
import * as fs from "node:fs";
import { binaries } from "../pipeline/stack";
import { COLLECTOR_BINARY, PROMETHEUS_BINARY } from "./pipeline";

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!(Number.isFinite(n) && n > 0))
    throw new Error(`${name}="${raw}" must be a positive number of seconds`);
  return n;
}

/** How long the stores stay down (FAULTS_OUTAGE_S, default 20). */
export const OUTAGE_S = seconds("FAULTS_OUTAGE_S", 20);
/** How long the pipeline may take to deliver everything after a fault ends (FAULTS_DRAIN_S, default 120). */
export const DRAIN_S = seconds("FAULTS_DRAIN_S", 120);

/** Why the pipeline faults cannot run here, or undefined when they can. */
export function pipelineMissing(): string | undefined {
  if (!fs.existsSync(COLLECTOR_BINARY)) return `${COLLECTOR_BINARY} is missing: run npm run build:collector`;
  if (!fs.existsSync(PROMETHEUS_BINARY)) return `${PROMETHEUS_BINARY} is missing: apt-get install prometheus`;
  const logStore = binaries().victorialogs;
  if (!fs.existsSync(logStore.path)) return `${logStore.path} is missing: run ${logStore.install}`;
  return undefined;
}
