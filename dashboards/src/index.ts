// All Firefly dashboards, by file name (dashboards/<name>.json).
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { oneFunction } from "../../components/presentation/queries";
import { functionDashboard } from "./function";
import { overviewDashboard } from "./overview";
import { FUNCTION_VARIABLE } from "./panels";
import { pipelineDashboard } from "./pipeline";
import { withReportPanels } from "./report";

export const DASHBOARDS: Record<string, () => dashboard.Dashboard> = {
  overview: overviewDashboard,
  function: () =>
    withReportPanels(functionDashboard(), oneFunction(`$${FUNCTION_VARIABLE}`), `$${FUNCTION_VARIABLE}`),
  pipeline: pipelineDashboard,
};

/** The committed file's exact text, so `build:dashboards` and the freshness test agree byte for byte. */
export function renderDashboard(name: string): string {
  return `${JSON.stringify(DASHBOARDS[name](), null, 2)}\n`;
}
