// Rules that keep the stack configuration from opening doors or leaking what it holds: a kubeconfig only
// as a Pulumi secret, a remote Docker engine only over TLS, no plain-HTTP port bound to a public
// address, Grafana open to the whole internet only when someone says so, and no secret (or anything
// that looks like one) repeated in an error message, typo hints included. Pure.
import type { ConfigProblem } from "./config";

/** Setting names whose values are credentials. */
const SECRET_FIELD = /kubeconfig|password|passwd|token|secret|credential|private|apikey|accesskey/i;
/** Field names inside structured settings, near misses included (a typo must not echo a kubeconfig). */
const SECRET_LEAF = /kube|pass|tok|secr|cred|priv|apikey|accesskey/i;
const isSecretLeaf = (key: string) => SECRET_LEAF.test(key) && !/Name$/.test(key);

/** Values that look like credentials whatever key they sit under. */
export function looksSecret(value: string): boolean {
  if (/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/.test(value)) return true;
  // A kubeconfig (YAML or JSON) names its kind and carries clusters/users.
  if (/kind["']?\s*:\s*["']?Config\b/.test(value) && /users|clusters/.test(value)) return true;
  if (/\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(value)) return true;
  if (/^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) return true; // JWT
  // A long token of mixed case and digits with no separators people put in names or addresses.
  return (
    value.length >= 24 &&
    /^[A-Za-z0-9+/=_]+$/.test(value) &&
    /[a-z]/.test(value) &&
    /[A-Z]/.test(value) &&
    /\d/.test(value)
  );
}

function leaves(value: unknown, under: string, out: { key: string; value: string }[]): void {
  if (typeof value === "string") out.push({ key: under, value });
  else if (Array.isArray(value)) for (const v of value) leaves(v, under, out);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) leaves(v, k, out);
}

/**
 * Every string in the raw config an error must not repeat: values of secret settings and of settings
 * stored as secrets, values under credential-like field names, and values that look like credentials.
 */
export function sensitiveStrings(
  values: Record<string, string | undefined>,
  secretKeys: ReadonlySet<string> | undefined,
  isSecretSetting: (name: string) => boolean,
): string[] {
  const found = new Set<string>();
  for (const [name, text] of Object.entries(values)) {
    if (text === undefined) continue;
    const wholeIsSecret = isSecretSetting(name) || secretKeys?.has(name) || SECRET_FIELD.test(name);
    if (wholeIsSecret || looksSecret(text)) found.add(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    const all: { key: string; value: string }[] = [];
    leaves(parsed, name, all);
    for (const leaf of all)
      if (wholeIsSecret || isSecretLeaf(leaf.key) || looksSecret(leaf.value)) found.add(leaf.value);
  }
  // Short strings (a `true`, a port) would blank out unrelated text and reveal little.
  return [...found].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
}

const HIDDEN = "<hidden>";

function forms(s: string): string[] {
  const json = JSON.stringify(s);
  return [`'${s.replace(/'/g, "'\\''")}'`, json, json.slice(1, -1), s];
}

/** The problem with every sensitive string (in any of the forms an error prints it) replaced. */
export function scrubProblem(problem: ConfigProblem, sensitive: readonly string[]): ConfigProblem {
  let { message, fix, value } = problem;
  for (const s of sensitive) {
    for (const f of forms(s)) {
      message = message.split(f).join(HIDDEN);
      fix = fix.split(f).join(HIDDEN);
    }
    if (value !== undefined && forms(s).some((f) => value!.includes(f))) value = undefined;
  }
  return { ...problem, message, fix, value };
}

// IPv4 loopback, RFC 1918, link-local, CGNAT; IPv6 loopback, unique-local, link-local.
const NON_PUBLIC =
  /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|::1$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)/i;

/** Whether binding here exposes a port beyond private networks (`0.0.0.0` and `::` mean every interface). */
export function isPublicBindAddress(address: string): boolean {
  if (address === "0.0.0.0" || address === "::" || /^0+(:0+)*$/.test(address.replace(/:+/g, ":")))
    return true;
  return !NON_PUBLIC.test(address);
}

export interface HygieneInput {
  readonly host: string;
  readonly docker: { engine?: string; bindAddress?: string; certPath?: string };
  readonly ec2: { adminCidrs?: string[]; adminCidrsOpenToInternet?: boolean };
  readonly kubernetes: { kubeconfig?: string };
  /** Keys (without namespace) stored as Pulumi secrets. */
  readonly secretKeys?: ReadonlySet<string>;
}

export function hygieneChecks(c: HygieneInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (c.kubernetes.kubeconfig !== undefined && !c.secretKeys?.has("kubernetes")) {
    problems.push({
      key: "firefly:kubernetes.kubeconfig",
      message:
        "holds cluster credentials and is stored in plain text; it must be a Pulumi secret (or leave it out and the ambient kubeconfig is used)",
      fix: `pulumi config rm --path firefly:kubernetes.kubeconfig && pulumi config set --path --secret firefly:kubernetes.kubeconfig "$(cat ~/.kube/config)"`,
    });
  }
  const engine = c.docker.engine;
  if (engine?.startsWith("tcp://")) {
    if (c.docker.certPath === undefined) {
      problems.push({
        key: "firefly:docker.engine",
        value: JSON.stringify(engine),
        message:
          "is a Docker engine over TCP without TLS: anyone who can reach it controls the host, and it would carry Firefly's secrets in clear text",
        fix: "pulumi config set --path firefly:docker.certPath ~/.docker/remote  (a directory with ca.pem, cert.pem and key.pem; the engine on port 2376 with --tlsverify), or pulumi config set --path firefly:docker.engine ssh://user@docker-host",
      });
    } else if (/:2375\/?$/.test(engine)) {
      problems.push({
        key: "firefly:docker.engine",
        value: JSON.stringify(engine),
        message: "names port 2375, Docker's plain-text port; with TLS the engine listens on 2376",
        fix: `pulumi config set --path firefly:docker.engine ${engine.replace(/:2375(\/?)$/, ":2376$1")}`,
      });
    }
  }
  if (c.docker.certPath !== undefined && !engine?.startsWith("tcp://")) {
    problems.push({
      key: "firefly:docker.certPath",
      value: JSON.stringify(c.docker.certPath),
      message: "is only used with a tcp:// engine",
      fix: "pulumi config rm --path firefly:docker.certPath",
    });
  }
  const bind = c.docker.bindAddress;
  if (bind !== undefined && isPublicBindAddress(bind)) {
    problems.push({
      key: "firefly:docker.bindAddress",
      value: JSON.stringify(bind),
      message:
        "is a public address: the docker host's ingest ports speak plain HTTP (and Grafana has only a self-signed certificate), so tokens and passwords would cross the internet unprotected. Bind to loopback or a private address and put a TLS proxy in front (firefly:docker.publicUrl)",
      fix: "pulumi config set --path firefly:docker.bindAddress 127.0.0.1",
    });
  }
  const cidrs = c.ec2.adminCidrs ?? [];
  const open = cidrs.findIndex((cidr) => /\/0$/.test(cidr));
  if (open >= 0 && c.ec2.adminCidrsOpenToInternet !== true) {
    problems.push({
      key: `firefly:ec2.adminCidrs[${open}]`,
      value: JSON.stringify(cidrs[open]),
      message:
        "opens Grafana's login page to the whole internet. Name your own address range, or acknowledge it with firefly:ec2.adminCidrsOpenToInternet",
      fix: `pulumi config set --path 'firefly:ec2.adminCidrs[${open}]' 203.0.113.0/24  (or: pulumi config set --path firefly:ec2.adminCidrsOpenToInternet true)`,
    });
  }
  return problems;
}
