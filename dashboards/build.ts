// `npm run build:dashboards`: regenerate dashboards/*.json from dashboards/src (commit the result).
// With --check, write nothing and fail listing every file that differs from the generator's output.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DASHBOARDS, renderDashboard } from "./src";

const check = process.argv.includes("--check");
const stale: string[] = [];
for (const name of Object.keys(DASHBOARDS)) {
  const file = join(__dirname, `${name}.json`);
  const text = renderDashboard(name);
  if (!check) {
    writeFileSync(file, text);
    continue;
  }
  let committed = "";
  try {
    committed = readFileSync(file, "utf8");
  } catch {
    // missing counts as stale
  }
  if (committed !== text) stale.push(file);
}
if (stale.length > 0) {
  console.error(`stale dashboards (run \`npm run build:dashboards\` and commit): ${stale.join(", ")}`);
  process.exit(1);
}
