// Stack outputs a user's next command needs: on ec2 the instance id is the target of the SSM port
// forward to Grafana (README, docs/presentation.md); other hosts have no instance and say so.
import * as assert from "node:assert/strict";
import { CONFIGURATIONS, programOutput, renderProgram } from "./programUnderMocks";

const config = (name: string) => CONFIGURATIONS.find((c) => c.name === name)!;

describe("stack outputs (the program under mocks)", function () {
  this.timeout(120_000);

  it("ec2: instanceId is the id of the instance the program created", async () => {
    const c = config("ec2 API Gateway front");
    const instances = (await renderProgram(c.config)).filter((r) => r.type === "aws:ec2/instance:Instance");
    assert.equal(instances.length, 1, "one instance on ec2");
    // The mocks give each resource the id `<name>-id`.
    assert.equal(await programOutput(c.config, "instanceId"), `${instances[0].name}-id`);
  });

  it("docker: no instanceId", async () => {
    assert.equal(await programOutput(config("docker, tunnel URL").config, "instanceId"), undefined);
  });
});
