// PresentationPhase's settings and everything decided from them alone, before any resource exists:
// validation (each problem names the setting and the fix), defaults, whether Grafana is public, and
// the committed dashboard files. Pure; the component in components/presentation.ts wires.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostProfile } from "../hosts/profiles";
import { DEFAULT_STORAGE } from "../storageChoice";
import { type DockerHost, type Ec2Host, Host, type KubernetesHost, Storage } from "../types";
import { ALERT_DEFAULTS, type AlertOptions, validateAlertOptions } from "./alerts";

/** Promscale's SQL interface, as the ShippingPhase outputs it (`postgres*`). */
export interface PostgresConnection {
  /** Host name on the host's private network (ShippingPhase.postgresHost). */
  readonly host: pulumi.Input<string>;
  /** ShippingPhase.postgresPort. */
  readonly port: pulumi.Input<number>;
  /** ShippingPhase.postgresDatabase. */
  readonly database: pulumi.Input<string>;
  /** A read-only role (ShippingPhase.postgresUser): Grafana users can type any SQL into a panel. */
  readonly user: pulumi.Input<string>;
  /** That role's password (secret; ShippingPhase.postgresPassword). */
  readonly password: pulumi.Input<string>;
  /** libpq sslmode. Default: `disable` (the database is reachable only on the host's private network). */
  readonly sslMode?: string;
}

/** Alert thresholds and where notifications go. */
export interface Alerts {
  /** Addresses of the email contact point (needs `smtp`). Default: none (alerts show in Grafana only). */
  readonly emails?: string[];
  /** Fire when a function's errors exceed this share of its invocations over 10 minutes. Default: 5. */
  readonly errorRatePercent?: number;
  /** Fire when cold starts exceed this share of invocations for 15 minutes. Default: 20. */
  readonly coldStartRatePercent?: number;
  /** Fire when p99 duration exceeds this fraction of the function's timeout. Default: 0.8. */
  readonly durationTimeoutRatio?: number;
  /** Alert when an invocation used more than this share of its memory size (0.5, 0.6, 0.7, 0.8, 0.9, 0.95 or 1; from REPORT lines). Default: 0.9. */
  readonly memoryUsedShare?: number;
  /** Alert when more than this percentage of a function's invocations time out (from REPORT lines). Default: 1. */
  readonly timeoutRatePercent?: number;
}

/** Mail relay Grafana sends alert emails through. */
export interface Smtp {
  /** `host:port` of the relay, e.g. `email-smtp.eu-west-1.amazonaws.com:587`. */
  readonly host: string;
  /** User name. Default: none. */
  readonly user?: string;
  /** Password (secret). Default: none. */
  readonly password?: pulumi.Input<string>;
  /** Sender address of alert emails. */
  readonly fromAddress: string;
}

/** A certificate for Grafana to serve HTTPS with. */
export interface GrafanaCertificate {
  /** PEM certificate chain. */
  readonly certificate: pulumi.Input<string>;
  /** PEM private key (secret). */
  readonly privateKey: pulumi.Input<string>;
}

export interface PresentationPhaseArgs {
  /** Where Grafana runs: the ShippingPhase's host. Default: `docker`. */
  readonly host?: Host;
  /** The ShippingPhase's storage; `promscale` adds the SQL datasource. Default: `prometheus`. */
  readonly storage?: Storage;
  /** The docker settings the ShippingPhase got. Default: the local engine, Grafana bound to 127.0.0.1. */
  readonly docker?: DockerHost;
  /** The ec2 settings the ShippingPhase got; `adminCidrs` may reach Grafana (over HTTPS). Default: none (SSM port forwarding). */
  readonly ec2?: Ec2Host;
  /** The kubernetes settings the ShippingPhase got. Default: the ambient kubeconfig. */
  readonly kubernetes?: KubernetesHost;
  /** docker: ShippingPhase.dockerNetwork. Required on docker. */
  readonly dockerNetwork?: pulumi.Input<string>;
  /** kubernetes: ShippingPhase.kubernetesNamespace. Required on kubernetes. */
  readonly kubernetesNamespace?: pulumi.Input<string>;
  /** ec2: ShippingPhase.instanceId. Required on ec2. */
  readonly instanceId?: pulumi.Input<string>;
  /** PromQL URL as reachable from Grafana (ShippingPhase.prometheusUrl). */
  readonly prometheusUrl: pulumi.Input<string>;
  /** Jaeger query URL as reachable from Grafana (ShippingPhase.jaegerUrl). */
  readonly jaegerUrl: pulumi.Input<string>;
  /** Log store (VictoriaLogs) URL as reachable from Grafana (ShippingPhase.logsUrl). Default: `http://victorialogs:9428`, Firefly's own. */
  readonly logsUrl?: pulumi.Input<string>;
  /** promscale: the SQL connection. Required with `promscale` storage. */
  readonly postgres?: PostgresConnection;
  /** Grafana admin password (secret). Default: generated once (32 characters) and kept. */
  readonly adminPassword?: pulumi.Input<string>;
  /** Alert thresholds and contact point. Default: the thresholds in `Alerts`, no contact point. */
  readonly alerts?: Alerts;
  /** Mail relay for alert emails. Required with `alerts.emails`. Default: none. */
  readonly smtp?: Smtp;
  /** Existing Lambda functions (names or ARNs) whose timeouts the p99-near-timeout alert reads from AWS. Default: none. */
  readonly functions?: string[];
  /** Function name → timeout in seconds for the p99-near-timeout alert, over what `functions` finds. Default: none. */
  readonly functionTimeouts?: pulumi.Input<Record<string, number>>;
  /** Certificate Grafana serves HTTPS with. Default: on ec2 with a domain and adminCidrs, Caddy's trusted certificate for the domain; else self-signed when Grafana is reachable off the host, else plain HTTP on the host only. */
  readonly certificate?: GrafanaCertificate;
  /** Size of Grafana's data volume in GiB. Default: 2. */
  readonly dataVolumeSizeGb?: number;
}

/** The function name in a name, a full ARN or a partial `account:function:name[:qualifier]` ARN. */
export function functionNameOf(nameOrArn: string): string {
  const i = nameOrArn.indexOf(":function:");
  return i < 0 ? nameOrArn : nameOrArn.slice(i + ":function:".length).split(":")[0];
}

const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"];

/** Whether Grafana can be reached from outside its host, and so must speak HTTPS. Pure. */
export function grafanaIsPublic(args: PresentationPhaseArgs): boolean {
  return hostProfile(args.host ?? Host.Docker).exposes(args).operatorPortsOffHost;
}

/** Whether the host's HTTPS front serves Grafana with its trusted certificate (ec2 with a domain). Pure. */
export function grafanaIsFronted(args: PresentationPhaseArgs): boolean {
  return hostProfile(args.host ?? Host.Docker).exposes(args).operatorPortsFronted === true;
}

/** Alert options with defaults applied (timeouts converted to ms). Pure. */
export function resolveAlertOptions(
  args: PresentationPhaseArgs,
  functionTimeouts: Record<string, number> = plainTimeouts(args),
): AlertOptions {
  const a = args.alerts ?? {};
  return {
    emails: a.emails ?? [],
    errorRatePercent: a.errorRatePercent ?? ALERT_DEFAULTS.errorRatePercent,
    coldStartRatePercent: a.coldStartRatePercent ?? ALERT_DEFAULTS.coldStartRatePercent,
    durationTimeoutRatio: a.durationTimeoutRatio ?? ALERT_DEFAULTS.durationTimeoutRatio,
    memoryUsedShare: a.memoryUsedShare ?? ALERT_DEFAULTS.memoryUsedShare,
    timeoutRatePercent: a.timeoutRatePercent ?? ALERT_DEFAULTS.timeoutRatePercent,
    functionTimeoutsMs: Object.fromEntries(
      Object.entries(functionTimeouts).map(([fn, s]) => [fn, Math.round(s * 1000)]),
    ),
  };
}

// Timeouts known only at deploy time (an Output, e.g. from EmitPhase) are validated when they resolve.
const plainTimeouts = (args: PresentationPhaseArgs): Record<string, number> =>
  pulumi.Output.isInstance(args.functionTimeouts)
    ? {}
    : ((args.functionTimeouts as Record<string, number>) ?? {});

/** Problems with the args, each naming the setting and the fix; empty when valid. Pure. */
export function validatePresentationArgs(args: PresentationPhaseArgs): string[] {
  const problems = validateAlertOptions(resolveAlertOptions(args));
  const host = args.host ?? Host.Docker;
  const storage = args.storage ?? DEFAULT_STORAGE;
  if (!Object.values(Host).includes(host))
    problems.push(`host: "${host}" is not one of ${Object.values(Host).join(", ")}`);
  if (!Object.values(Storage).includes(storage)) {
    problems.push(`storage: "${storage}" is not one of ${Object.values(Storage).join(", ")}`);
  }
  const fact = Object.values(Host).includes(host) ? hostProfile(host).placementFact : undefined;
  if (fact && args[fact.field] === undefined) {
    problems.push(
      `${fact.field}: required on host ${host}; pass ${fact.source} so Grafana runs beside the pipeline`,
    );
  }
  if (args.certificate !== undefined && fact && grafanaIsFronted(args)) {
    problems.push(
      "certificate: with ec2.domain and ec2.adminCidrs, Caddy serves Grafana with its trusted certificate for the domain and Grafana speaks plain HTTP behind it; remove certificate",
    );
  }
  if (storage === Storage.Promscale && args.postgres === undefined) {
    problems.push(
      "postgres: required with storage promscale; pass ShippingPhase's postgresHost/Port/Database/User/Password",
    );
  }
  if (storage === Storage.Prometheus && args.postgres !== undefined) {
    problems.push(
      "postgres: only used with storage promscale (Prometheus has no SQL); remove it or set storage promscale",
    );
  }
  if ((args.alerts?.emails ?? []).length > 0 && args.smtp === undefined) {
    problems.push(
      "alerts.emails: Grafana needs a mail relay to send them; set smtp {host, fromAddress, user, password} or remove alerts.emails",
    );
  }
  if (args.smtp && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(args.smtp.host)) {
    problems.push(
      `smtp.host: "${args.smtp.host}" must be host:port, e.g. email-smtp.eu-west-1.amazonaws.com:587`,
    );
  }
  if (args.smtp && !/^[^@\s]+@[^@\s]+$/.test(args.smtp.fromAddress)) {
    problems.push(`smtp.fromAddress: "${args.smtp.fromAddress}" is not an email address`);
  }
  const sslMode = args.postgres?.sslMode;
  if (sslMode !== undefined && !SSL_MODES.includes(sslMode)) {
    problems.push(
      `postgres.sslMode: "${sslMode}" is not one of ${SSL_MODES.join(", ")} (Grafana's PostgreSQL modes)`,
    );
  }
  for (const f of args.functions ?? []) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionNameOf(f))) {
      problems.push(
        `functions: "${f}" is not a Lambda function name or ARN (e.g. orders or arn:aws:lambda:…:function:orders)`,
      );
    }
  }
  const size = args.dataVolumeSizeGb;
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 1000)) {
    problems.push(`dataVolumeSizeGb: ${size} must be a whole number of GiB between 1 and 1000`);
  }
  return problems;
}

/** The committed dashboard JSON files (generated by `npm run build:dashboards`). */
export function committedDashboards(): Record<string, string> {
  // From components/presentation/ when run from source, from bin/components/presentation/ when compiled.
  const dir = [
    path.join(__dirname, "..", "..", "dashboards"),
    path.join(__dirname, "..", "..", "..", "dashboards"),
  ].find((d) => fs.existsSync(path.join(d, "overview.json")));
  if (!dir)
    throw new Error(
      `PresentationPhase: dashboards/*.json not found near ${__dirname}; run npm run build:dashboards`,
    );
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => [path.basename(f, ".json"), fs.readFileSync(path.join(dir, f), "utf8")]),
  );
}
