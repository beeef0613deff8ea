// The layer's handler, /opt/firefly/handler.handler: sets up tracing, then loads the function's own
// handler (FIREFLY_HANDLER) during init, as the runtime would have, and returns it wrapped.
// The entry (entry.mjs) awaits this at top level so that loading happens in the init phase.
import { wrapHandler } from "./invocation";
import { loadHandler } from "./loader";
import { setupInstrumentation } from "./setup";

export async function createHandler(env: NodeJS.ProcessEnv): Promise<(...args: any[]) => unknown> {
  // Tracing is registered before user code loads, so module-level code in the function already sees it;
  // tracing is set up synchronously by the call; the layer's registration as a Lambda extension (which
  // must be done before init ends) runs while the user's module loads, not before it.
  const ready = setupInstrumentation(env);
  // The registration request goes out before the user's module loads (a CommonJS load blocks the
  // loop), so Lambda answers while it loads and init does not wait after it. The connection completes
  // in the loop's poll phase, and the check phase after this module's own (setImmediate) may come before
  // one: two turns, so that a poll phase runs in between.
  await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  const user = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env.FIREFLY_HANDLER);
  const instrumentation = await ready;
  // Init ends once the user's module is loaded: that is the figure the cold invocation carries.
  return instrumentation
    ? wrapHandler(user, { ...instrumentation, initDurationMs: Math.round(performance.now() * 100) / 100 })
    : user;
}
