// All Firefly dashboards, by file name (dashboards/<name>.json).
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { functionDashboard } from "./function";
import { overviewDashboard } from "./overview";
import { pipelineDashboard } from "./pipeline";

export const DASHBOARDS: Record<string, () => dashboard.Dashboard> = {
  overview: overviewDashboard,
  function: functionDashboard,
  pipeline: pipelineDashboard,
};

/** The committed file's exact text, so `build:dashboards` and the freshness test agree byte for byte. */
export function renderDashboard(name: string): string {
  return `${JSON.stringify(DASHBOARDS[name](), null, 2)}\n`;
}
