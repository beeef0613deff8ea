// The ec2 host's resources: one x86_64 Amazon Linux 2023 instance running the services with Docker
// Compose, its data on a separate EBS volume (kept across instance replacement), reached through SSM
// (no SSH), and an HTTPS front on 443 with a trusted certificate:
// - no domain: an API Gateway HTTP API whose routes (the collector paths only) reach the instance
//   privately through a VPC link and Cloud Map, so no instance port is open to the internet;
// - with `domain`: Caddy on the instance (ports 80 and 443 public) obtains the certificate itself.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Ec2Host } from "../types";
import { apiGatewayFront } from "./apiGatewayFront";
import { caddyService } from "./caddy";
import {
  gzipUserData,
  projectBucketName,
  renderApplyScript,
  renderBootstrapScript,
  renderSecretBundle,
} from "./cloudInit";
import { type ResolvedService, renderComposeProject } from "./compose";
import { secretsReadPolicy, ssmAgentPolicy } from "./ec2Iam";
import type { HttpRoute, ServiceSpec } from "./spec";

export const EC2_DEFAULTS = {
  instanceType: "t3.medium",
  dataVolumeSizeGb: 50,
  rootVolumeSizeGb: 30,
} as const;
/** Ports `adminCidrs` may reach: Grafana, which the presentation phase runs on the same instance. */
export const ADMIN_PORTS = [3000];

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

  const services = domain ? [...d.services, caddyService(domain, d.routes)] : d.services;
  // Resolve every Input once; the compose file and user data carry no secret (tested), so they are
  // unsecreted to keep previews readable. Secrets go only into the SecureString parameter.
  const rendered = pulumi
    .output(services)
    .apply((resolved) =>
      renderComposeProject(resolved as ResolvedService[], { publish: ec2Publish(domain) }),
    );
  const userData = pulumi.unsecret(
    pulumi
      .all([rendered, data.id])
      .apply(([project, volumeId]) =>
        gzipUserData([
          renderBootstrapScript({ dataVolumeId: volumeId }),
          renderApplyScript({ project: d.project, rendered: project }),
        ]),
      ),
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
      // A new config means a new instance that boots with it; the data volume moves over.
      userDataReplaceOnChange: true,
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeSize: EC2_DEFAULTS.rootVolumeSizeGb, volumeType: "gp3", encrypted: true },
      tags: { Name: name },
    },
    // A newer AMI appearing must not replace a running host.
    { ...opts, ignoreChanges: ["ami"] },
  );
  new aws.ec2.VolumeAttachment(
    `${name}-data-attachment`,
    { deviceName: "/dev/sdf", volumeId: data.id, instanceId: instance.id, stopInstanceBeforeDetaching: true },
    // On instance replacement the volume must leave the old instance before it can join the new one.
    { ...opts, deleteBeforeReplace: true },
  );
  new aws.ssm.Parameter(
    `${name}-${d.project}-secrets`,
    {
      name: pulumi.interpolate`/firefly/${instance.id}/${d.project}`,
      type: "SecureString",
      value: pulumi.secret(rendered.apply(renderSecretBundle)),
    },
    opts,
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
  new aws.iam.RolePolicy(
    `${name}-secrets-read`,
    {
      role: role.name,
      policy: scope.apply((s) =>
        JSON.stringify(secretsReadPolicy({ ...s, bucketPattern: projectBucketName(s.instanceId, "*") })),
      ),
    },
    opts,
  );

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
