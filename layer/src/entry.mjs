// Bundled to /opt/firefly/handler.mjs. Top-level await keeps loading the user's module in Lambda's
// init phase (as with any handler), which is why this entry is ESM.
import { createHandler } from "./handler.ts";

export const handler = await createHandler(process.env);
