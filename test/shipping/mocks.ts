// Pulumi mocks for the shipping and host tests: records every resource with its inputs (secret
// markers kept), answers the AWS lookups, and fills in the outputs a real provider would.
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

export interface Recorded {
  type: string;
  name: string;
  inputs: any;
}

export const recorded: Recorded[] = [];
export const ACCOUNT = "123456789012";
export const API_ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com";

/** Generated secrets are recognisable, so the tests can look for them in plain text. */
export const generatedSecret = (name: string) => `GEN${name.replace(/[^a-z0-9]/gi, "")}SECRET`;

/** What a test adds to these mocks: outputs for more resource types, answers to more invokes. */
export interface MockExtras {
  /** Outputs to merge over the defaults for a resource; undefined adds none. */
  state?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
  /** The answer to an invoke the defaults do not know; undefined falls through to them. */
  call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown> | undefined;
}

export function installMocks(extras: MockExtras = {}) {
  recorded.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        const extra: Record<string, unknown> = {};
        switch (args.type) {
          case "random:index/randomPassword:RandomPassword":
            extra.result = generatedSecret(args.name);
            break;
          case "docker:index/remoteImage:RemoteImage":
            extra.imageId = `sha256:${args.name}`;
            break;
          case "aws:ec2/instance:Instance":
            extra.privateIp = "10.0.1.23";
            break;
          case "aws:apigatewayv2/api:Api":
            extra.apiEndpoint = API_ENDPOINT;
            break;
          case "aws:ec2/eip:Eip":
            extra.publicIp = "203.0.113.7";
            break;
          case "aws:servicediscovery/service:Service":
            extra.arn = `arn:aws:servicediscovery:eu-west-1:${ACCOUNT}:service/srv-${args.name}`;
            break;
          case "kubernetes:core/v1:Service":
            if (args.inputs.spec?.type === "LoadBalancer") {
              extra.status = { loadBalancer: { ingress: [{ hostname: "lb.example.net" }] } };
            }
            break;
        }
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra, ...extras.state?.(args) } };
      },
      call(args) {
        const answer = extras.call?.(args);
        if (answer) return answer;
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { region: "eu-west-1", name: "eu-west-1" };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "x" };
          case "aws:ec2/getAmi:getAmi":
            return { id: "ami-0al2023x86", architecture: "x86_64", name: "al2023-ami-2023.9-x86_64" };
          case "aws:ec2/getVpc:getVpc":
            return { id: "vpc-default", cidrBlock: "172.31.0.0/16" };
          case "aws:ec2/getSubnets:getSubnets":
            return { ids: ["subnet-bbbb", "subnet-aaaa"] };
          case "aws:ec2/getSubnet:getSubnet":
            return {
              id: args.inputs.id,
              availabilityZone: "eu-west-1a",
              vpcId: "vpc-default",
              cidrBlock: "172.31.0.0/20",
            };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    "firefly",
    "test",
    false,
  );
}

/** Waits until no new resource has been registered for a while (registration is asynchronous). */
export async function settle(quietMs = 150): Promise<void> {
  let last = -1;
  while (last !== recorded.length) {
    last = recorded.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

export const ofType = (type: string) => recorded.filter((r) => r.type === type);

const isSecretWrapper = (v: any) => v && typeof v === "object" && v[specialSigKey] === specialSecretSig;

/**
 * Paths where a secret value sits in plain text (outside a secret marker). gzip+base64 strings (EC2
 * user data) are opened and searched too. Also returns how often each value was seen inside a marker,
 * so a test can show the search was not vacuous.
 */
export function scanSecrets(values: string[]): { plain: string[]; wrapped: number } {
  const plain: string[] = [];
  let wrapped = 0;
  const text = (s: string, where: string) => {
    for (const v of values) if (s.includes(v)) plain.push(`${where} contains ${v}`);
    if (s.startsWith("H4sI")) {
      try {
        text(gunzipSync(Buffer.from(s, "base64")).toString(), `${where} (gunzipped)`);
      } catch {
        // not gzip after all
      }
    }
  };
  const walk = (v: any, where: string, inSecret: boolean): void => {
    if (isSecretWrapper(v)) {
      if (values.some((s) => JSON.stringify(v.value ?? "").includes(s))) wrapped++;
      walk(v.value, where, true);
    } else if (typeof v === "string") {
      if (!inSecret) text(v, where);
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${where}[${i}]`, inSecret);
    } else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, inSecret);
  };
  for (const r of recorded) walk(r.inputs, `${r.type}::${r.name}`, false);
  return { plain, wrapped };
}

export function output<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => o.apply((v) => done(v)));
}
