// The ec2 bootstrap installs the Compose plugin only if it matches the checksum pinned in Firefly (not
// one fetched from the same release): the install step runs here for real, with a stand-in download.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { COMPOSE_SHA256, renderBootstrapScript } from "../../components/hosts/cloudInit";

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
