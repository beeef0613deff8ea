// Same sequence as upstream's init.mjs: load the bundled wrapper, init() then wrap(), then the loader.
const { init, wrap } = await import("./wrapper.mjs");
await init();
await wrap();
await import("./loader.mjs");
