import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { caddyService } from "../../components/hosts/caddy";
import {
  gzipUserData,
  projectBucketName,
  renderApplyScript,
  renderBootstrapScript,
  renderFetchAndApply,
  renderSecretBundle,
} from "../../components/hosts/cloudInit";
import {
  DATA_MOUNT,
  EC2_NETWORK,
  type ResolvedService,
  renderComposeProject,
} from "../../components/hosts/compose";
import { ec2Publish } from "../../components/hosts/ec2";
import { collectorRoutes } from "../../components/shipping";
import { Storage } from "../../components/types";
import { requireTool, resolve, SECRET_PASSWORD, sampleServices, shippingServices } from "./helpers";

async function rendered(publish = ec2Publish(undefined)) {
  const services = (await resolve(sampleServices())) as ResolvedService[];
  return renderComposeProject(services, { publish });
}

/** The files the apply script writes, decoded from its heredocs. */
function writtenFiles(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /base64 -d <<'FIREFLY_B64' \| gunzip > "\$dir\/([^"]+)"\n([\s\S]*?)\nFIREFLY_B64/g;
  for (const m of script.matchAll(re)) {
    out[m[1]] = gunzipSync(Buffer.from(m[2].replace(/\n/g, ""), "base64")).toString();
  }
  return out;
}

const bashSyntaxOk = (script: string) => execFileSync("bash", ["-n"], { input: script });

describe("ec2 compose project", () => {
  it("renders every service on the shared external network with volumes on the data mount", async () => {
    const project = await rendered();
    const compose = parse(project.compose);
    assert.deepEqual(Object.keys(compose.services), ["store", "ingest"]);
    assert.deepEqual(compose.networks, { [EC2_NETWORK]: { external: true, name: EC2_NETWORK } });
    assert.deepEqual(compose.services.store.volumes, [
      `${DATA_MOUNT}/volumes/store-data:/data`,
      "./files/store/etc__store__store.conf:/etc/store/store.conf:ro",
      "./files/store/etc__store__tls.key:/etc/store/tls.key:ro",
    ]);
    assert.deepEqual(compose.services.ingest.depends_on, ["store"]);
    assert.equal(compose.services.store.user, "1000:1000");
    assert.deepEqual(project.volumes, [{ dir: `${DATA_MOUNT}/volumes/store-data`, owner: "1000:1000" }]);
  });

  it("keeps secrets out of the compose file and plain files, in 0600 secret files only", async () => {
    const project = await rendered();
    assert.ok(!project.compose.includes(SECRET_PASSWORD));
    assert.ok(!JSON.stringify(project.files).includes("-----KEY-----"));
    assert.deepEqual(parse(project.compose).services.store.env_file, ["secrets/store.env"]);
    assert.equal(project.secretFiles["secrets/store.env"], `STORE_PASSWORD=${SECRET_PASSWORD}\n`);
    assert.equal(project.secretFiles["files/store/etc__store__tls.key"], "-----KEY-----");
    assert.deepEqual(JSON.parse(renderSecretBundle(project)), project.secretFiles);
  });

  it("publishes public ports on all addresses without a domain, and only Caddy's behind one", async () => {
    assert.deepEqual(parse((await rendered()).compose).services.ingest.ports, ["0.0.0.0:4318:4318"]);
    assert.equal(
      parse((await rendered(ec2Publish("firefly.example.com"))).compose).services.ingest.ports,
      undefined,
    );
    assert.equal(ec2Publish("firefly.example.com")({ name: "caddy" } as ResolvedService, 443), "0.0.0.0");
  });
});

/** compose-check (built by .ci/setup.d/55-compose-check.sh) loads a project as `docker compose` would. */
function composeCheck(files: Record<string, string>): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const bin = requireTool("compose-check", "55-compose-check.sh");
  const dir = mkdtempSync(path.join(tmpdir(), "ff-compose-"));
  try {
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return spawnSync(bin, [path.join(dir, "compose.yaml")], { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("ec2 compose project, loaded by the Compose library", () => {
  it("loads, with the secret env files read into each service's environment", async () => {
    const project = await rendered();
    const r = composeCheck({ "compose.yaml": project.compose, ...project.files, ...project.secretFiles });
    assert.equal(r.status, 0, r.stderr);
    const loaded = parse(r.stdout);
    assert.equal(loaded.services.store.environment.STORE_PASSWORD, SECRET_PASSWORD);
    assert.equal(loaded.services.store.environment.MODE, "single");
    assert.equal(loaded.services.ingest.ports[0].published, "4318");
    assert.deepEqual(Object.keys(loaded.services.ingest.networks), [EC2_NETWORK]);
    assert.equal(loaded.networks[EC2_NETWORK].external, true);
  });

  for (const storage of [Storage.Promscale, Storage.Prometheus]) {
    it(`the real shipping project (${storage}, collector, Caddy) loads`, async () => {
      const services = [...shippingServices(storage), caddyService("firefly.example.com", collectorRoutes())];
      const project = renderComposeProject((await resolve(services)) as ResolvedService[], {
        publish: ec2Publish("firefly.example.com"),
      });
      const r = composeCheck({ "compose.yaml": project.compose, ...project.files, ...project.secretFiles });
      assert.equal(r.status, 0, r.stderr);
      const loaded = parse(r.stdout);
      assert.equal(loaded.services.collector.environment.FIREFLY_OTLP_TOKEN, "t".repeat(40));
      assert.deepEqual(
        Object.entries(loaded.services)
          .filter(([, svc]: [string, any]) => svc.ports)
          .map(([name]) => name),
        ["caddy"],
      );
    });
  }

  it("the checker refuses what Compose refuses (a missing env file, an unknown key)", async () => {
    const project = await rendered();
    assert.notEqual(composeCheck({ "compose.yaml": project.compose, ...project.files }).status, 0);
    assert.notEqual(composeCheck({ "compose.yaml": `${project.compose}bogus: 1\n` }).status, 0);
  });
});

describe("ec2 scripts", () => {
  it("apply script is valid bash, writes the rendered files byte for byte and carries no secret", async () => {
    const project = await rendered();
    const script = renderApplyScript({ project: "shipping", rendered: project });
    bashSyntaxOk(script);
    assert.deepEqual(writtenFiles(script), { "compose.yaml": project.compose, ...project.files });
    assert.ok(!script.includes(SECRET_PASSWORD) && !script.includes("-----KEY-----"));
    assert.match(script, /--name "\/firefly\/\$iid\/shipping" --with-decryption/);
    assert.match(script, /install -d -o 1000 -g 1000 \/var\/lib\/firefly\/volumes\/store-data/);
    assert.match(script, /docker compose -p shipping -f "\$dir\/compose.yaml" up -d --remove-orphans\n$/);
  });

  it("the SSM command only fetches the apply script from the project bucket and runs it", () => {
    const command = renderFetchAndApply({
      project: "presentation",
      bucket: "b",
      key: "apply.sh",
      scriptHash: "a".repeat(64),
    });
    bashSyntaxOk(command);
    assert.match(
      command,
      /aws s3 cp --only-show-errors --region "\$region" "s3:\/\/b\/apply.sh" "\$script"\necho "a{64} {2}\$script" \| sha256sum -c --quiet - \|\| \{[^\n]*exit 1; \}\nbash "\$script"\n$/,
    );
  });

  it("project bucket names fit S3's 63 characters and stay distinct", () => {
    const id = "i-0123456789abcdef0";
    assert.equal(projectBucketName(id, "presentation"), `firefly-${id}-presentation`);
    const a = projectBucketName(id, "a-very-long-presentation-project-name-one");
    const b = projectBucketName(id, "a-very-long-presentation-project-name-two");
    assert.ok(a.length <= 63 && b.length <= 63 && a !== b, `${a} ${b}`);
    assert.ok(a.startsWith(`firefly-${id}-a-very-long`));
  });

  it("apply script refuses a project name that is not a DNS label", async () => {
    const project = await rendered();
    assert.throws(() => renderApplyScript({ project: "Bad Name;rm", rendered: project }), /DNS label/);
  });

  it("bootstrap is valid bash, finds the data volume by its NVMe serial and never reformats it", () => {
    const script = renderBootstrapScript({ dataVolumeId: "vol-0abc123" });
    bashSyntaxOk(script);
    assert.match(script, /nvme-Amazon_Elastic_Block_Store_vol0abc123/);
    assert.match(script, /blkid "\$device" >\/dev\/null \|\| mkfs\.xfs "\$device"/);
    assert.match(script, /docker network create firefly/);
  });

  it("user data is gzip of bootstrap then apply, one shebang, within the 16 KB limit", async () => {
    const project = await rendered();
    const bootstrap = renderBootstrapScript({ dataVolumeId: "vol-1" });
    const apply = renderApplyScript({ project: "shipping", rendered: project });
    const text = gunzipSync(Buffer.from(gzipUserData([bootstrap, apply]), "base64")).toString();
    bashSyntaxOk(text);
    assert.equal(text.match(/^#!/gm)?.length, 1);
    assert.ok(text.indexOf("mkfs.xfs") < text.indexOf("docker compose -p shipping"));
    assert.throws(() => gzipUserData([bootstrap, randomBytes(20000).toString("base64")]), /limit is 16384/);
  });
});
