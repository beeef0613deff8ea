// Pulumi mocks for the presentation component: records into the shipping tests' `recorded` list so
// their secret scanner and helpers apply, and fills in what the TLS provider and the instance lookup return.
import * as pulumi from "@pulumi/pulumi";
import { generatedSecret, recorded } from "../shipping/mocks";

export const PUBLIC_IP = "198.51.100.20";
/** Every function the getFunction mock is asked about has this timeout. */
export const FUNCTION_TIMEOUT_S = 15;
/** Private key PEM the TLS mock "generates": must only ever appear inside secrets. */
export const MOCK_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----MOCKKEY-----END PRIVATE KEY-----";

export function installPresentationMocks() {
  recorded.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        const outputs: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword")
          outputs.result = generatedSecret(args.name);
        if (args.type === "tls:index/privateKey:PrivateKey") outputs.privateKeyPem = MOCK_PRIVATE_KEY;
        if (args.type === "tls:index/selfSignedCert:SelfSignedCert")
          outputs.certPem = "-----BEGIN CERTIFICATE-----MOCK";
        if (args.type === "docker:index/remoteImage:RemoteImage") outputs.imageId = `sha256:${args.name}`;
        return { id: `${args.name}-id`, state: outputs };
      },
      call(args) {
        if (args.token === "aws:ec2/getInstance:getInstance") return { ...args.inputs, publicIp: PUBLIC_IP };
        if (args.token === "aws:lambda/getFunction:getFunction") {
          return { ...args.inputs, timeout: FUNCTION_TIMEOUT_S };
        }
        if (args.token === "aws:index/getRegion:getRegion") return { region: "eu-west-1", name: "eu-west-1" };
        if (args.token === "aws:index/getPartition:getPartition") return { partition: "aws" };
        throw new Error(`unmocked invoke ${args.token}`);
      },
    },
    "firefly",
    "test",
    false,
  );
}
