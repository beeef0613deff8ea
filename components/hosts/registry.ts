// The one map from the `host` setting to its adapter. A new host is a new adapter module (its pure
// profile under profiles/ and its resources beside it) and one line here and in profiles/index.ts.
import { Host } from "../types";
import type { HostAdapter } from "./adapter";
import { dockerAdapter } from "./docker";
import { ec2Adapter } from "./ec2";
import { kubernetesAdapter } from "./kubernetes";
import { hostProfile } from "./profiles";

const ADAPTERS: Record<Host, HostAdapter> = {
  [Host.Docker]: dockerAdapter,
  [Host.Ec2]: ec2Adapter,
  [Host.Kubernetes]: kubernetesAdapter,
};

/** The adapter of `host`; throws naming the allowed hosts for anything else. */
export function hostAdapter(host: Host): HostAdapter {
  hostProfile(host);
  return ADAPTERS[host];
}
