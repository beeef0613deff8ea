import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { dockerContainerArgs, volumeInitArgs } from "../../components/hosts/docker";
import { resolve, SECRET_PASSWORD, sampleServices } from "./helpers";

const at = { prefix: "ff", network: "ff-net", bindAddress: "127.0.0.1" };

describe("docker host renderer", () => {
  const [store, ingest] = sampleServices();

  it("publishes only public ports, on the bind address", async () => {
    assert.deepEqual(await resolve(dockerContainerArgs(ingest, at).ports!), [
      { internal: 4318, external: 4318, ip: "127.0.0.1" },
    ]);
    assert.deepEqual(await resolve(dockerContainerArgs(store, at).ports!), []);
  });

  it("joins the shared network under the service name and mounts prefixed volumes", async () => {
    const args = dockerContainerArgs(store, at);
    assert.equal(args.name, "ff-store");
    assert.deepEqual(await resolve(args.networksAdvanced!), [{ name: "ff-net", aliases: ["store"] }]);
    assert.deepEqual(await resolve(args.volumes!), [{ volumeName: "ff-store-data", containerPath: "/data" }]);
    assert.equal(args.user, "1000:1000");
    assert.equal(args.memory, 512);
    assert.equal(args.restart, "unless-stopped");
  });

  it("keeps secret env and secret files secret, plain ones plain", async () => {
    const args = dockerContainerArgs(store, at);
    const envs = args.envs as pulumi.Output<string>[];
    const secretEnv = envs.find((e) => pulumi.Output.isInstance(e) && e !== envs[0])!;
    assert.equal(await pulumi.isSecret(secretEnv), true);
    assert.equal(await resolve(secretEnv), `STORE_PASSWORD=${SECRET_PASSWORD}`);
    assert.equal(await pulumi.isSecret(envs[0]), false);
    assert.equal(await resolve(envs[0]), "MODE=single");
    const uploads = args.uploads as { file: string; content: pulumi.Input<string> }[];
    const key = uploads.find((u) => u.file === "/etc/store/tls.key")!;
    assert.equal(await pulumi.isSecret(pulumi.output(key.content)), true);
    assert.equal(
      await resolve(uploads.find((u) => u.file === "/etc/store/store.conf")!.content),
      "listen = 0.0.0.0\n",
    );
  });

  it("hands an owned volume to its user with a one-shot container", () => {
    const init = volumeInitArgs(store.volumes![0], at)!;
    assert.deepEqual(init.command, ["chown", "-R", "1000:1000", "/volume"]);
    assert.equal(init.mustRun, false);
    assert.equal(volumeInitArgs({ name: "x", mountPath: "/x", sizeGb: 1 }, at), undefined);
  });
});
