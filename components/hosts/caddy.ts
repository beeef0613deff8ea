// With the user's domain, the ec2 host's HTTPS front is Caddy: it obtains a trusted certificate for
// the domain on its own (ACME HTTP-01 on port 80) and forwards only the routed paths. With admin
// CIDRs it also serves Grafana on the same name at Grafana's usual port, with the same certificate, so
// operators never meet a self-signed one.
import { pinImage } from "../imageDigests";
import type { HttpRoute, ServiceSpec } from "./spec";

/** A whole port of the domain Caddy forwards to one service port (Grafana's admin port). */
export interface PortRoute {
  /** Port Caddy serves HTTPS on for the domain (the security group admits only the admin CIDRs). */
  listen: number;
  service: string;
  port: number;
}

/** The release the tests build and run (.ci/setup.d/57-caddy.sh). */
export const CADDY_VERSION = "2.10.2";
export const CADDY_IMAGE = pinImage(`caddy:${CADDY_VERSION}`);

export function renderCaddyfile(domain: string, routes: HttpRoute[], portRoutes: PortRoute[] = []): string {
  const handlers = routes
    .map((r) => `  handle ${r.path} {\n    reverse_proxy ${r.service}:${r.port}\n  }`)
    .join("\n");
  // Anything not routed gets 404: the collector's other ports and every other service stay private.
  // No admin API: the container restarts on a new config, and nothing should listen that need not.
  // The same site name on another port: Caddy manages one certificate per name, so it serves both.
  const ports = portRoutes
    .map((r) => `\n${domain}:${r.listen} {\n  reverse_proxy ${r.service}:${r.port}\n}\n`)
    .join("");
  return `{\n  admin off\n}\n\n${domain} {\n${handlers}\n  handle {\n    respond 404\n  }\n}\n${ports}`;
}

/** uid:gid Caddy runs as (nobody). */
export const CADDY_USER = "65534:65534";

export function caddyService(domain: string, routes: HttpRoute[], portRoutes: PortRoute[] = []): ServiceSpec {
  return {
    name: "caddy",
    image: CADDY_IMAGE,
    ports: [
      { name: "http", container: 80, public: true, protocol: "http" },
      { name: "https", container: 443, public: true, protocol: "http" },
      ...portRoutes.map((r) => ({
        name: `https-${r.listen}`,
        container: r.listen,
        public: true,
        protocol: "http" as const,
      })),
    ],
    files: [{ path: "/etc/caddy/Caddyfile", content: renderCaddyfile(domain, routes, portRoutes) }],
    // Caddy's autosaved config goes on the volume too: nothing else is writable for a non-root user.
    env: { XDG_CONFIG_HOME: "/data/config" },
    // Certificates and the ACME account survive restarts (and rate limits are not hit again).
    volumes: [{ name: "caddy-data", mountPath: "/data", sizeGb: 1, owner: CADDY_USER }],
    // Not root: the image's binary carries cap_net_bind_service for ports 80 and 443.
    user: CADDY_USER,
    // Caddy writes only below its XDG directories, both on the volume here.
    scratch: [],
    resources: { cpu: 0.25, memoryMb: 128 },
    dependsOn: [...new Set(routes.map((r) => r.service))],
  };
}
