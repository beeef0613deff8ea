// The kubernetes host: ServiceSpec[] → raw manifests (pure, tested directly), then one typed resource
// per manifest so previews and mocks see every object (a Helm chart or ConfigGroup would be opaque).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderNetworkPolicies } from "./networkPolicies";
import type { HttpRoute, ServiceSpec } from "./spec";

export const DEFAULT_NAMESPACE = "firefly";
export const DEFAULT_TLS_SECRET = "firefly-ingest-tls";
/** Autoscaling bounds of services with `replicas`: up to this many times the baseline. */
export const HPA_MAX_FACTOR = 4;
export const HPA_CPU_PERCENT = 70;
/**
 * Pod Security admission for Firefly's namespace: "restricted" enforced, so no pod that runs as root,
 * escalates, keeps capabilities or lacks the seccomp filter can be created there. Every pod Firefly
 * renders passes it in the upstream evaluator (test/hosts/podSecurity.test.ts, pss-check).
 */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
};

export interface KubernetesPlacement {
  readonly namespace: pulumi.Input<string>;
  /** Storage class of volume claims. Default: the cluster default. */
  readonly storageClass?: string;
  /** An Ingress with TLS for these routes on `host`. */
  readonly ingress?: {
    readonly host: string;
    readonly className?: string;
    readonly tlsSecretName: string;
    readonly routes: HttpRoute[];
  };
  /** Services whose public ports get a LoadBalancer Service (`<name>-public`). */
  readonly loadBalancers?: string[];
}

/** A manifest: plain Kubernetes object, values possibly Pulumi Inputs (secrets stay Outputs). */
export type Manifest = { apiVersion: string; kind: string; metadata: Record<string, any> } & Record<
  string,
  any
>;

const labels = (spec: ServiceSpec) => ({
  "app.kubernetes.io/name": spec.name,
  "app.kubernetes.io/part-of": "firefly",
});
// Config map and secret keys must be [-._a-zA-Z0-9]+.
export const fileKey = (path: string) => path.replace(/^\//, "").replace(/[^-._a-zA-Z0-9]/g, "_");

function idOf(user: string | undefined): { uid?: number; gid?: number } {
  if (!user) return {};
  const [uid, gid] = user.split(":").map(Number);
  return { uid, gid: gid ?? uid };
}

function podSpec(spec: ServiceSpec, claimVolumes: boolean): Record<string, any> {
  const { uid, gid } = idOf(spec.user);
  const owner = idOf(spec.volumes?.find((v) => v.owner)?.owner);
  const plainFiles = (spec.files ?? []).filter((f) => !f.secret);
  const secretFiles = (spec.files ?? []).filter((f) => f.secret);
  const volumes: Record<string, any>[] = [];
  if (plainFiles.length > 0) volumes.push({ name: "files", configMap: { name: `${spec.name}-files` } });
  if (secretFiles.length > 0) {
    volumes.push({
      name: "secret-files",
      secret: { secretName: `${spec.name}-secrets`, defaultMode: 0o400 },
    });
  }
  if (!claimVolumes) for (const v of spec.volumes ?? []) volumes.push({ name: v.name, emptyDir: {} });
  const container: Record<string, any> = {
    name: spec.name,
    image: spec.image,
    args: spec.args,
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.container, protocol: "TCP" })),
    env: [
      ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
      ...Object.keys(spec.secretEnv ?? {}).map((name) => ({
        name,
        valueFrom: { secretKeyRef: { name: `${spec.name}-secrets`, key: name } },
      })),
    ],
    volumeMounts: [
      ...plainFiles.map((f) => ({
        name: "files",
        mountPath: f.path,
        subPath: fileKey(f.path),
        readOnly: true,
      })),
      ...secretFiles.map((f) => ({
        name: "secret-files",
        mountPath: f.path,
        subPath: fileKey(f.path),
        readOnly: true,
      })),
      ...(spec.volumes ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath })),
    ],
    resources: {
      requests: { cpu: `${Math.round(spec.resources.cpu * 500)}m`, memory: `${spec.resources.memoryMb}Mi` },
      limits: { memory: `${spec.resources.memoryMb}Mi` },
    },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
  if (spec.health) {
    const probe = { httpGet: { path: spec.health.path, port: spec.health.port }, periodSeconds: 10 };
    container.readinessProbe = probe;
    container.livenessProbe = { ...probe, initialDelaySeconds: 30, failureThreshold: 6 };
  }
  return {
    // Pods talk to the API server for nothing: no token mounted.
    automountServiceAccountToken: false,
    securityContext: {
      // The container runtime's default syscall filter (Pod Security "restricted" asks for it).
      seccompProfile: { type: "RuntimeDefault" },
      ...(uid !== undefined ? { runAsUser: uid, runAsGroup: gid, runAsNonRoot: uid !== 0 } : {}),
      // fsGroup hands fresh claims to the process's group (a new volume is root-owned).
      ...(owner.gid !== undefined ? { fsGroup: owner.gid } : {}),
    },
    ...(spec.amd64Only ? { nodeSelector: { "kubernetes.io/arch": "amd64" } } : {}),
    containers: [container],
    volumes,
  };
}

export function renderManifests(services: ServiceSpec[], at: KubernetesPlacement): Manifest[] {
  const out: Manifest[] = [];
  const meta = (name: string, spec?: ServiceSpec) => ({
    name,
    namespace: at.namespace,
    labels: spec ? labels(spec) : { "app.kubernetes.io/part-of": "firefly" },
  });
  for (const spec of services) {
    const plainFiles = (spec.files ?? []).filter((f) => !f.secret);
    const secretFiles = (spec.files ?? []).filter((f) => f.secret);
    if (plainFiles.length > 0) {
      out.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(`${spec.name}-files`, spec),
        data: Object.fromEntries(plainFiles.map((f) => [fileKey(f.path), f.content])),
      });
    }
    if (secretFiles.length > 0 || Object.keys(spec.secretEnv ?? {}).length > 0) {
      out.push({
        apiVersion: "v1",
        kind: "Secret",
        metadata: meta(`${spec.name}-secrets`, spec),
        type: "Opaque",
        // Wrapped here too: the provider marks Secret data secret, but only once it runs.
        stringData: Object.fromEntries(
          [
            ...Object.entries(spec.secretEnv ?? {}),
            ...secretFiles.map((f) => [fileKey(f.path), f.content] as const),
          ].map(([k, v]) => [k, pulumi.secret(v)]),
        ),
      });
    }
    const selector = { matchLabels: labels(spec) };
    if (spec.stateful) {
      out.push({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(spec.name, spec),
        spec: {
          serviceName: spec.name,
          replicas: 1,
          selector,
          template: { metadata: { labels: labels(spec) }, spec: podSpec(spec, true) },
          volumeClaimTemplates: (spec.volumes ?? []).map((v) => ({
            metadata: { name: v.name },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(at.storageClass ? { storageClassName: at.storageClass } : {}),
              resources: { requests: { storage: `${v.sizeGb}Gi` } },
            },
          })),
        },
      });
    } else {
      const replicas = spec.replicas ?? 1;
      out.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(spec.name, spec),
        spec: {
          replicas,
          selector,
          template: { metadata: { labels: labels(spec) }, spec: podSpec(spec, false) },
        },
      });
      if (spec.replicas !== undefined) {
        out.push({
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: meta(spec.name, spec),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: spec.name },
            minReplicas: replicas,
            maxReplicas: spec.maxReplicas ?? replicas * HPA_MAX_FACTOR,
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: { type: "Utilization", averageUtilization: HPA_CPU_PERCENT },
                },
              },
            ],
          },
        });
        out.push({
          apiVersion: "policy/v1",
          kind: "PodDisruptionBudget",
          metadata: meta(spec.name, spec),
          // maxUnavailable, not minAvailable: a single replica must not block node drains forever.
          spec: { maxUnavailable: 1, selector },
        });
      }
    }
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(spec.name, spec),
      spec: {
        selector: labels(spec),
        ports: spec.ports.map((p) => ({ name: p.name, port: p.container, targetPort: p.name })),
      },
    });
    if (at.loadBalancers?.includes(spec.name)) {
      out.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(`${spec.name}-public`, spec),
        spec: {
          type: "LoadBalancer",
          selector: labels(spec),
          ports: spec.ports
            .filter((p) => p.public)
            .map((p) => ({ name: p.name, port: p.container, targetPort: p.name })),
        },
      });
    }
  }
  if (at.ingress) {
    const ing = at.ingress;
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("ingest"),
      spec: {
        ...(ing.className ? { ingressClassName: ing.className } : {}),
        tls: [{ hosts: [ing.host], secretName: ing.tlsSecretName }],
        rules: [
          {
            host: ing.host,
            http: {
              paths: ing.routes.map((r) => ({
                path: r.path,
                pathType: "Exact",
                backend: { service: { name: r.service, port: { number: r.port } } },
              })),
            },
          },
        ],
      },
    });
  }
  // Default deny, then only the pipeline's own flows (networkPolicies.ts).
  out.push(...renderNetworkPolicies(services, at.namespace));
  return out;
}

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;
const KINDS: Record<string, Ctor> = {
  ConfigMap: k8s.core.v1.ConfigMap,
  Secret: k8s.core.v1.Secret,
  Service: k8s.core.v1.Service,
  Deployment: k8s.apps.v1.Deployment,
  StatefulSet: k8s.apps.v1.StatefulSet,
  HorizontalPodAutoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler,
  PodDisruptionBudget: k8s.policy.v1.PodDisruptionBudget,
  Ingress: k8s.networking.v1.Ingress,
  NetworkPolicy: k8s.networking.v1.NetworkPolicy,
};

/** Creates each manifest as its typed resource, named `${name}-<kind>-<object name>`. */
export function applyManifests(
  name: string,
  manifests: Manifest[],
  opts: pulumi.CustomResourceOptions,
): Record<string, pulumi.CustomResource> {
  const created: Record<string, pulumi.CustomResource> = {};
  for (const m of manifests) {
    const Kind = KINDS[m.kind];
    if (!Kind) throw new Error(`kubernetes: no resource type for kind ${m.kind}`);
    const key = `${m.kind.toLowerCase()}-${m.metadata.name}`;
    created[key] = new Kind(`${name}-${key}`, m, opts);
  }
  return created;
}

export function kubernetesProvider(
  name: string,
  kubeconfig: pulumi.Input<string> | undefined,
  context: string | undefined,
  parent: pulumi.Resource,
): k8s.Provider | undefined {
  if (kubeconfig === undefined && context === undefined) return undefined;
  // A kubeconfig carries cluster credentials: secret in state whether or not the caller marked it.
  return new k8s.Provider(
    `${name}-cluster`,
    { kubeconfig: kubeconfig === undefined ? undefined : pulumi.secret(kubeconfig), context },
    { parent },
  );
}
