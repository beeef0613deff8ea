// Pulumi mocks for the presentation component: the shipping tests' mocks (so their `recorded` list,
// secret scanner and helpers apply), plus what the TLS provider and the instance and function lookups return.
import { installMocks } from "../shipping/mocks";

export const PUBLIC_IP = "198.51.100.20";
/** Every function the getFunction mock is asked about has this timeout. */
export const FUNCTION_TIMEOUT_S = 15;
/** Private key PEM the TLS mock "generates": must only ever appear inside secrets. */
export const MOCK_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----MOCKKEY-----END PRIVATE KEY-----";

export function installPresentationMocks() {
  installMocks({
    state(args) {
      if (args.type === "tls:index/privateKey:PrivateKey") return { privateKeyPem: MOCK_PRIVATE_KEY };
      if (args.type === "tls:index/selfSignedCert:SelfSignedCert")
        return { certPem: "-----BEGIN CERTIFICATE-----MOCK" };
      return undefined;
    },
    call(args) {
      if (args.token === "aws:ec2/getInstance:getInstance") return { ...args.inputs, publicIp: PUBLIC_IP };
      if (args.token === "aws:lambda/getFunction:getFunction")
        return { ...args.inputs, timeout: FUNCTION_TIMEOUT_S };
      return undefined;
    },
  });
}
