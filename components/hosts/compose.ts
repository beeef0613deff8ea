// The ec2 host's rendering: ServiceSpec[] → a Compose project (compose file + files on disk) plus the
// secret files that must never sit in user data or SSM command parameters. Pure and tested directly.
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { ServiceSpec } from "./spec";

/** A ServiceSpec with every Input resolved (`pulumi.output(services).apply(...)`). */
export type ResolvedService = pulumi.Unwrap<ServiceSpec>;

/** The Docker network every Compose project on the instance joins (created by cloud-init). */
export const EC2_NETWORK = "firefly";
/** Mount point of the EBS data volume; service volumes are directories below it. */
export const DATA_MOUNT = "/var/lib/firefly";
/** Where each project's compose file and files live. */
export const PROJECTS_DIR = "/opt/firefly";

export interface ComposeProject {
  /** The compose file (no secrets: env_file references point at the secret files). */
  readonly compose: string;
  /** Files relative to the project directory, not secret. */
  readonly files: Record<string, string>;
  /** Files relative to the project directory holding secrets (env files, secret config): mode 0600. */
  readonly secretFiles: Record<string, string>;
  /** Owner (`uid:gid`) of secret files mounted into a non-root service, which must read them. */
  readonly secretOwners: Record<string, string>;
  /** Data directories to create below DATA_MOUNT, with their owners. */
  readonly volumes: { readonly dir: string; readonly owner?: string }[];
}

export interface ComposeOptions {
  /** Address each public port binds to; undefined keeps a port unpublished (behind a front proxy). */
  readonly publish: (service: ResolvedService, port: number) => string | undefined;
}

// Files are stored flat per service: `files/<service>/<path with / as __>`.
const hostFile = (spec: ResolvedService, file: string) =>
  `files/${spec.name}/${file.replace(/^\//, "").replace(/\//g, "__")}`;

export function renderComposeProject(services: ResolvedService[], options: ComposeOptions): ComposeProject {
  const files: Record<string, string> = {};
  const secretFiles: Record<string, string> = {};
  const secretOwners: Record<string, string> = {};
  const volumes: { dir: string; owner?: string }[] = [];
  const composeServices: Record<string, unknown> = {};
  for (const spec of services) {
    const mounts: string[] = [];
    for (const v of spec.volumes ?? []) {
      const dir = path.posix.join(DATA_MOUNT, "volumes", v.name);
      volumes.push({ dir, owner: v.owner });
      mounts.push(`${dir}:${v.mountPath}`);
    }
    for (const f of spec.files ?? []) {
      const rel = hostFile(spec, f.path);
      (f.secret ? secretFiles : files)[rel] = f.content;
      if (f.secret && spec.user) secretOwners[rel] = spec.user;
      mounts.push(`./${rel}:${f.path}:ro`);
    }
    const env = { ...spec.env, ...(spec.replicaNameEnv ? { [spec.replicaNameEnv]: spec.name } : {}) };
    const envFile = `secrets/${spec.name}.env`;
    const secretEnv = Object.entries(spec.secretEnv ?? {});
    if (secretEnv.length > 0) secretFiles[envFile] = renderEnvFile(secretEnv);
    const ports = spec.ports.flatMap((p) => {
      const address = p.public ? options.publish(spec, p.container) : undefined;
      return address ? [`${address}:${p.container}:${p.container}`] : [];
    });
    composeServices[spec.name] = prune({
      image: spec.image,
      command: spec.args,
      user: spec.user,
      // As on Kubernetes: the image's files cannot be changed from inside; writes go to the volumes,
      // the mounted files' directories stay read-only, and scratch paths are tmpfs.
      read_only: true,
      tmpfs: spec.scratch && spec.scratch.length > 0 ? spec.scratch : undefined,
      environment: Object.keys(env).length > 0 ? env : undefined,
      env_file: secretEnv.length > 0 ? [envFile] : undefined,
      ports: ports.length > 0 ? ports : undefined,
      volumes: mounts.length > 0 ? mounts : undefined,
      depends_on: spec.dependsOn,
      restart: "unless-stopped",
      mem_limit: `${spec.resources.memoryMb}m`,
      cpus: spec.resources.cpu,
      networks: [EC2_NETWORK],
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } },
    });
  }
  const compose = stringify({
    services: composeServices,
    networks: { [EC2_NETWORK]: { external: true, name: EC2_NETWORK } },
  });
  return { compose, files, secretFiles, secretOwners, volumes };
}

/** Renders resolved `KEY=value` lines; values must be single-line (generated secrets are alphanumeric). */
export function renderEnvFile(entries: [string, string][]): string {
  for (const [key, value] of entries) {
    if (/[\r\n]/.test(value)) throw new Error(`secret env ${key}: values must be a single line`);
  }
  return entries.map(([k, v]) => `${k}=${v}\n`).join("");
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
