// The docker host's adapter: ServiceSpec → container arguments (pure, tested directly) and the
// resources that run them on one engine — the local one, or a remote one through a provider when
// `engine` is set. Every service joins one bridge network and reaches the others by name.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { pinImage } from "../imageDigests";
import type { BesideRequest, HostAdapter, PlaceRequest } from "./adapter";
import { requiredFact } from "./placement";
import { DEFAULT_BIND_ADDRESS, dockerProfile } from "./profiles/docker";
import type { ServiceSpec, ServiceVolume } from "./spec";

export { DEFAULT_BIND_ADDRESS } from "./profiles/docker";

/** Used once per owned volume to hand a fresh, root-owned Docker volume to the service's user. */
export const VOLUME_INIT_IMAGE = pinImage("busybox:1.37.0");

export interface DockerPlacement {
  /** Prefix of container and volume names: several deployments can share one engine. */
  readonly prefix: string;
  /** Name of the Docker network every service joins (services reach each other by `spec.name`). */
  readonly network: pulumi.Input<string>;
  /** Host address public ports bind to. */
  readonly bindAddress: string;
}

export const volumeName = (prefix: string, volume: ServiceVolume) => `${prefix}-${volume.name}`;

/** Env as `KEY=value`, secret values wrapped so they stay secret in state and previews. */
export function dockerEnv(spec: ServiceSpec): pulumi.Input<string>[] {
  const env = { ...spec.env, ...(spec.replicaNameEnv ? { [spec.replicaNameEnv]: spec.name } : {}) };
  const plain = Object.entries(env).map(([k, v]) => pulumi.interpolate`${k}=${v}`);
  const secret = Object.entries(spec.secretEnv ?? {}).map(([k, v]) =>
    pulumi.secret(pulumi.interpolate`${k}=${v}`),
  );
  return [...plain, ...secret];
}

/** Container arguments for one service, minus the image id (a RemoteImage pulls it). */
export function dockerContainerArgs(
  spec: ServiceSpec,
  at: DockerPlacement,
): Omit<docker.ContainerArgs, "image"> {
  return {
    name: `${at.prefix}-${spec.name}`,
    hostname: spec.name,
    command: spec.args,
    envs: dockerEnv(spec),
    user: spec.user,
    restart: "unless-stopped",
    memory: spec.resources.memoryMb,
    // Only ports meant to be public are published, and only on the chosen address.
    ports: spec.ports
      .filter((p) => p.public)
      .map((p) => ({ internal: p.container, external: p.container, ip: at.bindAddress })),
    networksAdvanced: [{ name: at.network, aliases: [spec.name] }],
    volumes: (spec.volumes ?? []).map((v) => ({
      volumeName: volumeName(at.prefix, v),
      containerPath: v.mountPath,
    })),
    uploads: (spec.files ?? []).map((f) => ({
      file: f.path,
      content: f.secret ? pulumi.secret(f.content) : f.content,
      executable: f.path.endsWith(".sh"),
    })),
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
  };
}

/** One-shot container that chowns a fresh volume to the service's user, then exits. */
export function volumeInitArgs(
  volume: ServiceVolume,
  at: DockerPlacement,
): Omit<docker.ContainerArgs, "image"> | undefined {
  if (!volume.owner) return undefined;
  return {
    name: `${volumeName(at.prefix, volume)}-init`,
    command: ["chown", "-R", volume.owner, "/volume"],
    volumes: [{ volumeName: volumeName(at.prefix, volume), containerPath: "/volume" }],
    mustRun: false,
    attach: true,
    restart: "no",
  };
}

export interface DockerServicesArgs {
  readonly services: ServiceSpec[];
  readonly placement: DockerPlacement;
  /** Remote engine provider; the ambient local engine when undefined. */
  readonly provider?: docker.Provider;
}

/** Pulls images and runs each service; returns the containers by service name. */
export function runDockerServices(
  name: string,
  args: DockerServicesArgs,
  parent: pulumi.Resource,
): Record<string, docker.Container> {
  const opts = { parent, provider: args.provider };
  const images = new Map<string, docker.RemoteImage>();
  const image = (ref: string) => {
    let found = images.get(ref);
    if (!found) {
      const role = ref.replace(/[^a-z0-9]+/gi, "-");
      found = new docker.RemoteImage(`${name}-image-${role}`, { name: ref, keepLocally: true }, opts);
      images.set(ref, found);
    }
    return found;
  };
  const containers: Record<string, docker.Container> = {};
  for (const spec of args.services) {
    const ready: pulumi.Resource[] = [];
    for (const v of spec.volumes ?? []) {
      const volume = new docker.Volume(
        `${name}-${v.name}`,
        { name: volumeName(args.placement.prefix, v) },
        // Data outlives a mistaken `pulumi destroy` only if the volume is protected; retain on delete.
        { ...opts, retainOnDelete: true },
      );
      ready.push(volume);
      const init = volumeInitArgs(v, args.placement);
      if (init) {
        ready.push(
          new docker.Container(
            `${name}-${v.name}-init`,
            { ...init, image: image(VOLUME_INIT_IMAGE).imageId },
            { ...opts, dependsOn: [volume] },
          ),
        );
      }
    }
    const after = (spec.dependsOn ?? []).map((d) => containers[d]).filter((c) => c !== undefined);
    containers[spec.name] = new docker.Container(
      `${name}-${spec.name}`,
      { ...dockerContainerArgs(spec, args.placement), image: image(spec.image).imageId },
      { ...opts, dependsOn: [...ready, ...after] },
    );
  }
  return containers;
}

export function dockerProvider(
  name: string,
  engine: string | undefined,
  parent: pulumi.Resource,
  certPath?: string,
) {
  return engine ? new docker.Provider(`${name}-engine`, { host: engine, certPath }, { parent }) : undefined;
}

export const dockerAdapter: HostAdapter = {
  ...dockerProfile,

  place(name: string, { settings, services, ingest, parent }: PlaceRequest) {
    const d = settings.docker ?? {};
    const provider = dockerProvider(name, d.engine, parent, d.certPath);
    const network = new docker.Network(
      `${name}-network`,
      { name: `${name}-firefly`, driver: "bridge" },
      { parent, provider },
    );
    const bindAddress = d.bindAddress ?? DEFAULT_BIND_ADDRESS;
    runDockerServices(
      name,
      { services, placement: { prefix: name, network: network.name, bindAddress }, provider },
      parent,
    );
    return {
      publicUrl: d.publicUrl ? pulumi.output(d.publicUrl.replace(/\/$/, "")) : undefined,
      fallbackOtlp: pulumi.output(`http://${bindAddress}:${ingest.otlpHttpPort}`),
      placement: { dockerNetwork: network.name },
    };
  },

  placeBeside(name: string, { settings, placement, services, parent }: BesideRequest) {
    const network = requiredFact(placement.dockerNetwork, "dockerNetwork", "ShippingPhase.dockerNetwork");
    const containers = runDockerServices(
      name,
      {
        services,
        placement: {
          prefix: name,
          network,
          bindAddress: settings.docker?.bindAddress ?? DEFAULT_BIND_ADDRESS,
        },
        provider: dockerProvider(name, settings.docker?.engine, parent, settings.docker?.certPath),
      },
      parent,
    );
    return Object.values(containers);
  },

  operatorUrl({ settings }, port, scheme) {
    const bind = settings.docker?.bindAddress ?? DEFAULT_BIND_ADDRESS;
    return pulumi.output(`${scheme}://${bind.includes(":") ? `[${bind}]` : bind}:${port}`);
  },
};
