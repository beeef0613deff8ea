// Prints, as JSON, the resource types and counts one component creates under the Pulumi mocks the unit
// tests use, so the engine tests can hold the graph a consumer gets on the real engine against it.
// Usage: node --import tsx test/engine/mockGraph.ts <Firefly|EmitPhase|ShippingPhase|PresentationPhase> '<args as JSON>'
import * as components from "../../components";
import { installMocks, recorded, settle } from "../shipping/mocks";

async function main() {
  const [name, argsJson] = process.argv.slice(2);
  installMocks({
    // What the stand-in provider computes too (the shared mocks leave TLS material out).
    state(args) {
      if (args.type === "tls:index/privateKey:PrivateKey")
        return { privateKeyPem: "key", publicKeyOpenssh: "ssh" };
      if (args.type === "tls:index/selfSignedCert:SelfSignedCert") return { certPem: "certificate" };
      return undefined;
    },
    call(args) {
      if (args.token === "aws:ec2/getInstance:getInstance")
        return { id: args.inputs.instanceId, publicIp: "203.0.113.8", privateIp: "10.0.1.23" };
      return undefined;
    },
  });
  const Component = (components as unknown as Record<string, new (n: string, a: unknown) => unknown>)[name];
  new Component(name.toLowerCase(), JSON.parse(argsJson));
  await settle();
  const counts: Record<string, number> = {};
  for (const r of recorded) counts[r.type] = (counts[r.type] ?? 0) + 1;
  process.stdout.write(JSON.stringify(counts));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
