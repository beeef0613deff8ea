// Least privilege, read off what the program renders: every IAM document (role trust and inline
// policies, managed-policy attachments, bucket and other resource policies) in every configuration
// under mocks. A statement that allows reading secret material (parameters, secrets, decrypt, objects,
// function configuration with its env) must name its resources; `*` fails. So does any AWS managed
// policy: AmazonSSMManagedInstanceCore, for one, allows ssm:GetParameter(s) on every parameter.
import * as assert from "node:assert/strict";
import { readsSecrets } from "../../components/hosts/ec2Iam";
import { CONFIGURATIONS, type Rendered, renderProgram } from "./programUnderMocks";

interface Found {
  readonly where: string;
  readonly doc: { Statement: any[] };
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as string]);

/** Every IAM policy document in a resource's inputs, wherever it sits. */
function documents(r: Rendered): Found[] {
  const out: Found[] = [];
  const visit = (v: unknown, path: string) => {
    if (typeof v === "string" && v.includes('"Statement"')) {
      try {
        const doc = JSON.parse(v);
        if (Array.isArray(doc.Statement)) out.push({ where: `${r.type} ${r.name} ${path}`, doc });
      } catch {
        // Not JSON: a script or a template that mentions the word.
      }
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) visit(x, `${path}[${i}]`);
    } else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) visit(x, path ? `${path}.${k}` : k);
  };
  visit(r.inputs, "");
  return out;
}

function violations(found: Found[]): string[] {
  const bad: string[] = [];
  for (const { where, doc } of found) {
    for (const st of doc.Statement) {
      if (st.Effect !== "Allow") continue;
      if (st.NotAction !== undefined || st.NotResource !== undefined)
        bad.push(`${where}: NotAction/NotResource allows more than it names`);
      const secretActions = asList(st.Action).filter(readsSecrets);
      const wildcard = asList(st.Resource).filter(
        (r) => r === "*" || /^arn:[^:]*:(ssm|secretsmanager|kms|s3|lambda):[^:]*:[^:]*:\*$/.test(r),
      );
      if (secretActions.length > 0 && wildcard.length > 0)
        bad.push(`${where}: ${secretActions.join(", ")} on ${wildcard.join(", ")}`);
    }
  }
  return bad;
}

describe("IAM documents the program renders (every host and store, under mocks)", function () {
  this.timeout(300_000);
  const rendered = new Map<string, Rendered[]>();

  before(async () => {
    for (const c of CONFIGURATIONS) rendered.set(c.name, await renderProgram(c.config, c.secretKeys));
  });

  it("finds documents to check in every configuration (the scan looks where they are)", () => {
    for (const [name, resources] of rendered) {
      const docs = resources.flatMap(documents);
      // Every configuration has at least the layer-publishing and instrumentation side or the host's roles.
      assert.ok(resources.length > 0, `${name}: nothing rendered`);
      if (name.startsWith("ec2")) assert.ok(docs.length >= 3, `${name}: only ${docs.length} documents`);
    }
    const all = [...rendered.values()].flat().flatMap(documents);
    assert.ok(all.length >= 20, `only ${all.length} documents in all`);
  });

  it("no statement allows reading secrets on `*`", () => {
    const bad = [...rendered.entries()].flatMap(([name, resources]) =>
      violations(resources.flatMap(documents)).map((v) => `${name}: ${v}`),
    );
    assert.deepEqual(bad, []);
  });

  it("attaches no AWS managed policy (each grants more than Firefly needs)", () => {
    const attached = [...rendered.entries()].flatMap(([name, resources]) =>
      resources
        .filter((r) => /policyAttachment|PolicyAttachment/.test(r.type) || r.inputs.managedPolicyArns)
        .flatMap((r) => [r.inputs.policyArn, ...(r.inputs.managedPolicyArns ?? [])])
        .filter((arn) => typeof arn === "string" && /:iam::aws:policy\//.test(arn))
        .map((arn) => `${name}: ${arn}`),
    );
    assert.deepEqual(attached, []);
  });

  it("the check itself fails on the managed SSM policy's statement and on ssm:* over *", () => {
    const core = {
      where: "AmazonSSMManagedInstanceCore",
      doc: {
        Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: "*" }],
      },
    };
    assert.equal(violations([core]).length, 1);
    const broad = {
      where: "x",
      doc: {
        Statement: [{ Effect: "Allow", Action: "ssm:*", Resource: "arn:aws:ssm:eu-west-1:123456789012:*" }],
      },
    };
    assert.equal(violations([broad]).length, 1);
    const scoped = {
      where: "y",
      doc: {
        Statement: [
          {
            Effect: "Allow",
            Action: "ssm:GetParameter",
            Resource: "arn:aws:ssm:eu-west-1:1:parameter/firefly/i-1/*",
          },
        ],
      },
    };
    assert.equal(violations([scoped]).length, 0);
  });

  it("the ec2 instance role: the SSM agent's actions on this instance, secrets under /firefly/<instance>/ only", () => {
    const resources = rendered.get("ec2 API Gateway front")!;
    const policies = resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    const agent = policies.find((p) => p.name.endsWith("-ssm-agent"));
    assert.ok(agent, policies.map((p) => p.name).join(", "));
    const doc = JSON.parse(agent.inputs.policy);
    for (const st of doc.Statement) {
      if (st.Resource === "*")
        assert.ok(st.Condition?.StringEquals?.["ec2:SourceInstanceARN"], JSON.stringify(st));
      assert.ok(!asList(st.Action).some(readsSecrets), JSON.stringify(st));
    }
    const reads = policies
      .flatMap((p) => JSON.parse(p.inputs.policy).Statement)
      .filter((s: any) => asList(s.Action).some(readsSecrets));
    for (const st of reads)
      for (const r of asList(st.Resource))
        assert.match(r, /firefly\/[\w-]*instance-id\/\*$|firefly-[\w-]*instance-id-\*\/\*$/, r);
  });
});
