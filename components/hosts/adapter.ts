// What every host implements. Phases describe their services host-neutrally (spec.ts) and hand them to
// the adapter the registry picks for the `host` setting; no phase switches on the host. Each host has
// two halves: a pure profile (profiles/<host>.ts: what its settings expose, decided before anything
// exists, safe for the config validator, which must not load a cloud SDK) and the adapter proper
// (<host>.ts: the resources that place services there).
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHost, Ec2Host, Host, KubernetesHost } from "../types";
import type { HttpRoute, ServiceSpec } from "./spec";

/** The settings of every host; an adapter reads only its own. */
export interface HostSettings {
  readonly docker?: DockerHost;
  readonly ec2?: Ec2Host;
  readonly kubernetes?: KubernetesHost;
}

/** Whether the host will have a public HTTPS URL on 443, and if not, what to configure. */
export interface PublicHttpsEndpoint {
  readonly available: boolean;
  /** How the URL comes about, or the settings that would provide one. */
  readonly detail: string;
}

/** What a deployment on this host exposes, from its settings alone. */
export interface Exposure {
  /** The public HTTPS front that ingest (Lambda's OTLP, Firehose) reaches. */
  readonly ingest: PublicHttpsEndpoint;
  /**
   * Operator-facing ports of services placed beside the pipeline (Grafana): true when they can be
   * reached from off the host, so they must speak HTTPS.
   */
  readonly operatorPortsOffHost: boolean;
  /**
   * True when the host's own HTTPS front serves those ports off the host with a trusted certificate
   * (ec2 with a domain): the service then speaks plain HTTP on the host's private network, never
   * published, and brings no certificate of its own. Default: false.
   */
  readonly operatorPortsFronted?: boolean;
}

/** The fact a deployment hands on so later services (Grafana) land beside it. */
export interface PlacementFacts {
  /** docker: the network the services share. */
  readonly dockerNetwork?: pulumi.Input<string>;
  /** kubernetes: the namespace the services run in. */
  readonly kubernetesNamespace?: pulumi.Input<string>;
  /** ec2: the instance the services run on. */
  readonly instanceId?: pulumi.Input<string>;
}

/** Pure facts about a host: no resources, no cloud SDK. */
export interface HostProfile {
  readonly host: Host;
  /** The key of this host's settings in HostSettings (and in `firefly:<key>`). */
  readonly settingsKey: keyof HostSettings;
  /** Which placement fact services placed later need, and the ShippingPhase output that carries it. */
  readonly placementFact: { readonly field: keyof PlacementFacts; readonly source: string };
  /** Decided from the settings before anything is created. */
  exposes(settings: HostSettings): Exposure;
  /** How many gateway collectors run, on hosts that can run several; undefined elsewhere. */
  gatewayScale(settings: HostSettings): GatewayScale | undefined;
}

/** Replicas of the gateway collector on a host that scales out. */
export interface GatewayScale {
  /** Replicas at start, and the autoscaler's floor. */
  readonly replicas: number;
  /** The autoscaler's ceiling (equal to `replicas` for a fixed count). */
  readonly maxReplicas: number;
  /** Autoscaler CPU target, percent. Default: the host's. */
  readonly cpuPercent?: number;
}

/** What ShippingPhase places: the services and how the public front reaches them. */
export interface PlaceRequest {
  /** This host's settings (the others are refused before this point). */
  readonly settings: HostSettings;
  readonly services: ServiceSpec[];
  /** Paths the public HTTPS front forwards; nothing else is routed. */
  readonly routes: HttpRoute[];
  /** The service taking ingest, and its OTLP/HTTP port (for a host without an HTTPS front). */
  readonly ingest: { readonly service: string; readonly otlpHttpPort: number };
  readonly parent: pulumi.Resource;
}

/** What a placed deployment offers its callers. */
export interface Deployment {
  /** Public HTTPS base URL (no trailing slash), when the host has one. */
  readonly publicUrl?: pulumi.Output<string>;
  /** OTLP base URL when there is no public HTTPS URL (local, or a plain-HTTP load balancer). */
  readonly fallbackOtlp?: pulumi.Output<string>;
  /** Where later services go (Grafana beside the pipeline). */
  readonly placement: { [K in keyof PlacementFacts]?: pulumi.Output<string> };
}

/** Services placed beside an existing deployment. */
export interface BesideRequest {
  readonly settings: HostSettings;
  readonly placement: PlacementFacts;
  readonly services: ServiceSpec[];
  readonly parent: pulumi.Resource;
  /** kubernetes: services whose public ports get a LoadBalancer Service. Default: none. */
  readonly loadBalancers?: string[];
}

export interface HostAdapter extends HostProfile {
  /** Creates what the host needs (network, namespace, instance) and runs the services there. */
  place(name: string, request: PlaceRequest): Deployment;
  /** Runs more services beside a deployment; returns every resource created, for dependsOn. */
  placeBeside(name: string, request: BesideRequest): pulumi.Resource[];
  /** URL an operator opens a placed service's port at (a browser on their machine). */
  operatorUrl(
    request: Omit<BesideRequest, "services" | "loadBalancers">,
    port: number,
    scheme: "http" | "https",
  ): pulumi.Output<string>;
}
