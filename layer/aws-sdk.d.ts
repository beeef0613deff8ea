// Types of @firefly-o11y/aws-sdk, shipped in the Firefly layer at /opt/nodejs/node_modules.
export interface FireflyPlugin {
  applyToStack(stack: { add(middleware: unknown, options: Record<string, unknown>): void }): void;
}
/** `client.middlewareStack.use(firefly())`: carries the trace context into Lambda, SQS, SNS and EventBridge calls. */
export function firefly(): FireflyPlugin;
