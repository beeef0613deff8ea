// The Grafana service, described once (ServiceSpec) for every host. Pure: rendered provisioning files
// and secrets in, a service description out. Everything is configured through GF_* environment
// variables so no grafana.ini is needed, and every secret travels as a secret env var or secret file.
import type * as pulumi from "@pulumi/pulumi";
import { GRAFANA_PORT, GRAFANA_SERVICE } from "../contracts/grafana";
import type { ServiceFile, ServiceSpec } from "../hosts/spec";
import { pinImage } from "../imageDigests";
import { DASHBOARDS_DIR, DATASOURCE_TYPES, renderDashboardProvider, SQL_PASSWORD_ENV } from "./datasources";

/** Grafana 12.4 is the last 12.x minor (longest support); the dashboards use its schema (version 42). */
export const GRAFANA_IMAGE = pinImage("grafana/grafana:12.4.5");
export { GRAFANA_PORT } from "../contracts/grafana";
/**
 * The image's grafana user, in its own group rather than root's: Grafana's official Helm chart runs
 * the image as runAsUser/runAsGroup/fsGroup 472 by default (grafana/helm-charts, charts/grafana
 * values.yaml), which works because the image's Dockerfile leaves its own files world-readable and its
 * writable paths mode 777. The data volume must belong to it.
 */
export const GRAFANA_USER = "472:472";
export const GRAFANA_ADMIN_USER = "admin";
export const GRAFANA_DATA_DIR = "/var/lib/grafana";
const PROVISIONING = "/etc/grafana/provisioning";
const TLS_DIR = "/etc/grafana/tls";

export const GRAFANA_DEFAULTS = { dataVolumeSizeGb: 2, cpu: 0.5, memoryMb: 512 } as const;

export interface GrafanaTls {
  /** PEM certificate (chain) Grafana serves. */
  certificate: pulumi.Input<string>;
  /** PEM private key (secret). */
  privateKey: pulumi.Input<string>;
}

export interface GrafanaSmtp {
  /** `host:port` of the mail relay. */
  host: string;
  user?: string;
  password?: pulumi.Input<string>;
  fromAddress: string;
}

export interface GrafanaServiceOptions {
  /** Rendered datasources file (renderDatasources). */
  datasources: pulumi.Input<string>;
  /** Rendered alerting file (renderAlerting); an Output when it depends on unknown values. */
  alerting: pulumi.Input<string>;
  /** Dashboard JSON by file name without extension. */
  dashboards: Record<string, string>;
  adminPassword: pulumi.Input<string>;
  /** Grafana's secret_key, which encrypts datasource secrets in its database (the default is public). */
  secretKey: pulumi.Input<string>;
  /** Public URL users open, for links in alert emails. */
  rootUrl?: pulumi.Input<string>;
  /** When set, Grafana itself serves HTTPS with this certificate. */
  tls?: GrafanaTls;
  /**
   * True when a TLS proxy in front (the ec2 host's Caddy) serves Grafana over HTTPS while Grafana
   * speaks plain HTTP behind it: cookies stay Secure and HSTS stays on. Default: false.
   */
  httpsFront?: boolean;
  /** Password of the read-only SQL role (promscale only). */
  sqlPassword?: pulumi.Input<string>;
  /** Mail relay for the email contact point. */
  smtp?: GrafanaSmtp;
  dataVolumeSizeGb?: number;
  /** Ports of datasources outside Firefly's services (storage external), opened where a host fences egress. */
  externalEgressPorts?: pulumi.Input<number[]>;
}

export function grafanaEnv(o: GrafanaServiceOptions): Record<string, pulumi.Input<string>> {
  // What the browser sees: HTTPS from Grafana itself or from the front.
  const https = o.tls !== undefined || o.httpsFront === true;
  const env: Record<string, pulumi.Input<string>> = {
    GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN_USER,
    // The original Firefly let anonymous visitors in as Admin: never again.
    GF_AUTH_ANONYMOUS_ENABLED: "false",
    GF_USERS_ALLOW_SIGN_UP: "false",
    GF_USERS_ALLOW_ORG_CREATE: "false",
    GF_SECURITY_DISABLE_GRAVATAR: "true",
    GF_SECURITY_COOKIE_SAMESITE: "strict",
    GF_SECURITY_COOKIE_SECURE: String(https),
    GF_SECURITY_STRICT_TRANSPORT_SECURITY: String(https),
    GF_SNAPSHOTS_EXTERNAL_ENABLED: "false",
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
    // The log store's datasource is not a core plugin: it is installed from the plugin catalogue before
    // Grafana serves (preinstall_sync), so provisioning finds it. preinstall_disabled would skip it too;
    // Grafana's own default list then comes along, asynchronously, and nothing is auto-updated.
    GF_PLUGINS_PREINSTALL_DISABLED: "false",
    GF_PLUGINS_PREINSTALL_SYNC: DATASOURCE_TYPES.logs,
    GF_PLUGINS_PREINSTALL_AUTO_UPDATE: "false",
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: `${DASHBOARDS_DIR}/overview.json`,
    GF_SERVER_HTTP_PORT: String(GRAFANA_PORT),
    GF_SERVER_PROTOCOL: o.tls ? "https" : "http",
  };
  if (o.tls) {
    env.GF_SERVER_CERT_FILE = `${TLS_DIR}/cert.pem`;
    env.GF_SERVER_CERT_KEY = `${TLS_DIR}/key.pem`;
  }
  if (o.rootUrl !== undefined) env.GF_SERVER_ROOT_URL = o.rootUrl;
  if (o.smtp) {
    env.GF_SMTP_ENABLED = "true";
    env.GF_SMTP_HOST = o.smtp.host;
    env.GF_SMTP_FROM_ADDRESS = o.smtp.fromAddress;
    // The relay's password crosses the internet: no plain-text fallback when STARTTLS is missing.
    env.GF_SMTP_STARTTLS_POLICY = "MandatoryStartTLS";
    if (o.smtp.user !== undefined) env.GF_SMTP_USER = o.smtp.user;
  }
  return env;
}

export function grafanaSecretEnv(o: GrafanaServiceOptions): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = {
    GF_SECURITY_ADMIN_PASSWORD: o.adminPassword,
    GF_SECURITY_SECRET_KEY: o.secretKey,
  };
  if (o.sqlPassword !== undefined) env[SQL_PASSWORD_ENV] = o.sqlPassword;
  if (o.smtp?.password !== undefined) env.GF_SMTP_PASSWORD = o.smtp.password;
  return env;
}

export function grafanaFiles(o: GrafanaServiceOptions): ServiceFile[] {
  const files: ServiceFile[] = [
    { path: `${PROVISIONING}/datasources/firefly.yaml`, content: o.datasources },
    { path: `${PROVISIONING}/dashboards/firefly.yaml`, content: renderDashboardProvider() },
    { path: `${PROVISIONING}/alerting/firefly.yaml`, content: o.alerting },
    ...Object.entries(o.dashboards).map(([name, json]) => ({
      path: `${DASHBOARDS_DIR}/${name}.json`,
      // Compact: on ec2 the files travel inside one SSM command, which has a size limit.
      content: JSON.stringify(JSON.parse(json)),
    })),
  ];
  if (o.tls) {
    files.push(
      { path: `${TLS_DIR}/cert.pem`, content: o.tls.certificate },
      { path: `${TLS_DIR}/key.pem`, content: o.tls.privateKey, secret: true },
    );
  }
  return files;
}

export function grafanaService(o: GrafanaServiceOptions): ServiceSpec {
  return {
    name: GRAFANA_SERVICE,
    image: GRAFANA_IMAGE,
    env: grafanaEnv(o),
    secretEnv: grafanaSecretEnv(o),
    ports: [{ name: "http", container: GRAFANA_PORT, public: true, protocol: "http" }],
    files: grafanaFiles(o),
    volumes: [
      {
        name: "grafana-data",
        mountPath: GRAFANA_DATA_DIR,
        sizeGb: o.dataVolumeSizeGb ?? GRAFANA_DEFAULTS.dataVolumeSizeGb,
        owner: GRAFANA_USER,
      },
    ],
    // Probes speak plain HTTP; with TLS on, Grafana answers only HTTPS, so no probe is declared.
    health: o.tls ? undefined : { port: GRAFANA_PORT, path: "/api/health" },
    resources: { cpu: GRAFANA_DEFAULTS.cpu, memoryMb: GRAFANA_DEFAULTS.memoryMb },
    user: GRAFANA_USER,
    // Besides its data volume (plugins included), Grafana's Dockerfile makes GF_PATHS_LOGS writable,
    // and plugin installs unpack through the temporary directory.
    scratch: ["/var/log/grafana", "/tmp"],
    stateful: true,
    replicas: 1,
    externalEgressPorts: o.externalEgressPorts,
  };
}
