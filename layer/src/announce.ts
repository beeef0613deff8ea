// The one line a healthy layer writes, once per cold start: so that "is the layer active?" has an
// answer in the function's log. Trouble keeps its own prefix, "[firefly] …", which this line never
// carries. It names the endpoint's host only: never its path, credentials, token or headers.
import { writeSync } from "node:fs";
import type { LayerConfig } from "./config";

declare const __FIREFLY_VERSION__: string | undefined;
/** The layer's version, written into the bundle by layer/build.mjs (from package.json). */
export const LAYER_VERSION = typeof __FIREFLY_VERSION__ === "string" ? __FIREFLY_VERSION__ : "dev";

/** How the layer was put in front of the function's handler. */
export type LayerMode = "handler" | "wrapper";

/** The startup line: version, mode, endpoint host, sampler, and where spans are exported. */
export function startupLine(
  config: Pick<LayerConfig, "tracesUrl" | "sampler" | "samplerRatio" | "logs"> &
    Partial<Pick<LayerConfig, "multiConcurrent">>,
  mode: LayerMode,
  exportAfterResponse: boolean,
): string {
  let host = "(none)";
  try {
    host = new URL(config.tracesUrl).host;
  } catch {
    // readConfig already replaced an unparseable URL; nothing to name
  }
  const sampler = config.sampler.endsWith("traceidratio")
    ? `${config.sampler} ${config.samplerRatio}`
    : config.sampler;
  const concurrency = config.multiConcurrent ? ", multi-concurrent" : "";
  return `firefly: layer ${LAYER_VERSION} active, ${mode} mode${concurrency}, endpoint ${host}, sampler ${sampler}, export ${exportAfterResponse ? "after the response" : "before each response"}, logs ${config.logs ? "on" : "off"}`;
}

/** The line for a function whose layer was switched off. */
export const offLine = () => `firefly: layer ${LAYER_VERSION} off (OTEL_SDK_DISABLED=true)`;

/**
 * Writes one line straight to the process's standard output: no stream to create (about a millisecond
 * of init), no console formatting, and never captured as a log record of the function's.
 */
export function announce(line: string): void {
  try {
    writeSync(1, `${line}\n`);
  } catch {
    // a line of our own is never worth an error
  }
}
