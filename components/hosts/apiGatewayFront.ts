// The ec2 host's HTTPS front without a domain: an API Gateway HTTP API (trusted certificate on 443)
// whose routes, the collector paths only, reach the instance privately through a VPC link and Cloud
// Map. The instance admits the ingest ports from the VPC link's security group alone.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { frontAccessLog } from "./frontAccessLog";
import type { HttpRoute } from "./spec";

/** Bounds API Gateway spend if someone floods the public URL (requests are refused, but billed). */
export const FRONT_THROTTLE = { burstLimit: 2000, rateLimit: 1000 };

export interface FrontTarget {
  /** The instance's security group, which gets one ingress rule per routed port. */
  readonly sg: aws.ec2.SecurityGroup;
  readonly subnet: pulumi.Output<aws.ec2.GetSubnetResult>;
  readonly instance: aws.ec2.Instance;
}

/** Creates the API and returns its base URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
export function apiGatewayFront(
  name: string,
  routes: HttpRoute[],
  at: FrontTarget,
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  const linkSg = new aws.ec2.SecurityGroup(
    `${name}-front-sg`,
    { vpcId: at.subnet.vpcId, description: "Firefly API Gateway VPC link: out to the collector only" },
    opts,
  );
  const api = new aws.apigatewayv2.Api(`${name}-front`, { protocolType: "HTTP" }, opts);
  const link = new aws.apigatewayv2.VpcLink(
    `${name}-front-link`,
    { subnetIds: [at.subnet.id], securityGroupIds: [linkSg.id] },
    opts,
  );
  const namespace = new aws.servicediscovery.HttpNamespace(`${name}-front-ns`, {}, opts);
  for (const port of [...new Set(routes.map((r) => r.port))]) {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-front-${port}`,
      {
        securityGroupId: at.sg.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: linkSg.id,
      },
      opts,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-front-out-${port}`,
      {
        securityGroupId: linkSg.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: at.sg.id,
      },
      opts,
    );
    const service = new aws.servicediscovery.Service(
      `${name}-front-${port}`,
      { namespaceId: namespace.id, name: `port-${port}` },
      opts,
    );
    new aws.servicediscovery.Instance(
      `${name}-front-${port}`,
      {
        serviceId: service.id,
        instanceId: "host",
        attributes: { AWS_INSTANCE_IPV4: at.instance.privateIp, AWS_INSTANCE_PORT: String(port) },
      },
      opts,
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-front-${port}`,
      {
        apiId: api.id,
        integrationType: "HTTP_PROXY",
        integrationMethod: "ANY",
        connectionType: "VPC_LINK",
        connectionId: link.id,
        integrationUri: service.arn,
        payloadFormatVersion: "1.0",
      },
      opts,
    );
    for (const r of routes.filter((x) => x.port === port)) {
      new aws.apigatewayv2.Route(
        `${name}-route${r.path.replace(/\//g, "-")}`,
        {
          apiId: api.id,
          routeKey: `POST ${r.path}`,
          target: pulumi.interpolate`integrations/${integration.id}`,
        },
        opts,
      );
    }
  }
  new aws.apigatewayv2.Stage(
    `${name}-front`,
    {
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      accessLogSettings: frontAccessLog(name, opts).settings,
      defaultRouteSettings: {
        throttlingBurstLimit: FRONT_THROTTLE.burstLimit,
        throttlingRateLimit: FRONT_THROTTLE.rateLimit,
      },
    },
    opts,
  );
  return api.apiEndpoint;
}
