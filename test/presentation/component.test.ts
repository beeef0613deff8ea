// PresentationPhase under Pulumi mocks (the engine and the cloud providers are all that is mocked):
// the Grafana service lands on each host, secrets never appear outside secret markers, and the
// provisioning files and dashboards are mounted.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import type * as pulumiType from "@pulumi/pulumi";
import { parse } from "yaml";
import { Host, Storage } from "../../components/types";
import { generatedSecret, ofType, output, recorded, scanSecrets, settle } from "../shipping/mocks";
import { installPresentationMocks, MOCK_PRIVATE_KEY, PUBLIC_IP } from "./mocks";

type Module = typeof import("../../components/presentation");
const ADMIN_PASSWORD = "UserChosen-Admin-Password-777";
const DB_PASSWORD = "Reader-Password-For-Sql-888";
const SMTP_PASSWORD = "Smtp-Relay-Password-999";
/** Each value is found inside a secret marker somewhere and nowhere outside one. */
function assertOnlySecret(values: string[]) {
  assert.deepEqual(scanSecrets(values).plain, []);
  for (const v of values) assert.ok(scanSecrets([v]).wrapped > 0, `${v} never reached a resource`);
}
const unwrap = (v: any) => (v && typeof v === "object" && "value" in v ? v.value : v);
/** The files an ec2 apply script writes (gzip + base64 heredocs), decoded. */
const heredocs = (script: string) =>
  [...script.matchAll(/<<'FIREFLY_B64'[^\n]*\n([\s\S]*?)\nFIREFLY_B64/g)].map((m) =>
    gunzipSync(Buffer.from(m[1].replace(/\s/g, ""), "base64")).toString("utf8"),
  );
const shipping = {
  prometheusUrl: "http://promscale:9201",
  jaegerUrl: "http://promscale:9201",
};

describe("PresentationPhase (mocks)", () => {
  let m: Module;
  let pulumi: typeof pulumiType;

  before(async () => {
    installPresentationMocks();
    pulumi = await import("@pulumi/pulumi");
    m = await import("../../components/presentation");
  });
  beforeEach(() => {
    recorded.length = 0;
  });

  const postgres = () => ({
    host: "timescaledb",
    port: 5432,
    database: "postgres",
    user: "firefly_reader",
    password: pulumi.secret(DB_PASSWORD),
  });

  it("docker: one Grafana container on the pipeline's network, files uploaded, secrets only as secrets", async () => {
    const phase = new m.PresentationPhase("pres", {
      host: Host.Docker,
      storage: Storage.Promscale,
      dockerNetwork: "firefly-net",
      ...shipping,
      postgres: postgres(),
      adminPassword: pulumi.secret(ADMIN_PASSWORD),
      alerts: { emails: ["oncall@example.com"] },
      // Existing functions: their timeouts come from AWS (15 s in the mock); explicit ones win.
      functions: ["billing", "arn:aws:lambda:eu-west-1:123456789012:function:orders:live"],
      // As EmitPhase would hand them over: known only at deploy time.
      functionTimeouts: pulumi.output({ orders: 30 }),
      smtp: {
        host: "smtp.example.com:587",
        fromAddress: "grafana@example.com",
        password: pulumi.secret(SMTP_PASSWORD),
      },
    });
    assert.equal(await output(phase.grafanaUrl), "http://127.0.0.1:3000");
    assert.equal(await pulumi.isSecret(phase.grafanaAdminPassword), true);
    await settle();
    const containers = ofType("docker:index/container:Container").filter((c) =>
      c.inputs.name?.endsWith("grafana"),
    );
    assert.equal(containers.length, 1);
    const c = containers[0].inputs;
    assert.deepEqual(c.networksAdvanced, [{ name: "firefly-net", aliases: ["grafana"] }]);
    assert.deepEqual(c.ports, [{ internal: 3000, external: 3000, ip: "127.0.0.1" }]);
    assert.ok(unwrap(c.envs).includes("GF_SERVER_ROOT_URL=http://127.0.0.1:3000"));
    const uploads = c.uploads.map((u: any) => u.file).sort();
    for (const f of [
      "/etc/grafana/provisioning/datasources/firefly.yaml",
      "/etc/grafana/provisioning/dashboards/firefly.yaml",
      "/etc/grafana/provisioning/alerting/firefly.yaml",
      "/etc/grafana/dashboards/firefly/overview.json",
      "/etc/grafana/dashboards/firefly/function.json",
      "/etc/grafana/dashboards/firefly/pipeline.json",
    ]) {
      assert.ok(uploads.includes(f), `${f} not uploaded: ${uploads}`);
    }
    const datasources = c.uploads.find((u: any) => u.file.includes("datasources")).content;
    assert.match(datasources, /uid: firefly-promscale-sql/);
    const alerting = c.uploads.find((u: any) => u.file.includes("alerting")).content;
    assert.match(alerting, /uid: firefly-p99-near-timeout/);
    assert.match(alerting, /label_replace\(vector\(30000\), "FunctionName", "orders"/);
    assert.match(alerting, /label_replace\(vector\(15000\), "FunctionName", "billing"/);
    assert.doesNotMatch(alerting, /vector\(15000\), "FunctionName", "orders"/);
    assert.match(alerting, /addresses: oncall@example.com/);
    assertOnlySecret([ADMIN_PASSWORD, DB_PASSWORD, SMTP_PASSWORD, generatedSecret("pres-secret-key")]);
    // No admin password was generated: the user's is used.
    assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 1);
  });

  it("points the logs datasource at the log store ShippingPhase names: yours with storage external, else Firefly's", async () => {
    const logsDatasource = (name: string) => {
      const c = ofType("docker:index/container:Container").find(
        (r) => r.name.startsWith(`${name}-`) && r.inputs.name?.endsWith("grafana"),
      )!;
      const file = unwrap(c.inputs.uploads).find((u: any) => u.file.includes("datasources")).content;
      return parse(file).datasources.find((d: any) => d.uid === "firefly-logs");
    };
    new m.PresentationPhase("ext", {
      storage: Storage.External,
      dockerNetwork: "firefly-net",
      prometheusUrl: "https://vmselect.example.com/select/0/prometheus",
      jaegerUrl: "https://jaeger-query.example.com",
      // As ShippingPhase hands it over: an output.
      logsUrl: pulumi.output("https://vlselect.example.com"),
    });
    new m.PresentationPhase("own", {
      storage: Storage.Prometheus,
      dockerNetwork: "firefly-net",
      ...shipping,
    });
    await settle();
    assert.equal(logsDatasource("ext").url, "https://vlselect.example.com");
    assert.equal(logsDatasource("ext").type, "victoriametrics-logs-datasource");
    assert.equal(logsDatasource("own").url, "http://victorialogs:9428");
  });

  it("docker off loopback: Grafana is public, so it serves HTTPS with a self-signed certificate", async () => {
    const phase = new m.PresentationPhase("pub", {
      storage: Storage.Prometheus,
      docker: { bindAddress: "0.0.0.0" },
      dockerNetwork: "firefly-net",
      ...shipping,
    });
    assert.equal(await output(phase.grafanaUrl), "https://0.0.0.0:3000");
    await settle();
    assert.equal(ofType("tls:index/selfSignedCert:SelfSignedCert").length, 1);
    const c = ofType("docker:index/container:Container").find((r) =>
      r.inputs.name?.endsWith("grafana"),
    )!.inputs;
    assert.ok(unwrap(c.envs).includes("GF_SERVER_PROTOCOL=https"));
    assert.ok(unwrap(c.uploads).some((u: any) => u.file === "/etc/grafana/tls/key.pem"));
    assertOnlySecret([MOCK_PRIVATE_KEY, generatedSecret("pub-admin-password")]);
  });

  it("kubernetes: a StatefulSet in the pipeline's namespace, files from a ConfigMap, secrets from a Secret", async () => {
    const phase = new m.PresentationPhase("k", {
      host: Host.Kubernetes,
      storage: Storage.Prometheus,
      kubernetesNamespace: "firefly",
      ...shipping,
      adminPassword: pulumi.secret(ADMIN_PASSWORD),
    });
    assert.equal(await output(phase.grafanaUrl), "http://localhost:3000");
    await settle();
    const kinds = recorded
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => `${r.type}:${r.inputs.metadata?.name ?? ""}`);
    const sts = recorded.find(
      (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.metadata?.name === "grafana",
    );
    assert.ok(sts, `no grafana StatefulSet among ${kinds.join(", ")}`);
    assert.equal(sts.inputs.metadata.namespace, "firefly");
    const mounts = sts.inputs.spec.template.spec.containers[0].volumeMounts.map((v: any) => v.mountPath);
    assert.ok(mounts.includes("/var/lib/grafana"), `mounts: ${mounts}`);
    assert.ok(
      mounts.some((p: string) => p.startsWith("/etc/grafana/provisioning")),
      `mounts: ${mounts}`,
    );
    assert.ok(recorded.some((r) => r.type === "kubernetes:core/v1:Secret"));
    assertOnlySecret([ADMIN_PASSWORD, generatedSecret("k-secret-key")]);
  });

  it("ec2: applied to the pipeline's instance through SSM; HTTPS on the public IP when adminCidrs are set", async () => {
    const phase = new m.PresentationPhase("e", {
      host: Host.Ec2,
      storage: Storage.Promscale,
      ec2: { adminCidrs: ["203.0.113.0/24"] },
      instanceId: "i-0123456789abcdef0",
      ...shipping,
      postgres: postgres(),
      adminPassword: pulumi.secret(ADMIN_PASSWORD),
    });
    assert.equal(await output(phase.grafanaUrl), `https://${PUBLIC_IP}:3000`);
    await settle();
    const association = ofType("aws:ssm/association:Association")[0];
    assert.ok(association, "no SSM association");
    assert.deepEqual(association.inputs.targets, [{ key: "InstanceIds", values: ["i-0123456789abcdef0"] }]);
    // The association fetches the apply script from the instance's private bucket.
    const script = ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.inputs.key === "apply.sh");
    assert.ok(script, "no apply script object");
    const files = heredocs(unwrap(script.inputs.content));
    const compose = files.find((f) => f.startsWith("services:"))!;
    assert.match(compose, /image: grafana\/grafana:12\.4\.5/);
    assert.match(compose, /:\/etc\/grafana\/provisioning\/datasources\/firefly\.yaml:ro/);
    assert.match(compose, /- 0\.0\.0\.0:3000:3000/);
    assert.ok(
      files.some((f) => f.includes("uid: firefly-promscale-sql")),
      "datasources file not written",
    );
    assert.ok(
      files.some((f) => f.includes('"uid":"firefly-overview"')),
      "overview dashboard not written",
    );
    const parameter = ofType("aws:ssm/parameter:Parameter")[0];
    assert.equal(parameter.inputs.type, "SecureString");
    for (const f of files)
      for (const s of [ADMIN_PASSWORD, DB_PASSWORD, MOCK_PRIVATE_KEY]) assert.ok(!f.includes(s));
    assertOnlySecret([ADMIN_PASSWORD, DB_PASSWORD, MOCK_PRIVATE_KEY]);
  });

  it("stops before creating anything when the settings are wrong", async () => {
    assert.throws(
      () => new m.PresentationPhase("bad", { host: Host.Docker, storage: Storage.Promscale, ...shipping }),
      /dockerNetwork: required on host docker[\s\S]*postgres: required with storage promscale/,
    );
    await settle();
    assert.deepEqual(
      recorded.filter((r) => r.name.startsWith("bad-")),
      [],
    );
  });
});
