// The kubernetes host's adapter: ServiceSpec[] → raw manifests (pure, tested directly), then one typed
// resource per manifest so previews and mocks see every object (a Helm chart or ConfigGroup would be
// opaque).
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BesideRequest, HostAdapter, PlaceRequest } from "./adapter";
import { renderNetworkPolicies } from "./networkPolicies";
import { requiredFact } from "./placement";
import { kubernetesProfile } from "./profiles/kubernetes";
import type { HttpRoute, ServiceSpec } from "./spec";

export const DEFAULT_NAMESPACE = "firefly";
export const DEFAULT_TLS_SECRET = "firefly-ingest-tls";
/** Autoscaling bounds of services with `replicas`: up to this many times the baseline. */
export const HPA_MAX_FACTOR = 4;
export const HPA_CPU_PERCENT = 70;
/**
 * Scale-down is slow: a replica's on-disk queue drains only while it runs, and traces routed to it
 * need time to finish their sampling decision. At most one pod per SCALE_DOWN_PERIOD_SECONDS, and only
 * after the load has stayed low for SCALE_DOWN_STABILIZATION_SECONDS.
 */
export const SCALE_DOWN_STABILIZATION_SECONDS = 900;
export const SCALE_DOWN_PERIOD_SECONDS = 600;
/** Pod template annotation holding a hash of the service's config: a change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = "firefly.dev/config-hash";
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
  // The root filesystem is read-only: the image writes only to its volumes and these scratch dirs.
  const scratch = (spec.scratch ?? []).map((mountPath, i) => ({ name: `scratch-${i}`, mountPath }));
  for (const s of scratch) volumes.push({ name: s.name, emptyDir: {} });
  const container: Record<string, any> = {
    name: spec.name,
    image: spec.image,
    args: spec.args,
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.container, protocol: "TCP" })),
    env: [
      ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
      ...(spec.replicaNameEnv
        ? [{ name: spec.replicaNameEnv, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]
        : []),
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
      ...scratch,
    ],
    resources: {
      requests: { cpu: `${Math.round(spec.resources.cpu * 500)}m`, memory: `${spec.resources.memoryMb}Mi` },
      limits: { memory: `${spec.resources.memoryMb}Mi` },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      // Whoever gets code running in the container cannot replace the image's binaries or config.
      readOnlyRootFilesystem: true,
    },
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

/**
 * Hash of everything a pod reads at start (files, env, secret env): files are mounted by subPath and
 * env is read once, so a pod keeps the old config until it restarts. Secrets go into the hash, never
 * into the manifest; the hash itself reveals nothing and stays readable in previews.
 */
export function configHash(spec: ServiceSpec): pulumi.Output<string> {
  const inputs = {
    image: spec.image,
    args: spec.args ?? [],
    env: spec.env ?? {},
    secretEnv: spec.secretEnv ?? {},
    files: (spec.files ?? []).map((f) => [f.path, f.content]),
  };
  return pulumi.unsecret(
    pulumi
      .output(inputs)
      .apply((resolved) => createHash("sha256").update(JSON.stringify(resolved)).digest("hex").slice(0, 32)),
  );
}

function template(spec: ServiceSpec, claimVolumes: boolean) {
  return {
    metadata: { labels: labels(spec), annotations: { [CONFIG_HASH_ANNOTATION]: configHash(spec) } },
    spec: podSpec(spec, claimVolumes),
  };
}

/** An autoscaler for services with `replicas`, slow to scale down. */
function autoscaler(spec: ServiceSpec, kind: string, metadata: Record<string, any>): Manifest {
  const replicas = spec.replicas ?? 1;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind, name: spec.name },
      minReplicas: replicas,
      maxReplicas: spec.maxReplicas ?? replicas * HPA_MAX_FACTOR,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: spec.cpuPercent ?? HPA_CPU_PERCENT },
          },
        },
      ],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: SCALE_DOWN_STABILIZATION_SECONDS,
          policies: [{ type: "Pods", value: 1, periodSeconds: SCALE_DOWN_PERIOD_SECONDS }],
        },
      },
    },
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
    const scaled = spec.replicas !== undefined;
    const autoscaled =
      scaled && (spec.maxReplicas ?? (spec.replicas ?? 1) * HPA_MAX_FACTOR) > (spec.replicas ?? 1);
    const kind = spec.stateful ? "StatefulSet" : "Deployment";
    if (spec.stateful) {
      out.push({
        apiVersion: "apps/v1",
        kind,
        metadata: meta(spec.name, spec),
        spec: {
          serviceName: spec.peerPorts ? `${spec.name}-peers` : spec.name,
          // Under an autoscaler that may move it, the count is the HPA's: a `pulumi up` must not reset
          // it to the floor mid-load (the HPA starts from its minReplicas).
          ...(autoscaled ? {} : { replicas: spec.replicas ?? 1 }),
          // Replicas of a scaled service are peers, not a primary and followers: start them together.
          ...(scaled ? { podManagementPolicy: "Parallel" } : {}),
          selector,
          template: template(spec, true),
          volumeClaimTemplates: (spec.volumes ?? []).map((v) => ({
            metadata: { name: v.name },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(at.storageClass ? { storageClassName: at.storageClass } : {}),
              resources: { requests: { storage: `${v.sizeGb}Gi` } },
            },
          })),
          // A replica's claim outlives scale-down and deletion: scaled up again, it drains its queue.
          ...(scaled
            ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" } }
            : {}),
        },
      });
    } else {
      out.push({
        apiVersion: "apps/v1",
        kind,
        metadata: meta(spec.name, spec),
        spec: { replicas: spec.replicas ?? 1, selector, template: template(spec, false) },
      });
    }
    if (scaled) {
      out.push(autoscaler(spec, kind, meta(spec.name, spec)));
      out.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(spec.name, spec),
        // maxUnavailable, not minAvailable: a single replica must not block node drains forever.
        spec: { maxUnavailable: 1, selector },
      });
    }
    if (spec.peerPorts) {
      const peerPorts = new Set(spec.peerPorts);
      out.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(`${spec.name}-peers`, spec),
        // Headless: one DNS record per ready pod, so peers can route to a given replica.
        spec: {
          clusterIP: "None",
          selector: labels(spec),
          ports: spec.ports
            .filter((p) => peerPorts.has(p.name))
            .map((p) => ({ name: p.name, port: p.container, targetPort: p.name })),
        },
      });
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

export const kubernetesAdapter: HostAdapter = {
  ...kubernetesProfile,

  place(name: string, { settings, services, routes, ingest, parent }: PlaceRequest) {
    const k = settings.kubernetes ?? {};
    const provider = kubernetesProvider(name, k.kubeconfig, k.context, parent);
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: k.namespace ?? DEFAULT_NAMESPACE, labels: POD_SECURITY_LABELS } },
      { parent, provider },
    );
    const exposeWithLoadBalancer = !k.ingressHost && !k.publicUrl;
    const manifests = renderManifests(services, {
      namespace: ns.metadata.name,
      storageClass: k.storageClass,
      ingress: k.ingressHost
        ? {
            host: k.ingressHost,
            className: k.ingressClass,
            tlsSecretName: k.tlsSecretName ?? DEFAULT_TLS_SECRET,
            routes,
          }
        : undefined,
      loadBalancers: exposeWithLoadBalancer ? [ingest.service] : [],
    });
    const created = applyManifests(name, manifests, { parent, provider, dependsOn: [ns] });
    const lb = created[`service-${ingest.service}-public`] as k8s.core.v1.Service | undefined;
    const publicUrl = k.publicUrl
      ? pulumi.output(k.publicUrl.replace(/\/$/, ""))
      : k.ingressHost
        ? pulumi.output(`https://${k.ingressHost}`)
        : undefined;
    return {
      publicUrl,
      // A LoadBalancer is plain HTTP: usable for OTLP inside a network, never for Firehose.
      fallbackOtlp: lb?.status.loadBalancer.ingress.apply((ingress) => {
        const first = ingress?.[0];
        return `http://${first?.hostname ?? first?.ip ?? "pending"}:${ingest.otlpHttpPort}`;
      }),
      placement: { kubernetesNamespace: ns.metadata.name },
    };
  },

  placeBeside(name: string, { settings, placement, services, parent, loadBalancers }: BesideRequest) {
    const namespace = requiredFact(
      placement.kubernetesNamespace,
      "kubernetesNamespace",
      "ShippingPhase.kubernetesNamespace",
    );
    const k = settings.kubernetes ?? {};
    const provider = kubernetesProvider(name, k.kubeconfig, k.context, parent);
    const manifests = renderManifests(services, { namespace, storageClass: k.storageClass, loadBalancers });
    return Object.values(applyManifests(name, manifests, { parent, provider }));
  },

  // Services are ClusterIP: an operator reaches them with `kubectl port-forward` to localhost.
  operatorUrl: (_request, port, scheme) => pulumi.output(`${scheme}://localhost:${port}`),
};
