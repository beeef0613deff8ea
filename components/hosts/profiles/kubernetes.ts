// The kubernetes host's pure half: what its settings expose.
import { Host } from "../../types";
import type { HostProfile } from "../adapter";

export const kubernetesProfile: HostProfile = {
  host: Host.Kubernetes,
  settingsKey: "kubernetes",
  placementFact: { field: "kubernetesNamespace", source: "ShippingPhase.kubernetesNamespace" },
  exposes: ({ kubernetes: k }) => ({
    ingest: k?.publicUrl
      ? { available: true, detail: k.publicUrl }
      : k?.ingressHost
        ? { available: true, detail: `https://${k.ingressHost} (Ingress with TLS)` }
        : {
            available: false,
            detail:
              "host kubernetes has no public HTTPS URL: set firefly:kubernetes.ingressHost (an Ingress with TLS, e.g. `pulumi config set --path firefly:kubernetes.ingressHost ingest.example.com`) or firefly:kubernetes.publicUrl",
          },
    // Grafana is a ClusterIP service: reached with `kubectl port-forward` through the API server's TLS.
    operatorPortsOffHost: false,
  }),
  gatewayScale: ({ kubernetes: k }) =>
    k?.autoscale
      ? { replicas: k.autoscale.min, maxReplicas: k.autoscale.max, cpuPercent: k.autoscale.cpuPercent }
      : { replicas: k?.replicas ?? 1, maxReplicas: k?.replicas ?? 1 },
};
