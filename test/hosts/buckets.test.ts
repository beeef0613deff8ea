// Every S3 bucket the program renders, in every configuration under mocks, is private, encrypted by
// default and refuses requests without TLS; the API Gateway front keeps an access log of request
// metadata (no headers, so no token).
import * as assert from "node:assert/strict";
import { FRONT_ACCESS_LOG_FORMAT } from "../../components/hosts/frontAccessLog";
import { CONFIGURATIONS, type Rendered, renderProgram } from "./programUnderMocks";

describe("buckets and the front's access log (every configuration, under mocks)", function () {
  this.timeout(300_000);
  const rendered = new Map<string, Rendered[]>();
  before(async () => {
    for (const c of CONFIGURATIONS) rendered.set(c.name, await renderProgram(c.config, c.secretKeys));
  });

  it("each bucket: public access blocked, encrypted by default, plain HTTP denied", () => {
    let buckets = 0;
    for (const [name, resources] of rendered) {
      const of = (type: string) => resources.filter((r) => r.type === type);
      for (const b of of("aws:s3/bucket:Bucket")) {
        buckets++;
        const mine = (r: Rendered) => r.name.startsWith(b.name);
        assert.ok(
          of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").some(mine),
          `${name}: ${b.name} public access`,
        );
        const enc = of(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ).find(mine);
        assert.ok(enc, `${name}: ${b.name} is not encrypted`);
        const policy = of("aws:s3/bucketPolicy:BucketPolicy").find(mine);
        assert.ok(policy, `${name}: ${b.name} has no TLS-only policy`);
        const deny = JSON.parse(policy.inputs.policy).Statement.find((s: any) => s.Effect === "Deny");
        assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
      }
    }
    assert.ok(buckets >= 4, `only ${buckets} buckets seen`);
  });

  it("the API Gateway front logs each request's metadata, never its headers", () => {
    const stages = [...rendered.values()].flat().filter((r) => r.type === "aws:apigatewayv2/stage:Stage");
    assert.ok(stages.length >= 2);
    for (const s of stages) {
      assert.equal(s.inputs.accessLogSettings.format, FRONT_ACCESS_LOG_FORMAT);
    }
    const groups = [...rendered.values()]
      .flat()
      .filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name.endsWith("-front-access"));
    assert.equal(groups.length, stages.length, "one access log group per front");
    for (const g of groups) assert.equal(g.inputs.retentionInDays, 30);
    assert.ok(!/header|authorization|\$request\.header/i.test(FRONT_ACCESS_LOG_FORMAT));
    for (const key of ["sourceIp", "route", "status"]) assert.ok(FRONT_ACCESS_LOG_FORMAT.includes(key));
  });
});
