// Preloaded by /opt/firefly-wrapper through NODE_OPTIONS, before the runtime starts: redirects the
// runtime to the layer's handler. Kept tiny, since it runs in every init.
import * as path from "node:path";
import { redirect, WRAPPER_MARK } from "./redirect";

if (redirect(process.env, process.argv, path.join(__dirname, "handler.handler")))
  (globalThis as Record<symbol, unknown>)[WRAPPER_MARK] = true;
