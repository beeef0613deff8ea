// The stand-in for the cloud providers that cannot run here (aws, docker, random, tls, kubernetes): one
// resource provider plugin served by Pulumi's own provider SDK, installed under each of those names at
// the versions the package depends on. Like the mocks it echoes inputs (check, diff, create, update), fills
// in the few outputs a real provider computes that Firefly reads back, and answers the AWS lookups; unlike
// the mocks it sits behind the real engine and the real provider protocol.
// Run as: node standin.js <package name> <version> <engine address>
import { main, type Provider } from "@pulumi/pulumi/provider";
import { computed, invoke } from "./cloud";

const version = process.argv[3];
/** Type and name from a URN: urn:pulumi:<stack>::<project>::<parent types$>type::<name> */
function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: parts[2].split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

const standin: Provider = {
  version,
  async check(_urn, _olds, news) {
    return { inputs: news };
  },
  async diff(_id, _urn, olds, news) {
    return { changes: JSON.stringify(olds) !== JSON.stringify(news) };
  },
  async create(urn, inputs) {
    const { type, name } = urnParts(urn);
    return { id: `${name}-id`, outs: { ...inputs, ...computed(type, name, inputs) } };
  },
  async update(_id, urn, _olds, news) {
    const { type, name } = urnParts(urn);
    return { outs: { ...news, ...computed(type, name, news) } };
  },
  async read(id, _urn, props) {
    return { id, props };
  },
  async delete() {},
  async invoke(token, args) {
    return { outputs: invoke(token, args) };
  },
};

main(standin, process.argv.slice(4)).catch((err) => {
  console.error(err);
  process.exit(1);
});
