// The ec2 host's scripts, pure: a bootstrap (cloud-init user data) that installs Docker, mounts the
// data volume and creates the shared network, and an apply script that lays a Compose project on
// disk and starts it. Every project (shipping, Grafana) runs its apply script through an SSM
// association, so a change updates the services in place and user data never changes with them.
// Secrets never appear in either script: each project's secret files travel as one SSM SecureString
// parameter the instance reads at apply time.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { type ComposeProject, DATA_MOUNT, EC2_NETWORK, PROJECTS_DIR } from "./compose";

/** Docker Compose v2 plugin, pinned (Amazon Linux 2023 packages Docker but not Compose). */
export const COMPOSE_VERSION = "v2.29.7";
/**
 * SHA-256 of that release's docker-compose-linux-x86_64, kept here rather than fetched next to the
 * binary: a checksum from the same place as the download proves nothing if that place is compromised.
 * Source: the integrity recorded for this file by periareon/rules_docker_compose (versions.bzl),
 * generated from the release independently of Firefly. Change it only together with COMPOSE_VERSION.
 */
export const COMPOSE_SHA256 = "383ce6698cd5d5bbf958d2c8489ed75094e34a77d340404d9f32c4ae9e12baf0";

export interface BootstrapOptions {
  /** EBS volume id of the data volume (found by its NVMe serial, whatever the device name). */
  readonly dataVolumeId: string;
}

const RELEASES = "https://github.com/docker/compose/releases/download";

export function renderBootstrapScript(options: BootstrapOptions): string {
  const serial = options.dataVolumeId.replaceAll("-", "");
  return `#!/bin/bash
# Firefly ec2 bootstrap: Docker, Compose, the data volume and the shared network.
set -euo pipefail
dnf install -y docker
systemctl enable --now docker
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
if [ ! -x "$plugin" ]; then
  mkdir -p "$(dirname "$plugin")"
  curl -fsSL -o "$plugin" "${RELEASES}/${COMPOSE_VERSION}/docker-compose-linux-x86_64"
  # Checked against the checksum pinned in Firefly, not one fetched from the same release.
  echo "${COMPOSE_SHA256}  $plugin" | sha256sum -c - || { rm -f "$plugin"; exit 1; }
  chmod 0755 "$plugin"
fi
# The data volume is attached after the instance starts (on replacement, only once the old instance
# has stopped and let go of it); wait for it, up to 30 minutes.
device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}
for _ in $(seq 1 900); do [ -e "$device" ] && break; sleep 2; done
[ -e "$device" ] || { echo "data volume ${options.dataVolumeId} never appeared" >&2; exit 1; }
# Format only an empty volume: a replaced instance finds the previous instance's data intact.
blkid "$device" >/dev/null || mkfs.xfs "$device"
mkdir -p ${DATA_MOUNT}
uuid=$(blkid -s UUID -o value "$device")
grep -q "$uuid" /etc/fstab || echo "UUID=$uuid ${DATA_MOUNT} xfs defaults,nofail 0 2" >> /etc/fstab
mountpoint -q ${DATA_MOUNT} || mount ${DATA_MOUNT}
docker network inspect ${EC2_NETWORK} >/dev/null 2>&1 || docker network create ${EC2_NETWORK}
`;
}

export interface ApplyOptions {
  /** Compose project name (also its directory under PROJECTS_DIR). */
  readonly project: string;
  readonly rendered: ComposeProject;
}

/**
 * SSM SecureString parameter holding a project's secret files as JSON. Keyed by instance id so the
 * instance role can be limited to its own parameters; the script reads its id from the metadata service.
 */
export const secretParameterName = (instanceId: string, project: string) =>
  `/firefly/${instanceId}/${project}`;

// gzip first: dashboards and collector config shrink several times, which keeps user data under 16 KB
// and the SSM command (which carries the presentation project) small.
const heredoc = (content: string) =>
  gzipSync(Buffer.from(content, "utf8")).toString("base64").replace(/.{76}/g, "$&\n");

/** Shell lines that set `iid` and `region` from the instance metadata service (IMDSv2). */
const INSTANCE_FACTS = [
  "imds=http://169.254.169.254/latest",
  `token=$(curl -fsS -X PUT "$imds/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')`,
  'meta() { curl -fsS -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/$1"; }',
  "iid=$(meta instance-id)",
  "region=$(meta placement/region)",
];

/**
 * Bucket holding a project's apply script for SSM to fetch: SSM caps the size of a command's
 * parameters, and a project with dashboards can outgrow it. Named from the instance so the instance
 * role can be limited to its own buckets.
 */
export function projectBucketName(instanceId: string, project: string): string {
  // Bucket names stop at 63 characters; an instance id takes 19. A long project name keeps its start
  // and a hash of the whole, so it stays unique and the role's `firefly-<id>-*` pattern still matches.
  const room = 63 - `firefly-${instanceId}-`.length;
  const short =
    project.length <= room
      ? project
      : `${project.slice(0, room - 9)}-${createHash("sha256").update(project).digest("hex").slice(0, 8)}`;
  return `firefly-${instanceId}-${short}`;
}

export interface FetchOptions {
  readonly project: string;
  readonly bucket: string;
  readonly key: string;
  /**
   * SHA-256 (hex) of the apply script. The fetched script runs only if it matches, so whoever can write
   * to the bucket cannot make the instance run something else; a new script also changes the command,
   * so SSM runs it again.
   */
  readonly scriptHash: string;
}

/** The small command an SSM association runs: fetch the project's apply script and run it. */
export function renderFetchAndApply(options: FetchOptions): string {
  if (!/^[0-9a-f]{64}$/.test(options.scriptHash))
    throw new Error(`scriptHash: "${options.scriptHash}" must be the apply script's SHA-256 in hex`);
  return [
    "#!/bin/bash",
    `# Firefly: apply the ${options.project} project (script ${options.scriptHash}).`,
    "set -euo pipefail",
    ...INSTANCE_FACTS,
    `script=${PROJECTS_DIR}/${options.project}.apply.sh`,
    `install -d -m 0755 ${PROJECTS_DIR}`,
    `aws s3 cp --only-show-errors --region "$region" "s3://${options.bucket}/${options.key}" "$script"`,
    `echo "${options.scriptHash}  $script" | sha256sum -c --quiet - || { rm -f "$script"; echo "apply script does not match its hash" >&2; exit 1; }`,
    'bash "$script"',
    "",
  ].join("\n");
}

export function renderApplyScript(options: ApplyOptions): string {
  const { project, rendered } = options;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(project)) throw new Error(`project ${project}: must be a DNS label`);
  const dir = `${PROJECTS_DIR}/${project}`;
  const hasSecrets = Object.keys(rendered.secretFiles).length > 0;
  const lines = [
    "#!/bin/bash",
    `# Firefly: lay out and start the ${project} Compose project.`,
    "set -euo pipefail",
    "for _ in $(seq 1 300); do docker info >/dev/null 2>&1 && break; sleep 2; done",
    `for _ in $(seq 1 300); do mountpoint -q ${DATA_MOUNT} && break; sleep 2; done`,
    `mountpoint -q ${DATA_MOUNT} || { echo "${DATA_MOUNT} is not mounted" >&2; exit 1; }`,
    `dir=${dir}`,
    'install -d -m 0755 "$dir"',
  ];
  const write = (rel: string, content: string) => {
    lines.push(`install -d -m 0755 "$(dirname "$dir/${rel}")"`);
    lines.push(`base64 -d <<'FIREFLY_B64' | gunzip > "$dir/${rel}"`, heredoc(content), "FIREFLY_B64");
  };
  write("compose.yaml", rendered.compose);
  for (const [rel, content] of Object.entries(rendered.files)) write(rel, content);
  for (const v of rendered.volumes) {
    const [uid, gid] = (v.owner ?? "0:0").split(":");
    lines.push(`install -d -o ${uid} -g ${gid ?? uid} ${v.dir}`);
  }
  if (hasSecrets) {
    // The instance role may read only this instance's parameters; retry while that grant propagates.
    lines.push(
      ...INSTANCE_FACTS,
      "umask 077",
      "for i in $(seq 1 60); do",
      `  if secrets=$(aws ssm get-parameter --region "$region" --name "${secretParameterName("$iid", project)}" --with-decryption --query Parameter.Value --output text); then break; fi`,
      '  [ "$i" = 60 ] && exit 1; sleep 5',
      "done",
      `SECRETS="$secrets" DIR="$dir" python3 - <<'PY'`,
      "import json, os",
      'for rel, content in json.loads(os.environ["SECRETS"]).items():',
      '    path = os.path.join(os.environ["DIR"], rel)',
      "    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)",
      "    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)",
      "    os.write(fd, content.encode())",
      "    os.close(fd)",
      "PY",
      ...Object.entries(rendered.secretOwners).map(([rel, owner]) => `chown ${owner} "$dir/${rel}"`),
      "umask 022",
    );
  }
  lines.push(`docker compose -p ${project} -f "$dir/compose.yaml" up -d --remove-orphans`, "");
  return lines.join("\n");
}

/** Secret files as the JSON document stored in the project's SecureString parameter. */
export function renderSecretBundle(rendered: ComposeProject): string {
  return JSON.stringify(rendered.secretFiles);
}

/** User data is capped at 16 KB; cloud-init accepts gzip, and the collector config compresses well. */
export function gzipUserData(scripts: string[]): string {
  const joined = scripts.map((s, i) => (i === 0 ? s : s.replace(/^#!.*\n/, ""))).join("\n");
  const out = gzipSync(Buffer.from(joined, "utf8")).toString("base64");
  if (out.length > 16384) {
    throw new Error(`ec2 user data is ${out.length} bytes after gzip+base64; the limit is 16384`);
  }
  return out;
}
