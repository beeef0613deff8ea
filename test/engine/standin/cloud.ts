// What the stand-in cloud answers: the outputs a real provider computes that Firefly reads back, and the
// lookups (invokes) Firefly makes. Shared by the stand-in provider plugin (the real-engine tests) and the
// packed-package consumer's mocks (test/consumer), so both see the same cloud.
export const ACCOUNT = "123456789012";

/** Outputs a real provider computes that Firefly reads (the rest of the state is the inputs). */
export function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { result: `stand-in-${name}-password` };
    case "tls:index/privateKey:PrivateKey":
      return { privateKeyPem: `stand-in ${name} key`, publicKeyOpenssh: `ssh-ed25519 stand-in-${name}` };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return { certPem: `stand-in ${name} certificate` };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:${name}` };
    case "aws:ec2/instance:Instance":
      return { privateIp: "10.0.1.23", publicIp: "203.0.113.8" };
    case "aws:ec2/eip:Eip":
      return { publicIp: "203.0.113.7" };
    case "aws:apigatewayv2/api:Api":
      return { apiEndpoint: "https://abc123.execute-api.eu-west-1.amazonaws.com" };
    case "kubernetes:core/v1:Service":
      return inputs.spec?.type === "LoadBalancer"
        ? { status: { loadBalancer: { ingress: [{ hostname: "lb.example.net" }] } } }
        : {};
  }
  return type.startsWith("aws:")
    ? { arn: `arn:aws:${type.split(/[:/]/)[1]}:eu-west-1:${ACCOUNT}:${name}` }
    : {};
}

export function invoke(token: string, args: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { region: "eu-west-1", name: "eu-west-1", id: "eu-west-1" };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/stand-in`, userId: "x", id: ACCOUNT };
    case "aws:ec2/getAmi:getAmi":
      return { id: "ami-0al2023x86", architecture: "x86_64", name: "al2023-ami-2023.9-x86_64" };
    case "aws:ec2/getVpc:getVpc":
      return { id: "vpc-default", cidrBlock: "172.31.0.0/16" };
    case "aws:ec2/getSubnets:getSubnets":
      return { ids: ["subnet-bbbb", "subnet-aaaa"], id: "subnets" };
    case "aws:lambda/getFunction:getFunction":
      return {
        functionName: args.functionName,
        arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${args.functionName}`,
        runtime: "nodejs22.x",
        handler: "index.handler",
        packageType: "Zip",
        timeout: 30,
      };
    case "aws:ec2/getInstance:getInstance":
      return {
        id: args.instanceId,
        instanceId: args.instanceId,
        publicIp: "203.0.113.8",
        privateIp: "10.0.1.23",
      };
    case "aws:ec2/getSubnet:getSubnet":
      return {
        id: args.id,
        availabilityZone: "eu-west-1a",
        vpcId: "vpc-default",
        cidrBlock: "172.31.0.0/20",
      };
  }
  throw new Error(`the stand-in cloud does not answer ${token}`);
}
