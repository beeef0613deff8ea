// Putting services on a host that already exists: the presentation phase lands Grafana where the
// ShippingPhase runs with `deployServices`, and the config validation asks `publicHttpsEndpoint`
// (pure, from profiles/) whether the chosen host will have a public HTTPS URL before anything is created.
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHost, Host, KubernetesHost } from "../types";
import { hostAdapter } from "./registry";
import type { ServiceSpec } from "./spec";

export type { HostAdapter, HostSettings, PublicHttpsEndpoint } from "./adapter";
export { hostProfile, publicHttpsEndpoint, settingsFor } from "./profiles";
export { hostAdapter } from "./registry";
export type { HttpRoute, ServiceSpec } from "./spec";

/** Where services go: the host kind, its settings, and the facts ShippingPhase outputs for it. */
export interface ServiceTarget {
  readonly host: Host;
  /** docker: the same settings the ShippingPhase got (engine, bindAddress). */
  readonly docker?: DockerHost;
  /** docker: ShippingPhase.dockerNetwork. */
  readonly dockerNetwork?: pulumi.Input<string>;
  /** kubernetes: the same settings the ShippingPhase got (kubeconfig, context, storageClass). */
  readonly kubernetes?: KubernetesHost;
  /** kubernetes: ShippingPhase.kubernetesNamespace. */
  readonly kubernetesNamespace?: pulumi.Input<string>;
  /** ec2: ShippingPhase.instanceId. */
  readonly instanceId?: pulumi.Input<string>;
}

export interface DeployServicesOptions {
  /** The component the created resources belong to. */
  readonly parent: pulumi.Resource;
  /** kubernetes: services whose public ports get a LoadBalancer Service. Default: none. */
  readonly loadBalancers?: string[];
}

export interface DeployedServices {
  /** Every resource created, for dependsOn. */
  readonly resources: pulumi.Resource[];
}

/**
 * Runs `services` on the target host beside the shipping services (the adapter's placeBeside):
 * - docker: containers on the same engine, joined to the same network (reachable by service name).
 * - kubernetes: manifests in the same namespace through the same cluster.
 * - ec2: a Compose project on the same instance and Docker network, applied in place by an SSM
 *   association (see applyEc2Project).
 */
export function deployServices(
  name: string,
  target: ServiceTarget,
  services: ServiceSpec[],
  opts: DeployServicesOptions,
): DeployedServices {
  const { host, docker, kubernetes, ...placement } = target;
  const resources = hostAdapter(host).placeBeside(name, {
    settings: { docker, kubernetes },
    placement,
    services,
    parent: opts.parent,
    loadBalancers: opts.loadBalancers,
  });
  return { resources };
}
