// The clock the bundled OpenTelemetry SDK and the layer read as `performance` (layer/build.mjs injects
// it for the global): milliseconds since the process started, from process.uptime(), which has the
// same origin and resolution. The global `performance` loads Node's perf_hooks (eleven internal
// modules, about a millisecond) on first use, which the runtime itself never pays for.
const uptimeMs = () => process.uptime() * 1000;

export const performance = {
  timeOrigin: Date.now() - uptimeMs(),
  now: uptimeMs,
};
