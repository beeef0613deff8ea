// The ec2 host's adapter: one x86_64 Amazon Linux 2023 instance running the services with Docker
// Compose, its data on a separate EBS volume (kept across instance replacement), reached through SSM
// (no SSH; every Compose project, the shipping one included, is applied and updated in place by an
// SSM association), and an HTTPS front on 443 with a trusted certificate:
// - no domain: an API Gateway HTTP API whose routes (the collector paths only) reach the instance
//   privately through a VPC link and Cloud Map, so no instance port is open to the internet;
// - with `domain`: Caddy on the instance (ports 80 and 443 public) obtains the certificate itself.
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hardenBucket } from "../bucketHardening";
import { GRAFANA_PORT, GRAFANA_SERVICE } from "../contracts/grafana";
import type { Ec2Host } from "../types";
import type { BesideRequest, HostAdapter, PlaceRequest } from "./adapter";
import { apiGatewayFront } from "./apiGatewayFront";
import { caddyService, type PortRoute } from "./caddy";
import {
  gzipUserData,
  projectBucketName,
  renderApplyScript,
  renderBootstrapScript,
  renderFetchAndApply,
  renderSecretBundle,
  secretParameterName,
} from "./cloudInit";
import { type ComposeOptions, type ResolvedService, renderComposeProject } from "./compose";
import { secretsReadPolicy, ssmAgentPolicy } from "./ec2Iam";
import { requiredFact } from "./placement";
import { ec2Profile } from "./profiles/ec2";
import type { HttpRoute, ServiceSpec } from "./spec";

export const EC2_DEFAULTS = {
  instanceType: "t3.medium",
  dataVolumeSizeGb: 50,
  rootVolumeSizeGb: 30,
} as const;
/** Ports `adminCidrs` may reach: Grafana, which the presentation phase runs on the same instance. */
export const ADMIN_PORTS = [GRAFANA_PORT];
/**
 * With a domain and admin CIDRs, Caddy serves each admin port on the domain with its trusted
 * certificate and forwards it to the service behind (which the presentation phase places later, on the
 * same Docker network; until then Caddy answers 502). The security group still admits only adminCidrs.
 */
export function frontedAdminPorts(host: Ec2Host): PortRoute[] {
  if (!ec2Profile.exposes({ ec2: host }).operatorPortsFronted) return [];
  return ADMIN_PORTS.map((port) => ({ listen: port, service: GRAFANA_SERVICE, port: GRAFANA_PORT }));
}

export interface Ec2HostDeployment {
  readonly host: Ec2Host;
  /** Compose project name of these services. */
  readonly project: string;
  readonly services: ServiceSpec[];
  /** Paths the HTTPS front forwards; everything else is refused. */
  readonly routes: HttpRoute[];
}

export interface Ec2HostResources {
  readonly instance: aws.ec2.Instance;
  readonly securityGroup: aws.ec2.SecurityGroup;
  /** Public HTTPS base URL (API Gateway's, or `https://<domain>`). */
  readonly publicUrl: pulumi.Output<string>;
  /** Elastic IP for the user's DNS record (domain mode only). */
  readonly publicIp?: pulumi.Output<string>;
}

/** Where the front binds each public port: behind Caddy only Caddy is published. */
export function ec2Publish(domain: string | undefined) {
  return (service: ResolvedService, _port: number) =>
    domain === undefined || service.name === "caddy" ? "0.0.0.0" : undefined;
}

/** Subnet (given or the default VPC's first default-for-AZ subnet), with its AZ and VPC. */
function subnetOf(host: Ec2Host, opts: pulumi.InvokeOutputOptions) {
  const id: pulumi.Input<string> =
    host.subnetId ??
    aws.ec2
      .getSubnetsOutput(
        {
          filters: [
            { name: "vpc-id", values: [aws.ec2.getVpcOutput({ default: true }, opts).id] },
            { name: "default-for-az", values: ["true"] },
          ],
        },
        opts,
      )
      .ids.apply((ids) => {
        if (ids.length === 0) {
          throw new Error(
            "ec2: no default VPC subnet found; set firefly:ec2.subnetId to a subnet that routes to the internet",
          );
        }
        return [...ids].sort()[0];
      });
  return aws.ec2.getSubnetOutput({ id }, opts);
}

export function createEc2Host(name: string, d: Ec2HostDeployment, parent: pulumi.Resource): Ec2HostResources {
  const opts = { parent };
  const domain = d.host.domain;
  const partitionInfo = aws.getPartitionOutput({}, opts);
  const partition = partitionInfo.partition;
  const region = aws.getRegionOutput({}, opts).region;
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  const subnet = subnetOf(d.host, opts);
  const ami = aws.ec2.getAmiOutput(
    {
      owners: ["amazon"],
      mostRecent: true,
      filters: [
        { name: "name", values: ["al2023-ami-2023.*-x86_64"] },
        { name: "architecture", values: ["x86_64"] },
      ],
    },
    opts,
  );

  const sg = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    { vpcId: subnet.vpcId, description: "Firefly host: only the HTTPS front and admin CIDRs get in" },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-egress`,
    // Image pulls, package installs, SSM and the AWS APIs.
    { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
    opts,
  );
  for (const [i, cidr] of (d.host.adminCidrs ?? []).entries()) {
    for (const port of ADMIN_PORTS) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-admin-${port}-${i}`,
        { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: cidr },
        opts,
      );
    }
  }

  const role = new aws.iam.Role(
    `${name}-role`,
    {
      // The service principal's suffix differs by partition (amazonaws.com.cn in China).
      assumeRolePolicy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: pulumi.interpolate`ec2.${partitionInfo.dnsSuffix}` },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    },
    opts,
  );
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, opts);

  const data = new aws.ebs.Volume(
    `${name}-data`,
    {
      availabilityZone: subnet.availabilityZone,
      size: d.host.dataVolumeSizeGb ?? EC2_DEFAULTS.dataVolumeSizeGb,
      type: "gp3",
      encrypted: true,
      tags: { Name: `${name}-data` },
    },
    // The data is the point of the host: deleting the stack must not take it by accident.
    { ...opts, retainOnDelete: true },
  );

  const services = domain
    ? [...d.services, caddyService(domain, d.routes, frontedAdminPorts(d.host))]
    : d.services;
  // User data only prepares the machine (Docker, the data volume, the network); it depends on nothing
  // but the data volume, so a new collector config never replaces the instance. The services arrive
  // like any later project, through an SSM association that re-applies them in place.
  const userData = data.id.apply((volumeId) =>
    gzipUserData([renderBootstrapScript({ dataVolumeId: volumeId })]),
  );

  const instance = new aws.ec2.Instance(
    `${name}-instance`,
    {
      ami: ami.id,
      instanceType: d.host.instanceType ?? EC2_DEFAULTS.instanceType,
      subnetId: subnet.id,
      vpcSecurityGroupIds: [sg.id],
      iamInstanceProfile: profile.name,
      // Public address for image pulls without a NAT gateway; the security group admits nothing public.
      associatePublicIpAddress: true,
      userDataBase64: userData,
      // Only a new data volume changes the bootstrap; the volume then moves over to the new instance.
      userDataReplaceOnChange: true,
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeSize: EC2_DEFAULTS.rootVolumeSizeGb, volumeType: "gp3", encrypted: true },
      tags: { Name: name },
    },
    // A newer AMI appearing must not replace a running host.
    { ...opts, ignoreChanges: ["ami"] },
  );
  const attachment = new aws.ec2.VolumeAttachment(
    `${name}-data-attachment`,
    { deviceName: "/dev/sdf", volumeId: data.id, instanceId: instance.id, stopInstanceBeforeDetaching: true },
    // On instance replacement the volume must leave the old instance before it can join the new one.
    { ...opts, deleteBeforeReplace: true },
  );
  // The SSM agent's own needs and this instance's own parameters and project buckets (shipping's, and
  // any project deployServices adds later): nothing account-wide (ec2Iam.ts).
  const scope = pulumi
    .all([partition, region, account, instance.id])
    .apply(([p, r, a, id]) => ({ partition: p, region: r, account: a, instanceId: id }));
  new aws.iam.RolePolicy(
    `${name}-ssm-agent`,
    { role: role.name, policy: scope.apply((s) => JSON.stringify(ssmAgentPolicy(s))) },
    opts,
  );
  const secretsRead = new aws.iam.RolePolicy(
    `${name}-secrets-read`,
    {
      role: role.name,
      policy: scope.apply((s) =>
        JSON.stringify(secretsReadPolicy({ ...s, bucketPattern: projectBucketName(s.instanceId, "*") })),
      ),
    },
    opts,
  );

  // Named as the project's parameter was before it moved out of user data, so state carries over.
  applyEc2Project(`${name}-${d.project}`, {
    instanceId: instance.id,
    project: d.project,
    services,
    publish: ec2Publish(domain),
    parent,
    dependsOn: [attachment, secretsRead],
  });

  if (domain) {
    for (const [port, label] of [
      [443, "https"],
      [80, "acme"],
    ] as const) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${label}`,
        { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
        opts,
      );
    }
    const eip = new aws.ec2.Eip(`${name}-ip`, { domain: "vpc", instance: instance.id }, opts);
    return {
      instance,
      securityGroup: sg,
      publicUrl: pulumi.output(`https://${domain}`),
      publicIp: eip.publicIp,
    };
  }
  const publicUrl = apiGatewayFront(name, d.routes, { sg, subnet, instance }, opts);
  return { instance, securityGroup: sg, publicUrl };
}

export interface Ec2ProjectOptions {
  readonly instanceId: pulumi.Input<string>;
  /** Compose project name (also its directory and its parameter and bucket names). */
  readonly project: string;
  readonly services: ServiceSpec[];
  /** Where each public port binds. Default: every public port on 0.0.0.0 (the security group decides). */
  readonly publish?: ComposeOptions["publish"];
  readonly parent: pulumi.Resource;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A Compose project on a running instance, applied by an SSM association (AWS-RunShellScript) that
 * fetches the project's apply script from a private bucket and re-runs whenever it changes: the
 * services are updated in place, the instance stays. Its secrets travel as a SecureString parameter;
 * the instance role may read only its own buckets and parameters.
 */
export function applyEc2Project(name: string, o: Ec2ProjectOptions): pulumi.Resource[] {
  const parent = o.parent;
  const project = o.project;
  const rendered = pulumi
    .output(o.services)
    .apply((resolved) =>
      renderComposeProject(resolved as ResolvedService[], { publish: o.publish ?? (() => "0.0.0.0") }),
    );
  const secrets = new aws.ssm.Parameter(
    `${name}-secrets`,
    {
      name: pulumi.output(o.instanceId).apply((id) => secretParameterName(id, project)),
      type: "SecureString",
      value: pulumi.secret(rendered.apply(renderSecretBundle)),
    },
    { parent },
  );
  // The apply script goes to a private bucket named after the instance (whose role may read it); the
  // association's command only fetches and runs it, so its size does not matter.
  const bucket = new aws.s3.Bucket(
    `${name}-bundle`,
    {
      bucket: pulumi.output(o.instanceId).apply((id) => projectBucketName(id, project)),
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
      targets: [{ key: "InstanceIds", values: [o.instanceId] }],
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
    { parent, dependsOn: [secrets, object, ...(o.dependsOn ?? [])] },
  );
  return [secrets, bucket, privateBucket, ...hardening, object, association];
}

/** Compose project names are DNS labels. */
const projectName = (name: string) => name.toLowerCase().replace(/[^a-z0-9-]/g, "-");

export const ec2Adapter: HostAdapter = {
  ...ec2Profile,

  place(name: string, { settings, services, routes, parent }: PlaceRequest) {
    const created = createEc2Host(
      name,
      { host: settings.ec2 ?? {}, project: "shipping", services, routes },
      parent,
    );
    return { publicUrl: created.publicUrl, placement: { instanceId: created.instance.id } };
  },

  placeBeside(name: string, { settings, placement, services, parent }: BesideRequest) {
    const instanceId = requiredFact(placement.instanceId, "instanceId", "ShippingPhase.instanceId");
    // A port Caddy fronts stays unpublished: reachable only through Caddy, never around it.
    const fronted = new Set(frontedAdminPorts(settings.ec2 ?? {}).map((r) => r.port));
    return applyEc2Project(name, {
      instanceId,
      project: projectName(name),
      services,
      publish: (_service, port) => (fronted.has(port) ? undefined : "0.0.0.0"),
      parent,
    });
  },

  operatorUrl(request, port, scheme) {
    if (!ec2Profile.exposes(request.settings).operatorPortsOffHost) {
      // Reached through SSM Session Manager port forwarding to the operator's machine.
      return pulumi.output(`${scheme}://localhost:${port}`);
    }
    // With a domain the instance has an Elastic IP the domain points at; the address read here could be
    // the temporary one from before the Elastic IP was attached.
    const domain = request.settings.ec2?.domain;
    if (domain) return pulumi.output(`${scheme}://${domain}:${port}`);
    const instanceId = requiredFact(request.placement.instanceId, "instanceId", "ShippingPhase.instanceId");
    const instance = aws.ec2.getInstanceOutput({ instanceId }, { parent: request.parent });
    return pulumi.interpolate`${scheme}://${instance.publicIp}:${port}`;
  },
};
