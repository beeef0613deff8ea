// PresentationPhase: Grafana beside the pipeline, with datasources, dashboards and alert rules
// provisioned from files, so `pulumi up` ends on working dashboards. Steps: validate → secrets (admin
// password, secret key, TLS when Grafana is public) → render the provisioning files → describe the
// service → put it on the ShippingPhase's host (deployServices) → outputs. Settings and validation live
// in components/presentation/args.ts, rendering in components/presentation/ and dashboards/.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { portsOf } from "./hosts/networkPolicies";
import { hostAdapter } from "./hosts/registry";
import { renderAlerting, validateAlertOptions } from "./presentation/alerts";
import {
  committedDashboards,
  functionNameOf,
  grafanaIsFronted,
  grafanaIsPublic,
  type PresentationPhaseArgs,
  resolveAlertOptions,
  validatePresentationArgs,
} from "./presentation/args";
import { renderDatasources } from "./presentation/datasources";
import { GRAFANA_ADMIN_USER, GRAFANA_PORT, type GrafanaTls, grafanaService } from "./presentation/grafana";
import { DEFAULT_STORAGE } from "./storageChoice";
import { Host, Storage } from "./types";

export * from "./presentation/args";

export class PresentationPhase extends pulumi.ComponentResource {
  /** URL to open Grafana at (for ec2 without adminCidrs and kubernetes: after port forwarding, see docs/presentation.md). */
  public readonly grafanaUrl: pulumi.Output<string>;
  /** Grafana admin user. */
  public readonly grafanaAdminUser: pulumi.Output<string>;
  /** Grafana admin password (secret). */
  public readonly grafanaAdminPassword: pulumi.Output<string>;

  constructor(name: string, args: PresentationPhaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("firefly:index:PresentationPhase", name, {}, opts);
    const problems = validatePresentationArgs(args);
    if (problems.length > 0) throw new Error(`PresentationPhase ${name}:\n- ${problems.join("\n- ")}`);
    const host = args.host ?? Host.Docker;
    const storage = args.storage ?? DEFAULT_STORAGE;

    const generated = (role: string, length: number) =>
      new random.RandomPassword(`${name}-${role}`, { length, special: false }, { parent: this }).result;
    const adminPassword = pulumi.secret(args.adminPassword ?? generated("admin-password", 32));
    const secretKey = pulumi.secret(generated("secret-key", 40));
    // With a domain on ec2, Caddy serves Grafana with its trusted certificate; a self-signed one only
    // where no trusted one can be had.
    const fronted = grafanaIsFronted(args);
    const certificate =
      args.certificate ?? (grafanaIsPublic(args) && !fronted ? this.selfSigned(name) : undefined);

    const pg = args.postgres;
    const datasources = pulumi
      .all([args.prometheusUrl, args.jaegerUrl, args.logsUrl, pg?.host, pg?.port, pg?.database, pg?.user])
      .apply(([prometheusUrl, jaegerUrl, logsUrl, host, port, database, user]) =>
        renderDatasources({
          prometheusUrl,
          jaegerUrl,
          logsUrl,
          sql:
            storage === Storage.Promscale && pg
              ? {
                  host: host!,
                  port: port!,
                  database: database!,
                  user: user!,
                  sslMode: pg.sslMode ?? "disable",
                }
              : undefined,
        }),
      );

    this.grafanaUrl = this.url(args, certificate !== undefined || fronted);
    const service = grafanaService({
      datasources,
      alerting: this.timeouts(args).apply((timeouts) => {
        const options = resolveAlertOptions(args, timeouts);
        const invalid = validateAlertOptions(options);
        if (invalid.length > 0) throw new Error(`PresentationPhase ${name}:\n- ${invalid.join("\n- ")}`);
        return renderAlerting(options);
      }),
      dashboards: committedDashboards(),
      adminPassword,
      secretKey,
      tls: certificate,
      httpsFront: fronted,
      sqlPassword: pg ? pulumi.secret(pg.password) : undefined,
      smtp: args.smtp,
      // Links in alert emails point here.
      rootUrl: this.grafanaUrl,
      dataVolumeSizeGb: args.dataVolumeSizeGb,
      // Its datasources are the stores you run: reachable only through their ports.
      externalEgressPorts:
        storage === Storage.External
          ? pulumi
              .all([args.prometheusUrl, args.jaegerUrl, args.logsUrl])
              .apply((urls) => portsOf(urls.filter((u): u is string => u !== undefined)))
          : undefined,
    });
    hostAdapter(host).placeBeside(`${name}-grafana`, { ...this.beside(args), services: [service] });

    this.grafanaAdminUser = pulumi.output(GRAFANA_ADMIN_USER);
    this.grafanaAdminPassword = adminPassword;
    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      grafanaAdminUser: this.grafanaAdminUser,
      grafanaAdminPassword: this.grafanaAdminPassword,
    });
  }

  // The p99 alert needs each function's timeout, which no metric carries: ask AWS for the functions
  // named in `functions` (they exist before this stack runs), then apply explicit `functionTimeouts`.
  private timeouts(args: PresentationPhaseArgs): pulumi.Output<Record<string, number>> {
    const found = (args.functions ?? []).map((f) =>
      aws.lambda
        .getFunctionOutput({ functionName: f }, { parent: this })
        .timeout.apply((timeout): [string, number] => [functionNameOf(f), timeout]),
    );
    return pulumi
      .all([pulumi.all(found), pulumi.output(args.functionTimeouts ?? {})])
      .apply(([pairs, given]) => ({ ...Object.fromEntries(pairs), ...(given as Record<string, number>) }));
  }

  // Without a domain no trusted certificate can be had; a self-signed one still keeps the password and
  // session off the wire in clear text (the browser asks once to trust it).
  private selfSigned(name: string): GrafanaTls {
    const key = new tls.PrivateKey(
      `${name}-tls-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const cert = new tls.SelfSignedCert(
      `${name}-tls-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: "firefly-grafana", organization: "Firefly" },
        validityPeriodHours: 24 * 365,
        earlyRenewalHours: 24 * 30,
        allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
      },
      { parent: this },
    );
    return { certificate: cert.certPem, privateKey: pulumi.secret(key.privateKeyPem) };
  }

  // Grafana goes where the ShippingPhase put the pipeline: the same settings and placement facts.
  private beside(args: PresentationPhaseArgs) {
    return {
      settings: { docker: args.docker, ec2: args.ec2, kubernetes: args.kubernetes },
      placement: {
        dockerNetwork: args.dockerNetwork,
        kubernetesNamespace: args.kubernetesNamespace,
        instanceId: args.instanceId,
      },
      parent: this,
    };
  }

  private url(args: PresentationPhaseArgs, https: boolean): pulumi.Output<string> {
    return hostAdapter(args.host ?? Host.Docker).operatorUrl(
      this.beside(args),
      GRAFANA_PORT,
      https ? "https" : "http",
    );
  }
}
