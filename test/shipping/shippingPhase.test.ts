// ShippingPhase under Pulumi mocks: what each host creates, what is open to the internet, where the
// data lives, and that no secret reaches any resource input in plain text.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import type * as shippingModule from "../../components/shipping";
import { Host, Storage } from "../../components/types";
import {
  ACCOUNT,
  API_ENDPOINT,
  generatedSecret,
  installMocks,
  ofType,
  output,
  recorded,
  scanSecrets,
  settle,
} from "./mocks";

let shipping: typeof shippingModule;
const USER_TOKEN = "user-supplied-otlp-token-0123456789";
const USER_KEY = "user-supplied-firehose-key-0123456789";
const USER_DB = "user-supplied-db-password-0123456789";
const KUBECONFIG =
  "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: cluster-token-0123456789}}]\n";

async function deploy(name: string, args: shippingModule.ShippingPhaseArgs) {
  installMocks();
  const phase = new shipping.ShippingPhase(name, args);
  await settle();
  return phase;
}

const generated = (name: string) =>
  ["otlp-token", "firehose-key", "db-password", "db-reader-password", "db-writer-password"].map((r) =>
    generatedSecret(`${name}-${r}`),
  );

function assertNoPlainSecrets(values: string[]) {
  const { plain, wrapped } = scanSecrets(values);
  assert.deepEqual(plain, []);
  assert.ok(wrapped > 0, "the secrets were found inside secret markers (the scan looked at them)");
}

/** The shipping project's apply script, as the SSM association fetches it from the project bucket. */
const shippingApplyScript = (): string =>
  ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) =>
    /docker compose -p shipping/.test(o.inputs.content),
  )?.inputs.content ?? assert.fail("no shipping apply script");

const ingressRules = () =>
  ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);

describe("ShippingPhase (Pulumi mocks)", () => {
  before(async () => {
    installMocks();
    shipping = await import("../../components/shipping");
  });

  describe("docker host, promscale", () => {
    let phase: shippingModule.ShippingPhase;
    before(async () => {
      phase = await deploy("ff", { storage: Storage.Promscale });
    });

    it("runs TimescaleDB, Promscale and the collector on one network, with persistent volumes", () => {
      const containers = ofType("docker:index/container:Container").map((c) => c.inputs.name);
      for (const c of ["ff-timescaledb", "ff-promscale", "ff-collector"])
        assert.ok(containers.includes(c), c);
      assert.deepEqual(
        ofType("docker:index/volume:Volume")
          .map((v) => v.inputs.name)
          .sort(),
        ["ff-collector-queue", "ff-timescaledb-data", "ff-victorialogs-data"],
      );
      const net = ofType("docker:index/network:Network")[0].inputs.name;
      for (const c of ofType("docker:index/container:Container").filter((x) => !x.name.endsWith("-init"))) {
        assert.equal(c.inputs.networksAdvanced[0].name, net);
      }
      assert.deepEqual(ofType("pulumi:providers:docker"), [], "the local engine needs no provider");
    });

    it("publishes only the collector's ingest ports, on 127.0.0.1", () => {
      const published = ofType("docker:index/container:Container").flatMap((c) =>
        (c.inputs.ports ?? []).map((p: any) => `${c.inputs.name} ${p.ip}:${p.external}`),
      );
      assert.deepEqual(published.sort(), [
        "ff-collector 127.0.0.1:4318",
        "ff-collector 127.0.0.1:4433",
        "ff-collector 127.0.0.1:4434",
      ]);
    });

    it("outputs: no public URL on a bare docker host; same-host store URLs; the SQL connection", async () => {
      assert.equal(await output(phase.firehoseUrl), undefined);
      assert.equal(await output(phase.otlpEndpoint), "http://127.0.0.1:4318");
      assert.equal(await output(phase.prometheusUrl), "http://promscale:9201");
      assert.equal(await output(phase.jaegerUrl), "http://promscale:9201");
      assert.equal(await output(phase.dockerNetwork), "ff-firefly");
      assert.equal(await output(phase.instanceId), undefined);
      assert.deepEqual(
        [
          await output(phase.postgresHost),
          await output(phase.postgresPort),
          await output(phase.postgresUser),
        ],
        ["timescaledb", 5432, "firefly_reader"],
      );
      assert.equal(await output(phase.postgresPassword), generatedSecret("ff-db-reader-password"));
    });

    it("generates the secrets once and outputs them as secrets", async () => {
      assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 5);
      for (const o of [phase.otlpToken, phase.firehoseAccessKey, phase.postgresPassword]) {
        assert.equal(await pulumi.isSecret(o), true);
      }
      assert.equal(await output(phase.otlpToken), generatedSecret("ff-otlp-token"));
    });

    it("never puts a secret in plain text into any resource input", () => {
      assertNoPlainSecrets(generated("ff"));
    });
  });

  describe("docker host on a remote engine, prometheus storage, user secrets, public URL", () => {
    let phase: shippingModule.ShippingPhase;
    before(async () => {
      phase = await deploy("rd", {
        storage: Storage.Prometheus,
        docker: { engine: "ssh://ops@docker.example.com", publicUrl: "https://ingest.example.com/" },
        otlpToken: USER_TOKEN,
        firehoseAccessKey: USER_KEY,
      });
    });

    it("creates every docker resource through a provider for that engine", () => {
      const [provider] = ofType("pulumi:providers:docker");
      assert.equal(provider.inputs.host, "ssh://ops@docker.example.com");
      assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 0);
      assert.deepEqual(
        ofType("docker:index/container:Container")
          .filter((c) => !c.name.endsWith("-init"))
          .map((c) => c.inputs.name)
          .sort(),
        ["rd-collector", "rd-jaeger", "rd-prometheus", "rd-victorialogs"],
      );
    });

    it("outputs the public URLs and no SQL connection", async () => {
      assert.equal(await output(phase.firehoseUrl), "https://ingest.example.com/firehose");
      assert.equal(await output(phase.otlpEndpoint), "https://ingest.example.com");
      assert.equal(await output(phase.jaegerUrl), "http://jaeger:16686");
      assert.equal(await output(phase.postgresHost), undefined);
      assert.equal(await output(phase.postgresPassword), undefined);
      assert.equal(
        await pulumi.isSecret(phase.otlpToken),
        true,
        "a plain user-supplied token becomes a secret",
      );
    });

    it("never puts the user's secrets in plain text into any resource input", () => {
      assertNoPlainSecrets([USER_TOKEN, USER_KEY]);
    });
  });

  describe("ec2 host without a domain (API Gateway front)", () => {
    let phase: shippingModule.ShippingPhase;
    before(async () => {
      phase = await deploy("ec", {
        host: Host.Ec2,
        ec2: { adminCidrs: ["203.0.113.0/24"] },
        databasePassword: USER_DB,
      });
    });

    it("opens nothing to the internet: ingest ports only from the VPC link, Grafana only to admin CIDRs", () => {
      const rules = ingressRules();
      assert.ok(!rules.some((r) => r.cidrIpv4 === "0.0.0.0/0" || r.cidrIpv6 === "::/0"));
      const fromLink = rules.filter((r) => r.referencedSecurityGroupId).map((r) => r.fromPort);
      assert.deepEqual(fromLink.sort(), [4318, 4433, 4434]);
      assert.deepEqual(
        rules.filter((r) => r.cidrIpv4).map((r) => `${r.cidrIpv4}:${r.fromPort}`),
        ["203.0.113.0/24:3000"],
      );
    });

    it("routes only the collector paths through API Gateway to Cloud Map over the VPC link", async () => {
      assert.deepEqual(
        ofType("aws:apigatewayv2/route:Route")
          .map((r) => r.inputs.routeKey)
          .sort(),
        ["POST /firehose", "POST /firehose/logs", "POST /v1/logs", "POST /v1/traces"],
      );
      for (const i of ofType("aws:apigatewayv2/integration:Integration")) {
        assert.equal(i.inputs.connectionType, "VPC_LINK");
        assert.match(i.inputs.integrationUri, /^arn:aws:servicediscovery:/);
      }
      assert.deepEqual(
        ofType("aws:servicediscovery/instance:Instance")
          .map((i) => i.inputs.attributes)
          .sort((a, b) => a.AWS_INSTANCE_PORT.localeCompare(b.AWS_INSTANCE_PORT)),
        [
          { AWS_INSTANCE_IPV4: "10.0.1.23", AWS_INSTANCE_PORT: "4318" },
          { AWS_INSTANCE_IPV4: "10.0.1.23", AWS_INSTANCE_PORT: "4433" },
          { AWS_INSTANCE_IPV4: "10.0.1.23", AWS_INSTANCE_PORT: "4434" },
        ],
      );
      assert.equal(await output(phase.firehoseUrl), `${API_ENDPOINT}/firehose`);
      assert.equal(await output(phase.firehoseLogsUrl), `${API_ENDPOINT}/firehose/logs`);
      assert.equal(await output(phase.otlpEndpoint), API_ENDPOINT);
    });

    it("an Amazon Linux 2023 x86_64 instance with IMDSv2, SSM and the data on a separate encrypted EBS volume", async () => {
      const [instance] = ofType("aws:ec2/instance:Instance");
      assert.equal(instance.inputs.ami, "ami-0al2023x86");
      assert.equal(instance.inputs.instanceType, "t3.medium");
      assert.equal(instance.inputs.subnetId, "subnet-aaaa", "first default subnet, sorted");
      assert.equal(instance.inputs.metadataOptions.httpTokens, "required");
      const [volume] = ofType("aws:ebs/volume:Volume");
      assert.deepEqual(
        [volume.inputs.size, volume.inputs.encrypted, volume.inputs.availabilityZone],
        [50, true, "eu-west-1a"],
      );
      const [attach] = ofType("aws:ec2/volumeAttachment:VolumeAttachment");
      assert.equal(attach.inputs.volumeId, "ec-data-id");
      assert.equal(attach.inputs.instanceId, "ec-instance-id");
      // No managed policy: AmazonSSMManagedInstanceCore would allow reading every parameter.
      assert.deepEqual(ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
      const [role] = ofType("aws:iam/role:Role");
      assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, {
        Service: "ec2.amazonaws.com",
      });
      assert.equal(await output(phase.instanceId), "ec-instance-id");
    });

    it("user data only installs Docker and mounts that volume; an SSM association applies the services", () => {
      const [instance] = ofType("aws:ec2/instance:Instance");
      const script = gunzipSync(Buffer.from(instance.inputs.userDataBase64, "base64")).toString();
      assert.match(script, /dnf install -y docker/);
      assert.match(script, /nvme-Amazon_Elastic_Block_Store_ecdataid/);
      assert.doesNotMatch(script, /docker compose|collector/);
      const apply = shippingApplyScript();
      assert.match(apply, /docker compose -p shipping/);
      assert.match(apply, /--name "\/firefly\/\$iid\/shipping"/);
      const [assoc] = ofType("aws:ssm/association:Association");
      assert.deepEqual(assoc.inputs.targets, [{ key: "InstanceIds", values: ["ec-instance-id"] }]);
      assert.match(assoc.inputs.parameters.commands, /s3:\/\/firefly-ec-instance-id-shipping\/apply.sh/);
    });

    it("a collector change updates the services in place: same user data, a new apply script", async () => {
      const userData = ofType("aws:ec2/instance:Instance")[0].inputs.userDataBase64;
      const before = shippingApplyScript();
      await deploy("ec", {
        host: Host.Ec2,
        ec2: { adminCidrs: ["203.0.113.0/24"] },
        databasePassword: USER_DB,
        samplingPercent: 20,
      });
      assert.equal(ofType("aws:ec2/instance:Instance")[0].inputs.userDataBase64, userData);
      assert.notEqual(shippingApplyScript(), before);
      const [volume] = ofType("aws:ebs/volume:Volume");
      assert.equal(volume.inputs.size, 50);
      // Put the first deployment back for the tests that follow.
      await deploy("ec", {
        host: Host.Ec2,
        ec2: { adminCidrs: ["203.0.113.0/24"] },
        databasePassword: USER_DB,
      });
    });

    it("secrets go to a SecureString; the role reads only this instance's parameters and buckets", () => {
      const [param] = ofType("aws:ssm/parameter:Parameter");
      assert.equal(param.inputs.type, "SecureString");
      assert.equal(param.inputs.name, "/firefly/ec-instance-id/shipping");
      const policy = ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "ec-secrets-read");
      const doc = JSON.parse(policy!.inputs.policy);
      assert.deepEqual(doc.Statement, [
        {
          Sid: "OwnParameters",
          Effect: "Allow",
          Action: ["ssm:GetParameter"],
          Resource: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/firefly/ec-instance-id/*`,
        },
        {
          Sid: "OwnProjectBundles",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: "arn:aws:s3:::firefly-ec-instance-id-*/*",
          Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } },
        },
      ]);
    });

    it("never puts a secret in plain text into any resource input", () => {
      assertNoPlainSecrets([USER_DB, ...generated("ec").filter((s) => !s.includes("dbpassword"))]);
    });
  });

  describe("ec2 host with a domain (Caddy front)", () => {
    let phase: shippingModule.ShippingPhase;
    before(async () => {
      phase = await deploy("ed", {
        host: Host.Ec2,
        ec2: { domain: "firefly.example.com", subnetId: "subnet-0123456789abcdef0" },
      });
    });

    it("opens exactly 80 and 443 to the internet, and no API Gateway exists", () => {
      const world = ingressRules().filter((r) => r.cidrIpv4 === "0.0.0.0/0");
      assert.deepEqual(world.map((r) => r.fromPort).sort(), [443, 80]);
      assert.equal(ingressRules().length, 2);
      assert.deepEqual(ofType("aws:apigatewayv2/api:Api"), []);
    });

    it("Caddy serves the domain and the URLs use it; an Elastic IP keeps the address for DNS", async () => {
      const [instance] = ofType("aws:ec2/instance:Instance");
      assert.equal(instance.inputs.subnetId, "subnet-0123456789abcdef0");
      const script = shippingApplyScript();
      const encoded = script.match(
        /<<'FIREFLY_B64' \| gunzip > "\$dir\/files\/caddy\/etc__caddy__Caddyfile"\n([\s\S]*?)\nFIREFLY_B64/,
      )![1];
      const caddyfile = gunzipSync(Buffer.from(encoded, "base64")).toString();
      assert.match(caddyfile, /^firefly\.example\.com \{$/m);
      assert.match(caddyfile, /handle \/firehose \{\n {4}reverse_proxy collector:4433/);
      assert.equal(ofType("aws:ec2/eip:Eip").length, 1);
      assert.equal(await output(phase.firehoseUrl), "https://firefly.example.com/firehose");
    });

    it("never puts a secret in plain text into any resource input", () => {
      assertNoPlainSecrets(generated("ed"));
    });
  });

  describe("kubernetes host with an Ingress", () => {
    let phase: shippingModule.ShippingPhase;
    before(async () => {
      phase = await deploy("k8", {
        host: Host.Kubernetes,
        storage: Storage.Promscale,
        kubernetes: {
          kubeconfig: KUBECONFIG,
          namespace: "obs",
          ingressHost: "ingest.example.com",
          ingressClass: "nginx",
        },
      });
    });

    it("creates the namespace and raw manifests through a provider from the kubeconfig", () => {
      assert.equal(ofType("pulumi:providers:kubernetes").length, 1);
      assert.equal(ofType("kubernetes:core/v1:Namespace")[0].inputs.metadata.name, "obs");
      const kinds = recorded.filter(
        (r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace",
      );
      for (const r of kinds) assert.equal(r.inputs.metadata.namespace, "obs", r.name);
      const names = (t: string) =>
        ofType(t)
          .map((r) => r.inputs.metadata.name)
          .sort();
      assert.deepEqual(names("kubernetes:apps/v1:StatefulSet"), ["collector", "timescaledb", "victorialogs"]);
      assert.deepEqual(names("kubernetes:apps/v1:Deployment"), ["promscale"]);
      assert.deepEqual(names("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"), ["collector"]);
      assert.deepEqual(names("kubernetes:policy/v1:PodDisruptionBudget"), ["collector"]);
      assert.deepEqual(names("kubernetes:core/v1:Secret"), [
        "collector-secrets",
        "promscale-secrets",
        "timescaledb-secrets",
      ]);
    });

    it("exposes only the collector paths through a TLS Ingress, no LoadBalancer", async () => {
      const [ing] = ofType("kubernetes:networking.k8s.io/v1:Ingress");
      assert.equal(ing.inputs.spec.ingressClassName, "nginx");
      assert.deepEqual(ing.inputs.spec.tls, [
        { hosts: ["ingest.example.com"], secretName: "firefly-ingest-tls" },
      ]);
      assert.deepEqual(
        ing.inputs.spec.rules[0].http.paths.map((p: any) => `${p.path}->${p.backend.service.port.number}`),
        ["/v1/traces->4318", "/v1/logs->4318", "/firehose->4433", "/firehose/logs->4434"],
      );
      assert.ok(!ofType("kubernetes:core/v1:Service").some((s) => s.inputs.spec.type === "LoadBalancer"));
      assert.equal(await output(phase.firehoseUrl), "https://ingest.example.com/firehose");
      assert.equal(await output(phase.kubernetesNamespace), "obs");
    });

    it("never puts a secret (or the kubeconfig) in plain text into any resource input", () => {
      assertNoPlainSecrets([...generated("k8"), KUBECONFIG]);
    });
  });

  describe("kubernetes host without ingress", () => {
    it("falls back to a LoadBalancer for OTLP and has no Firehose URL", async () => {
      const phase = await deploy("kl", { host: Host.Kubernetes });
      assert.deepEqual(ofType("pulumi:providers:kubernetes"), [], "the ambient kubeconfig needs no provider");
      const lb = ofType("kubernetes:core/v1:Service").filter((s) => s.inputs.spec.type === "LoadBalancer");
      assert.deepEqual(
        lb.map((s) => s.inputs.metadata.name),
        ["collector-public"],
      );
      assert.equal(await output(phase.firehoseUrl), undefined);
      assert.equal(await output(phase.otlpEndpoint), "http://lb.example.net:4318");
    });
  });

  describe("validation", () => {
    it("refuses bad settings before any resource exists, naming each", async () => {
      installMocks();
      assert.throws(
        () =>
          new shipping.ShippingPhase("bad", {
            samplingPercent: 150,
            otlpToken: "short",
            ec2: { instanceType: "t3.small" },
          }),
        (e: Error) =>
          /samplingPercent: 150/.test(e.message) &&
          /otlpToken: must be at least 16 characters/.test(e.message) &&
          /ec2: settings given but host is docker/.test(e.message),
      );
      await settle(50);
      assert.deepEqual(
        recorded.filter((r) => r.type !== "firefly:index:ShippingPhase"),
        [],
      );
    });
  });
});
