// The layer's handler, /opt/firefly/handler.handler: sets up tracing, then loads the function's own
// handler (FIREFLY_HANDLER) during init, as the runtime would have, and returns it wrapped.
// The entry (entry.mjs) awaits this at top level so that loading happens in the init phase.
import { wrapHandler } from "./invocation";
import { loadHandler } from "./loader";
import { setupInstrumentation } from "./setup";

export async function createHandler(env: NodeJS.ProcessEnv): Promise<(...args: any[]) => unknown> {
  // Tracing is registered before user code loads, so module-level code in the function already sees it.
  const instrumentation = setupInstrumentation(env);
  const user = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env.FIREFLY_HANDLER);
  return instrumentation ? wrapHandler(user, instrumentation) : user;
}
