// The docker host's pure half: what its settings expose.
import { Host } from "../../types";
import type { HostProfile } from "../adapter";

/** Ports marked public bind here unless `DockerHost.bindAddress` says otherwise. */
export const DEFAULT_BIND_ADDRESS = "127.0.0.1";
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const dockerProfile: HostProfile = {
  host: Host.Docker,
  settingsKey: "docker",
  placementFact: { field: "dockerNetwork", source: "ShippingPhase.dockerNetwork" },
  exposes: ({ docker }) => ({
    ingest: docker?.publicUrl
      ? { available: true, detail: docker.publicUrl }
      : {
          available: false,
          detail:
            "host docker has no public HTTPS URL: set firefly:docker.publicUrl to an https:// URL on port 443 that forwards to the collector (e.g. `pulumi config set --path firefly:docker.publicUrl https://ingest.example.com`), or use firefly:host ec2",
        },
    // Published ports bind to one address: off the host unless it is a loopback one.
    operatorPortsOffHost: !LOOPBACK.test(docker?.bindAddress ?? DEFAULT_BIND_ADDRESS),
  }),
  // One machine, one collector.
  gatewayScale: () => undefined,
};
