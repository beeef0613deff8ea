// The pure registry of host profiles: what the config validator and argument checks may ask about a
// host without loading any cloud SDK (the adapters in ../registry.ts add the resources).
import { Host } from "../../types";
import type { HostProfile, HostSettings, PublicHttpsEndpoint } from "../adapter";
import { dockerProfile } from "./docker";
import { ec2Profile } from "./ec2";
import { kubernetesProfile } from "./kubernetes";

export type { Exposure, HostProfile, HostSettings, PublicHttpsEndpoint } from "../adapter";

const PROFILES: Record<Host, HostProfile> = {
  [Host.Docker]: dockerProfile,
  [Host.Ec2]: ec2Profile,
  [Host.Kubernetes]: kubernetesProfile,
};

/** The profile of `host`; throws naming the allowed hosts for anything else. */
export function hostProfile(host: Host): HostProfile {
  const found = Object.hasOwn(PROFILES, host) ? PROFILES[host] : undefined;
  if (!found) throw new Error(`host: "${host}" is not one of ${Object.values(Host).join(", ")}`);
  return found;
}

export const hostProfiles = (): HostProfile[] => Object.values(PROFILES);

/** Whether the host will have a public HTTPS URL on 443. Pure: from the settings alone. */
export function publicHttpsEndpoint(host: Host, settings: HostSettings): PublicHttpsEndpoint {
  return hostProfile(host).exposes(settings).ingest;
}

/** Only `host`'s settings: the phases refuse settings meant for another host. */
export function settingsFor(host: Host, settings: HostSettings): HostSettings {
  const key = hostProfile(host).settingsKey;
  return { [key]: settings[key] };
}
