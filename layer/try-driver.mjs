// The runtime's part of `npm run try:layer` (layer/try.mjs), run in its own process so the layer's
// init sees a fresh environment: loads the handler named by _HANDLER the way the Node.js runtime
// does for a layer handler, calls it once with the event and a Lambda-like context, and prints the
// result or the error as the runtime would report it.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const handlerString = process.env._HANDLER;
const file = basename(handlerString);
const dot = file.indexOf(".");
const base = join(dirname(handlerString), file.slice(0, dot));
const exportName = file.slice(dot + 1);
const path = [".mjs", ".js", ".cjs"].map((ext) => base + ext).find(existsSync);
if (!path) {
  console.error(`try:layer: no module for handler ${handlerString}`);
  process.exit(2);
}
const handler = (await import(pathToFileURL(path).href))[exportName];

const deadline = Date.now() + Number(process.env.FIREFLY_TRY_TIMEOUT_MS);
const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
const context = {
  awsRequestId: randomUUID(),
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: "try-layer",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
const event = JSON.parse(process.env.FIREFLY_TRY_EVENT);

const result = await new Promise((resolve, reject) => {
  const callback = (error, value) => (error ? reject(error) : resolve(value));
  try {
    const returned = handler.length >= 3 ? handler(event, context, callback) : handler(event, context);
    if (returned && typeof returned.then === "function") returned.then(resolve, reject);
  } catch (error) {
    reject(error);
  }
}).catch((error) => {
  console.log(`try:layer: the handler failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
  return undefined;
});
if (!process.exitCode) console.log(`try:layer: result ${JSON.stringify(result)}`);
// An HTTP agent's keep-alive socket or a handler's timer must not hold the run open.
setTimeout(() => process.exit(), 200).unref();
