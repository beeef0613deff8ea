// Putting services on a host that already exists: the presentation phase lands Grafana where the
// ShippingPhase runs with `deployServices`, and the lead's config validation asks
// `publicHttpsEndpoint` whether the chosen host will have a public HTTPS URL before anything is created.
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type DockerHost, type Ec2Host, Host, type KubernetesHost } from "../types";
import { hardenBucket } from "./bucketHardening";
import {
  projectBucketName,
  renderApplyScript,
  renderFetchAndApply,
  renderSecretBundle,
  secretParameterName,
} from "./cloudInit";
import { type ResolvedService, renderComposeProject } from "./compose";
import { DEFAULT_BIND_ADDRESS, dockerProvider, runDockerServices } from "./docker";
import { applyManifests, kubernetesProvider, renderManifests } from "./kubernetes";
import type { ServiceSpec } from "./spec";

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
 * Runs `services` on the target host beside the shipping services.
 * - docker: containers on the same engine, joined to the same network (reachable by service name).
 * - kubernetes: manifests in the same namespace through the same cluster.
 * - ec2: a Compose project on the same instance and Docker network, applied by an SSM association
 *   (AWS-RunShellScript) that fetches the project's apply script from a private bucket and re-runs
 *   whenever it changes; its secrets travel as a SecureString parameter. The instance role may read
 *   only its own buckets and parameters.
 */
export function deployServices(
  name: string,
  target: ServiceTarget,
  services: ServiceSpec[],
  opts: DeployServicesOptions,
): DeployedServices {
  const parent = opts.parent;
  switch (target.host) {
    case Host.Docker: {
      const network = required(target.dockerNetwork, "dockerNetwork", "ShippingPhase.dockerNetwork");
      const containers = runDockerServices(
        name,
        {
          services,
          placement: {
            prefix: name,
            network,
            bindAddress: target.docker?.bindAddress ?? DEFAULT_BIND_ADDRESS,
          },
          provider: dockerProvider(name, target.docker?.engine, parent, target.docker?.certPath),
        },
        parent,
      );
      return { resources: Object.values(containers) };
    }
    case Host.Kubernetes: {
      const namespace = required(
        target.kubernetesNamespace,
        "kubernetesNamespace",
        "ShippingPhase.kubernetesNamespace",
      );
      const k = target.kubernetes ?? {};
      const provider = kubernetesProvider(name, k.kubeconfig, k.context, parent);
      const manifests = renderManifests(services, {
        namespace,
        storageClass: k.storageClass,
        loadBalancers: opts.loadBalancers,
      });
      return { resources: Object.values(applyManifests(name, manifests, { parent, provider })) };
    }
    case Host.Ec2: {
      const instanceId = required(target.instanceId, "instanceId", "ShippingPhase.instanceId");
      const project = name.toLowerCase().replace(/[^a-z0-9-]/g, "-");
      const rendered = pulumi
        .output(services)
        .apply((resolved) =>
          renderComposeProject(resolved as ResolvedService[], { publish: () => "0.0.0.0" }),
        );
      const secrets = new aws.ssm.Parameter(
        `${name}-secrets`,
        {
          name: pulumi.output(instanceId).apply((id) => secretParameterName(id, project)),
          type: "SecureString",
          value: pulumi.secret(rendered.apply(renderSecretBundle)),
        },
        { parent },
      );
      // The apply script goes to a private bucket named after the instance (whose role may read
      // it); the association's command only fetches and runs it, so its size does not matter.
      const bucket = new aws.s3.Bucket(
        `${name}-bundle`,
        {
          bucket: pulumi.output(instanceId).apply((id) => projectBucketName(id, project)),
          forceDestroy: true,
        },
        { parent },
      );
      const privateBucket = new aws.s3.BucketPublicAccessBlock(
        `${name}-bundle`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        { parent },
      );
      const hardening = hardenBucket(`${name}-bundle`, bucket, { parent, dependsOn: [privateBucket] });
      const script = pulumi.unsecret(rendered.apply((r) => renderApplyScript({ project, rendered: r })));
      const object = new aws.s3.BucketObjectv2(
        `${name}-apply-script`,
        { bucket: bucket.id, key: "apply.sh", content: script, contentType: "text/x-shellscript" },
        { parent, dependsOn: [privateBucket] },
      );
      const association = new aws.ssm.Association(
        `${name}-apply`,
        {
          name: "AWS-RunShellScript",
          targets: [{ key: "InstanceIds", values: [instanceId] }],
          parameters: {
            commands: pulumi.all([bucket.bucket, object.key, script]).apply(([b, key, text]) =>
              renderFetchAndApply({
                project,
                bucket: b,
                key,
                scriptHash: createHash("sha256").update(text).digest("hex"),
              }),
            ),
          },
        },
        { parent, dependsOn: [secrets, object] },
      );
      return { resources: [secrets, bucket, privateBucket, ...hardening, object, association] };
    }
  }
}

function required<T>(value: T | undefined, field: string, source: string): T {
  if (value === undefined) {
    throw new Error(`deployServices: target.${field} is required for this host; pass ${source}`);
  }
  return value;
}

/** Whether the host will have a public HTTPS URL on 443, and if not, what to configure. */
export interface PublicHttpsEndpoint {
  readonly available: boolean;
  /** How the URL comes about, or the settings that would provide one. */
  readonly detail: string;
}

/** Pure: decided from the settings alone, before anything is created. */
export function publicHttpsEndpoint(
  host: Host,
  settings: { docker?: DockerHost; ec2?: Ec2Host; kubernetes?: KubernetesHost },
): PublicHttpsEndpoint {
  switch (host) {
    case Host.Ec2:
      return settings.ec2?.domain
        ? {
            available: true,
            detail: `https://${settings.ec2.domain} (Caddy, certificate issued automatically)`,
          }
        : { available: true, detail: "an API Gateway HTTPS URL in front of the instance" };
    case Host.Docker:
      return settings.docker?.publicUrl
        ? { available: true, detail: settings.docker.publicUrl }
        : {
            available: false,
            detail:
              "host docker has no public HTTPS URL: set firefly:docker.publicUrl to an https:// URL on port 443 that forwards to the collector (e.g. `pulumi config set --path firefly:docker.publicUrl https://ingest.example.com`), or use firefly:host ec2",
          };
    case Host.Kubernetes: {
      const k = settings.kubernetes;
      if (k?.publicUrl) return { available: true, detail: k.publicUrl };
      if (k?.ingressHost) return { available: true, detail: `https://${k.ingressHost} (Ingress with TLS)` };
      return {
        available: false,
        detail:
          "host kubernetes has no public HTTPS URL: set firefly:kubernetes.ingressHost (an Ingress with TLS, e.g. `pulumi config set --path firefly:kubernetes.ingressHost ingest.example.com`) or firefly:kubernetes.publicUrl",
      };
    }
  }
}
