// Shared by the host and shipping tests: resolve Outputs outside the engine, sample and real service
// lists, and the tools .ci/setup.d builds.
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSpec } from "../../components/hosts/spec";
import { collectorService } from "../../components/shipping/collector";
import { storageServices } from "../../components/shipping/storage";
import type { Storage } from "../../components/types";

/** Resolves an Output (or plain value) created outside a Pulumi program. */
export function resolve<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((done) => pulumi.output(value).apply((v) => done(v as pulumi.Unwrap<T>)));
}

export const SECRET_PASSWORD = "s3cret-Password-4242";

/** A store with a volume and secrets, and a public ingest service that depends on it. */
export function sampleServices(): ServiceSpec[] {
  return [
    {
      name: "store",
      image: "example/store:1.0",
      env: { MODE: "single" },
      secretEnv: { STORE_PASSWORD: pulumi.secret(SECRET_PASSWORD) },
      ports: [{ name: "db", container: 5432, protocol: "tcp" }],
      volumes: [{ name: "store-data", mountPath: "/data", sizeGb: 7, owner: "1000:1000" }],
      files: [
        { path: "/etc/store/store.conf", content: "listen = 0.0.0.0\n" },
        { path: "/etc/store/tls.key", content: pulumi.secret("-----KEY-----"), secret: true },
      ],
      health: { port: 5432, path: "/ready" },
      resources: { cpu: 1, memoryMb: 512 },
      user: "1000:1000",
      stateful: true,
      amd64Only: true,
    },
    {
      name: "ingest",
      image: "example/ingest:2.0",
      args: ["--config=/etc/ingest.yaml"],
      ports: [
        { name: "http", container: 4318, public: true, protocol: "http" },
        { name: "admin", container: 9999, protocol: "http" },
      ],
      files: [{ path: "/etc/ingest.yaml", content: "receivers: {}\n" }],
      resources: { cpu: 0.5, memoryMb: 256 },
      dependsOn: ["store"],
      replicas: 2,
    },
  ];
}

/** A binary built by .ci/setup.d into .firefly/tools (`<name>-<version>`), or undefined. */
export function findTool(name: string): string | undefined {
  const tools = path.resolve(".firefly/tools");
  const bin = existsSync(tools)
    ? readdirSync(tools).find((f) => f.startsWith(`${name}-`) && !f.endsWith(".tmp"))
    : undefined;
  return bin && path.join(tools, bin);
}

export function requireTool(name: string, setup: string): string {
  const bin = findTool(name);
  if (!bin) throw new Error(`${name} is not built: run .ci/setup.d/${setup}`);
  return bin;
}

/** The real shipping services for a store, with test secrets. */
export function shippingServices(storage: Storage): ServiceSpec[] {
  return [
    ...storageServices({
      storage,
      databasePassword: "db-0123456789abcdef",
      readonlyPassword: "ro-0123456789abcdef",
      writerPassword: "rw-0123456789abcdef",
    }),
    collectorService({ config: { storage }, otlpToken: "t".repeat(40), firehoseAccessKey: "k".repeat(40) }),
  ];
}
