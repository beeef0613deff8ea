// deployServices under Pulumi mocks: a service added later (Grafana, in the presentation phase) lands
// on the same engine/network, namespace or instance the ShippingPhase uses, secrets kept secret.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type * as hostsModule from "../../components/hosts/index";
import type { ServiceSpec } from "../../components/hosts/spec";
import { Host } from "../../components/types";
import { installMocks, ofType, scanSecrets, settle } from "../shipping/mocks";

const ADMIN_PASSWORD = "grafana-admin-password-0123456789";
const grafana = (): ServiceSpec[] => [
  {
    name: "grafana",
    image: "grafana/grafana:12.0.0",
    env: { GF_AUTH_ANONYMOUS_ENABLED: "false" },
    secretEnv: { GF_SECURITY_ADMIN_PASSWORD: pulumi.secret(ADMIN_PASSWORD) },
    ports: [{ name: "http", container: 3000, public: true, protocol: "http" }],
    files: [{ path: "/etc/grafana/provisioning/datasources/ds.yaml", content: "apiVersion: 1\n" }],
    volumes: [{ name: "grafana-data", mountPath: "/var/lib/grafana", sizeGb: 1, owner: "472:472" }],
    resources: { cpu: 0.5, memoryMb: 256 },
    user: "472:472",
  },
];

class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("firefly:test:Holder", name);
  }
}

describe("deployServices (Pulumi mocks)", () => {
  let hosts: typeof hostsModule;
  before(async () => {
    installMocks();
    hosts = await import("../../components/hosts/index");
  });

  it("docker: same engine and network, ports on the host's bind address", async () => {
    installMocks();
    hosts.deployServices(
      "pres",
      {
        host: Host.Docker,
        docker: { engine: "ssh://ops@h", bindAddress: "10.0.0.5" },
        dockerNetwork: "ff-firefly",
      },
      grafana(),
      { parent: new Holder("h1") },
    );
    await settle();
    assert.equal(ofType("pulumi:providers:docker")[0].inputs.host, "ssh://ops@h");
    const [c] = ofType("docker:index/container:Container").filter((x) => !x.name.endsWith("-init"));
    assert.equal(c.inputs.networksAdvanced[0].name, "ff-firefly");
    assert.deepEqual(c.inputs.ports, [{ internal: 3000, external: 3000, ip: "10.0.0.5" }]);
    assert.deepEqual(scanSecrets([ADMIN_PASSWORD]).plain, []);
  });

  it("kubernetes: same namespace; a LoadBalancer only when asked", async () => {
    installMocks();
    hosts.deployServices("pres", { host: Host.Kubernetes, kubernetesNamespace: "obs" }, grafana(), {
      parent: new Holder("h2"),
      loadBalancers: ["grafana"],
    });
    await settle();
    const [dep] = ofType("kubernetes:apps/v1:Deployment");
    assert.equal(dep.inputs.metadata.namespace, "obs");
    assert.equal(dep.inputs.spec.template.spec.securityContext.fsGroup, 472);
    assert.equal(
      ofType("kubernetes:core/v1:Service").filter((s) => s.inputs.spec.type === "LoadBalancer").length,
      1,
    );
    const { plain, wrapped } = scanSecrets([ADMIN_PASSWORD]);
    assert.deepEqual(plain, []);
    assert.ok(wrapped > 0);
  });

  it("ec2: a Compose project on the same instance via an SSM association, secrets in a SecureString", async () => {
    installMocks();
    hosts.deployServices("presentation", { host: Host.Ec2, instanceId: "i-0abc" }, grafana(), {
      parent: new Holder("h3"),
    });
    await settle();
    const [param] = ofType("aws:ssm/parameter:Parameter");
    assert.equal(param.inputs.name, "/firefly/i-0abc/presentation");
    assert.equal(param.inputs.type, "SecureString");
    // The apply script sits in a private bucket named after the instance (its role may read it)...
    const [bucket] = ofType("aws:s3/bucket:Bucket");
    assert.equal(bucket.inputs.bucket, "firefly-i-0abc-presentation");
    const [block] = ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    assert.deepEqual(
      [block.inputs.blockPublicAcls, block.inputs.blockPublicPolicy, block.inputs.restrictPublicBuckets],
      [true, true, true],
    );
    const [object] = ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    assert.match(object.inputs.content, /docker compose -p presentation/);
    // ...and the association only fetches and runs it, naming the script's hash so a change re-runs it.
    const [assoc] = ofType("aws:ssm/association:Association");
    assert.equal(assoc.inputs.name, "AWS-RunShellScript");
    assert.deepEqual(assoc.inputs.targets, [{ key: "InstanceIds", values: ["i-0abc"] }]);
    const command = assoc.inputs.parameters.commands;
    assert.match(
      command,
      /aws s3 cp --only-show-errors --region "\$region" "s3:\/\/firefly-i-0abc-presentation\/apply.sh"/,
    );
    const hash = createHash("sha256").update(object.inputs.content).digest("hex");
    assert.ok(command.includes(`(script ${hash})`));
    assert.ok(command.includes(`echo "${hash}  $script" | sha256sum -c`), "the fetched script is checked");
    assert.ok(command.length < 1024);
    const { plain, wrapped } = scanSecrets([ADMIN_PASSWORD]);
    assert.deepEqual(plain, []);
    assert.ok(wrapped > 0);
  });

  it("says which ShippingPhase output is missing", () => {
    assert.throws(
      () => hosts.deployServices("x", { host: Host.Docker }, grafana(), { parent: new Holder("h4") }),
      /target\.dockerNetwork is required.*ShippingPhase\.dockerNetwork/,
    );
  });
});
