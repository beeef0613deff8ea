// The OTLP endpoint each host will give instrumented functions, as far as the settings decide it: the
// configuration check (components/config.ts) judges it with components/reachability.ts before anything
// exists. Pure: no Pulumi, no cloud SDK.
import type { FireflyConfig } from "../config";
import { COLLECTOR_PORTS } from "../contracts/collector";
import { Host } from "../types";

const urlHost = (address: string) => (address.includes(":") ? `[${address}]` : address);

/**
 * The OTLP endpoint the host will give functions, as far as the settings decide it, and the setting that
 * decides it. `url` is undefined where the host makes a public HTTPS URL itself (ec2's API Gateway); a
 * Kubernetes LoadBalancer's address is known only later, but that it is plain HTTP is known now.
 */
export function plannedOtlpEndpoint(config: Pick<FireflyConfig, "host" | "docker" | "kubernetes" | "ec2">): {
  url?: string;
  setting: string;
  plainLoadBalancer?: boolean;
} {
  switch (config.host) {
    case Host.Docker:
      return {
        url:
          config.docker.publicUrl ??
          `http://${urlHost(config.docker.bindAddress ?? "127.0.0.1")}:${COLLECTOR_PORTS.otlpHttp}`,
        setting: "firefly:docker.publicUrl",
      };
    case Host.Kubernetes:
      if (config.kubernetes.publicUrl)
        return { url: config.kubernetes.publicUrl, setting: "firefly:kubernetes.publicUrl" };
      if (config.kubernetes.ingressHost)
        return { url: `https://${config.kubernetes.ingressHost}`, setting: "firefly:kubernetes.ingressHost" };
      return { setting: "firefly:kubernetes.ingressHost", plainLoadBalancer: true };
    case Host.Ec2:
      return {
        url: config.ec2.domain ? `https://${config.ec2.domain}` : undefined,
        setting: "firefly:ec2.domain",
      };
  }
}
