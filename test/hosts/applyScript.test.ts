// Runs the ec2 apply script for real (fetched the way the SSM association fetches it), in a private mount namespace where /opt and /var/lib are fresh
// tmpfs, so it writes to its true paths without touching this machine. Docker, the AWS CLI and the
// metadata service cannot run here: small stand-ins on PATH answer for them and log how they were called.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { renderApplyScript, renderFetchAndApply, renderSecretBundle } from "../../components/hosts/cloudInit";
import {
  type ComposeProject,
  type ResolvedService,
  renderComposeProject,
} from "../../components/hosts/compose";
import { ec2Publish } from "../../components/hosts/ec2";
import { resolve, SECRET_PASSWORD, sampleServices } from "./helpers";

const STANDINS: Record<string, string> = {
  docker: `echo "docker $*" >> "$LOG"`,
  mountpoint: "exit 0",
  curl: `echo "curl $*" >> "$LOG"
case "$*" in
  *api/token*) echo token-123 ;;
  *meta-data/instance-id*) echo i-test ;;
  *meta-data/placement/region*) echo eu-west-1 ;;
  *) exit 22 ;;
esac`,
  aws: `echo "aws $*" >> "$LOG"
case "$*" in
  *"--name /firefly/i-test/shipping --with-decryption"*) cat "$BUNDLE" ;;
  *"s3 cp --only-show-errors --region eu-west-1 s3://firefly-i-test-shipping/apply.sh "*) cp "$WORK/script.sh" "\${@: -1}" ;;
  *) exit 255 ;;
esac`,
};

function namespacesWork(): boolean {
  return spawnSync("unshare", ["-m", "--propagation", "private", "true"]).status === 0;
}

describe("ec2 apply script, executed", () => {
  let work: string;
  let out: string;
  let project: ComposeProject;
  let log: string;
  let status: number | null;
  let stderr: string;

  before(async function () {
    if (!namespacesWork()) this.skip(); // needs root (CAP_SYS_ADMIN) for a private mount namespace
    project = renderComposeProject((await resolve(sampleServices())) as ResolvedService[], {
      publish: ec2Publish(undefined),
    });
    work = mkdtempSync(path.join(tmpdir(), "ff-apply-"));
    out = path.join(work, "out");
    const bin = path.join(work, "bin");
    mkdirSync(bin);
    for (const [name, body] of Object.entries(STANDINS)) {
      writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    const applyScript = renderApplyScript({ project: "shipping", rendered: project });
    writeFileSync(path.join(work, "script.sh"), applyScript);
    // Run the way an SSM association does: the small command fetches the apply script and runs it.
    writeFileSync(
      path.join(work, "fetch.sh"),
      renderFetchAndApply({
        project: "shipping",
        bucket: "firefly-i-test-shipping",
        key: "apply.sh",
        scriptHash: createHash("sha256").update(applyScript).digest("hex"),
      }),
    );
    writeFileSync(path.join(work, "bundle.json"), renderSecretBundle(project));
    const r = spawnSync(
      "unshare",
      [
        "-m",
        "--propagation",
        "private",
        "bash",
        "-c",
        `set -e
mount -t tmpfs tmpfs /opt && mount -t tmpfs tmpfs /var/lib && mkdir -p /var/lib/firefly
set +e; PATH="$WORK/bin:$PATH" bash "$WORK/fetch.sh"; rc=$?
mkdir -p "$WORK/out" && cp -a /opt/firefly "$WORK/out/opt" && cp -a /var/lib/firefly "$WORK/out/data"
exit $rc`,
      ],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          WORK: work,
          LOG: path.join(work, "log"),
          BUNDLE: path.join(work, "bundle.json"),
        },
      },
    );
    status = r.status;
    stderr = r.stderr;
    log = readFileSync(path.join(work, "log"), "utf8");
  });

  after(() => work && rmSync(work, { recursive: true, force: true }));

  it("exits 0", () => assert.equal(status, 0, stderr));

  it("lays out the compose file and plain files byte for byte", () => {
    assert.equal(readFileSync(path.join(out, "opt/shipping/compose.yaml"), "utf8"), project.compose);
    for (const [rel, content] of Object.entries(project.files)) {
      assert.equal(readFileSync(path.join(out, "opt/shipping", rel), "utf8"), content, rel);
    }
  });

  it("writes the secret files from the parameter, readable by root only", () => {
    const env = path.join(out, "opt/shipping/secrets/store.env");
    assert.equal(readFileSync(env, "utf8"), `STORE_PASSWORD=${SECRET_PASSWORD}\n`);
    assert.equal(statSync(env).mode & 0o777, 0o600);
    const key = path.join(out, "opt/shipping/files/store/etc__store__tls.key");
    assert.equal(readFileSync(key, "utf8"), "-----KEY-----");
    assert.equal(statSync(key).mode & 0o777, 0o600);
    // Mounted into a container running as 1000: that user must be able to read it.
    assert.deepEqual([statSync(key).uid, statSync(key).gid], [1000, 1000]);
    assert.equal(statSync(path.join(out, "opt/shipping/compose.yaml")).mode & 0o777, 0o644);
  });

  it("creates each volume directory owned by its service's user", () => {
    const dir = statSync(path.join(out, "data/volumes/store-data"));
    assert.deepEqual([dir.uid, dir.gid], [1000, 1000]);
  });

  it("fetches the script, reads this instance's own parameter in its region, then starts the project", () => {
    assert.match(
      log,
      /aws ssm get-parameter --region eu-west-1 --name \/firefly\/i-test\/shipping --with-decryption/,
    );
    assert.match(log, /curl .*X-aws-ec2-metadata-token: token-123/);
    assert.match(
      log,
      /docker compose -p shipping -f \/opt\/firefly\/shipping\/compose.yaml up -d --remove-orphans/,
    );
    assert.ok(log.indexOf("aws s3 cp") < log.indexOf("aws ssm"));
    assert.ok(log.indexOf("aws ssm") < log.indexOf("docker compose"));
  });
});
