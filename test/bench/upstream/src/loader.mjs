// Upstream's loader.mjs registers import-in-the-middle's ESM hook only when the handler is an ES module,
// to spare CommonJS handlers its cost. Same rule here.
import { existsSync, readFileSync } from "node:fs";
import { register } from "node:module";
import { basename, dirname, resolve } from "node:path";

function typeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = resolve(folder, "package.json");
  if (existsSync(pj)) {
    try {
      return JSON.parse(readFileSync(pj, "utf8")).type === "module";
    } catch {
      return false;
    }
  }
  return folder === "/" ? false : typeModule(resolve(folder, ".."));
}

function handlerIsEsm() {
  const def = process.env._HANDLER ?? "";
  const handler = basename(def);
  const file = resolve(
    process.env.LAMBDA_TASK_ROOT ?? ".",
    def.slice(0, def.length - handler.length),
    handler.split(".")[0],
  );
  if (existsSync(`${file}.mjs`)) return true;
  if (existsSync(`${file}.cjs`)) return false;
  return existsSync(`${file}.js`) && typeModule(dirname(`${file}.js`));
}

if (handlerIsEsm()) register("import-in-the-middle/hook.mjs", import.meta.url);
