// Resolves a handler string ("index.handler", "src/app.main", "lib/x.nested.fn") against the task
// root exactly as the Node.js runtime (aws-lambda-ric's UserFunction) does, so that moving a handler
// into FIREFLY_HANDLER never changes which file or export runs.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export class HandlerError extends Error {
  override name = "Runtime.FireflyHandlerError";
}

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function hasTypeModule(folder: string): boolean {
  if (folder.endsWith("/node_modules")) return false;
  const pj = join(folder, "package.json");
  if (existsSync(pj)) {
    try {
      return JSON.parse(readFileSync(pj, "utf8"))?.type === "module";
    } catch {
      return false;
    }
  }
  const parent = resolve(folder, "..");
  return parent === folder ? false : hasTypeModule(parent);
}

async function loadModule(appRoot: string, moduleRoot: string, moduleName: string): Promise<unknown> {
  const require = createRequire(join(appRoot, "index.js"));
  const base = resolve(appRoot, moduleRoot, moduleName);
  const tryRequire = (ext: string) => (existsSync(base + ext) ? require(base + ext) : undefined);
  const tryImport = async (ext: string) =>
    existsSync(base + ext) ? await import(pathToFileURL(base + ext).href) : undefined;

  const extensionless = tryRequire("");
  if (extensionless) return extensionless;
  const esm = existsSync(`${base}.js`) && hasTypeModule(dirname(`${base}.js`));
  if (!esm) {
    const loaded = tryRequire(".js");
    if (loaded) return loaded;
  }
  const loaded = (esm && (await tryImport(".js"))) || (await tryImport(".mjs")) || tryRequire(".cjs");
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

/** Loads the module and returns the named (possibly nested) export; throws HandlerError naming the setting. */
export async function loadHandler(
  appRoot: string,
  handlerString: string | undefined,
  setting = "FIREFLY_HANDLER",
): Promise<(...args: any[]) => unknown> {
  if (!handlerString) {
    throw new HandlerError(
      `${setting} is not set: set it to the function's own handler (e.g. "index.handler") when the function's handler is /opt/firefly/handler.handler, or use AWS_LAMBDA_EXEC_WRAPPER=/opt/firefly-wrapper and keep the handler unchanged.`,
    );
  }
  if (handlerString.includes("..")) {
    throw new HandlerError(
      `${setting}="${handlerString}" must not contain "..": use a path relative to the task root.`,
    );
  }
  const moduleAndHandler = basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(FUNCTION_EXPR);
  if (!match) {
    throw new HandlerError(
      `${setting}="${handlerString}" is malformed: expected "<file>.<export>", e.g. "index.handler".`,
    );
  }
  const [, moduleName, exportPath] = match;
  const app = await loadModule(appRoot, moduleRoot, moduleName);
  const fn = exportPath.split(".").reduce<any>((nested, key) => nested?.[key], app);
  if (typeof fn !== "function") {
    throw new HandlerError(
      `${setting}="${handlerString}": ${fn === undefined ? "is undefined or not exported" : "is not a function"} in ${resolve(appRoot, moduleRoot, moduleName)}.`,
    );
  }
  return fn;
}
