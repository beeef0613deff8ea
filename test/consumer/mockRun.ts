// Runs a compiled consumer program under Pulumi's mocks, with the @pulumi/pulumi the consumer installed
// (bundled into the consumer's folder by test/consumer/byName.test.ts; only @pulumi/* stays external).
// Prints the registered resources and the program's exports, resolved, as JSON.
// Usage: node mockRun.js <program.js>
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { computed, invoke } from "../engine/standin/cloud";

// Lambda functions keep their inputs: the tests check what Firefly's outputs wired into them.
const resources: { type: string; name: string; inputs?: unknown }[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      resources.push({
        type: args.type,
        name: args.name,
        ...(args.type === "aws:lambda/function:Function" ? { inputs: args.inputs } : {}),
      });
      const extra = args.type.startsWith("pulumi-nodejs:dynamic")
        ? {
            functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${args.inputs.functionName}`,
            skipped: "",
          }
        : computed(args.type, args.name, args.inputs);
      return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
    },
    call(args) {
      return invoke(args.token, args.inputs);
    },
  },
  "consumer",
  "test",
  false,
);

async function main() {
  const program = require(path.resolve(process.argv[2])) as Record<string, pulumi.Output<unknown>>;
  const exported: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(program))
    exported[k] = await new Promise((resolve) => (pulumi.output(v) as pulumi.Output<unknown>).apply(resolve));
  // Registration is asynchronous: wait until nothing new arrives.
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stdout.write(JSON.stringify({ resources, exported }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
