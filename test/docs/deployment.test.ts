// docs/deployment.md is exactly what the program registers on each named path: resource counts, the
// AWS permissions those resource types need, and the cost estimate. Stale → this fails.
import * as assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
  ACTIONS,
  estimateMonthly,
  PATHS,
  permissionsFor,
  renderDeploymentDoc,
  resourcesOf,
} from "./deployment";

const DOC = path.resolve(__dirname, "../../docs/deployment.md");

describe("docs/deployment.md (resources, permissions, cost per named path)", function () {
  this.timeout(180_000);

  it("is what the program registers today", async () => {
    const rendered = await renderDeploymentDoc();
    if (process.env.FIREFLY_UPDATE_DOCS === "1") writeFileSync(DOC, rendered);
    assert.equal(
      readFileSync(DOC, "utf8"),
      rendered,
      "docs/deployment.md is stale: run FIREFLY_UPDATE_DOCS=1 npx mocha test/docs/deployment.test.ts",
    );
  });

  it("refuses a resource type with no IAM actions listed, so the list cannot fall behind", () => {
    assert.throws(
      () => permissionsFor([{ type: "aws:new/thing:Thing", name: "x", inputs: {} }]),
      /no IAM actions listed for aws:new\/thing:Thing/,
    );
    assert.ok(ACTIONS["aws:ec2/instance:Instance"].includes("iam:PassRole"));
  });

  it("prices the ec2 path from its instance, volumes and front (an estimate that moves with the config)", async () => {
    const ec2 = PATHS.find((p) => p.config.host === "ec2");
    assert.ok(ec2);
    const small = estimateMonthly(await resourcesOf(ec2.config));
    const large = estimateMonthly(
      await resourcesOf({
        ...ec2.config,
        ec2: JSON.stringify({ adminCidrs: ["203.0.113.0/24"], instanceType: "t3.xlarge" }),
      }),
    );
    const total = (lines: { usd: number }[]) => lines.reduce((s, l) => s + l.usd, 0);
    assert.ok(small.some((l) => l.item.startsWith("EC2 t3.medium")));
    assert.ok(small.some((l) => l.item.startsWith("EBS gp3 data volume")));
    assert.ok(small.some((l) => l.item === "CloudWatch Metric Stream"));
    assert.ok(total(large) - total(small) > 90, "t3.xlarge costs about $91/month more than t3.medium");
  });

  it("the README's cost figure for the EC2 path is the estimate's total, rounded", async () => {
    const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
    const m = /about\s+\$(\d+)\s+a\s+month\s+for\s+the\s+EC2\s+path/.exec(readme);
    assert.ok(m, "README's Run it names the EC2 path's monthly estimate");
    const ec2 = PATHS.find((p) => p.config.host === "ec2");
    assert.ok(ec2);
    const total = estimateMonthly(await resourcesOf(ec2.config)).reduce((sum, l) => sum + l.usd, 0);
    assert.equal(Number(m[1]), Math.round(total));
  });
});
