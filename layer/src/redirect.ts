// The exec wrapper's handler redirection, as a pure function of the environment and argv (see auto.ts).

const PRELOAD = /\s*--require\s+("[^"]*auto\.cjs"|\S*auto\.cjs)/;

/** Set on globalThis when the exec wrapper redirected this process (the startup line says "wrapper mode"). */
export const WRAPPER_MARK = Symbol.for("firefly.layer.wrapper");

/**
 * Points the runtime at the layer's handler and moves the function's own handler to FIREFLY_HANDLER
 * (unless the user set it), so the function's configured handler never has to change. Returns whether
 * it did (not when the handler already was the layer's).
 */
export function redirect(env: NodeJS.ProcessEnv, argv: string[], layerHandler: string): boolean {
  // Child processes the function spawns inherit NODE_OPTIONS: they must not be redirected too.
  if (env.NODE_OPTIONS) env.NODE_OPTIONS = env.NODE_OPTIONS.replace(PRELOAD, "").trim();
  const original = env._HANDLER;
  if (!original || original === layerHandler) return false;
  if (!env.FIREFLY_HANDLER) env.FIREFLY_HANDLER = original;
  env._HANDLER = layerHandler;
  // aws-lambda-ric's CLI (container images, tests) takes the handler as its argument instead.
  for (let i = 2; i < argv.length; i++) if (argv[i] === original) argv[i] = layerHandler;
  return true;
}
