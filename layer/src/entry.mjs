// /opt/firefly/handler.mjs, copied as is. An ES module only for its top-level await, which keeps
// loading the user's module (and registering the extension) in Lambda's init phase. The layer itself
// is CommonJS (layer.cjs): an ES module that imports a Node built-in gets a namespace of all its
// exports, and building node:http's reads getters that load undici, TLS, crypto and HTTP/2 (30–50 ms
// of init on Node 22 and 24). require() reads only what the code uses.
import { createRequire } from "node:module";

const { createHandler } = createRequire(import.meta.url)("./layer.cjs");

export const handler = await createHandler(process.env);
