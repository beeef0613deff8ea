// Runs the Firefly program (index.ts) under Pulumi mocks with a given stack config, for tests that
// read everything the program renders across many configurations. The mocks are the shipping tests'
// plus the answers the emit and presentation phases need; test/foundation/program.test.ts and the
// journeys (test/journeys/deployment.ts) load the program through here too.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { plain } from "../emit/rpc";
import { ACCOUNT, installMocks, type MockExtras, recorded, settle } from "../shipping/mocks";

const PROGRAM = path.join(__dirname, "..", "..", "index.ts");
export const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

/** How a test's provider answers differ from the defaults. */
export interface ProgramMockOptions {
  /** The timeout (s) every function reports to `getFunction`; the journeys use a short one. */
  readonly functionTimeout?: number;
  /** More resource outputs, merged over the common ones (see test/shipping/mocks.ts MockExtras). */
  readonly state?: MockExtras["state"];
}

/** The shipping tests' mocks, plus the answers the emit and presentation phases need. */
export function installProgramMocks(options: ProgramMockOptions = {}) {
  installMocks({
    state(args) {
      const extra = options.state?.(args);
      const common = commonState(args);
      return extra || common ? { ...common, ...extra } : undefined;
    },
    call(args) {
      if (args.token === "aws:lambda/getFunction:getFunction")
        return { functionName: args.inputs.functionName, timeout: options.functionTimeout ?? 30 };
      if (args.token === "aws:ec2/getInstance:getInstance")
        return { id: args.inputs.id, publicIp: "203.0.113.9" };
      return undefined;
    },
  });
}

function commonState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> | undefined {
  const inputs = plain(args.inputs);
  if (args.type === "aws:lambda/layerVersion:LayerVersion")
    return { arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:${inputs.layerName}:1` };
  // Grafana's self-signed certificate (ec2 with admin CIDRs and no domain).
  if (args.type === "tls:index/privateKey:PrivateKey")
    return { privateKeyPem: "-----BEGIN PRIVATE KEY-----\nmock\n-----END PRIVATE KEY-----\n" };
  if (args.type === "tls:index/selfSignedCert:SelfSignedCert")
    return { certPem: "-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----\n" };
  if (args.type === "aws:cloudwatch/metricStream:MetricStream")
    return { name: inputs.name ?? `${args.name}-stream` };
  if (args.type.startsWith("pulumi-nodejs:dynamic"))
    return {
      functionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${inputs.functionName}`,
      skipped: "",
    };
  return undefined;
}

/**
 * Loads index.ts afresh with this stack config, as `pulumi up` would run it, and returns its exports.
 * The caller resets the config when done (`pulumi.runtime.setAllConfig({}, [])`).
 */
export function loadProgram(
  config: Record<string, string>,
  secretKeys: string[] = [],
  options: ProgramMockOptions = {},
): Record<string, pulumi.Output<unknown>> {
  installProgramMocks(options);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`firefly:${k}`, v])),
    secretKeys.map((k) => `firefly:${k}`),
  );
  delete require.cache[require.resolve(PROGRAM)];
  return require(PROGRAM) as Record<string, pulumi.Output<unknown>>;
}

export interface Rendered {
  readonly type: string;
  readonly name: string;
  /** Inputs with secret markers removed. */
  readonly inputs: any;
}

/** Run index.ts with this stack config, as `pulumi up` would, and return every resource it created. */
export async function renderProgram(
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<Rendered[]> {
  try {
    const stack = loadProgram(config, secretKeys);
    await value(stack.grafanaUrl);
    await settle();
    return recorded.map((r) => ({ type: r.type, name: r.name, inputs: plain(r.inputs) }));
  } finally {
    pulumi.runtime.setAllConfig({}, []);
  }
}

/** The configurations the security tests render: every host, both stores, metrics on and off, each front. */
export const CONFIGURATIONS: {
  readonly name: string;
  readonly config: Record<string, string>;
  readonly secretKeys?: string[];
}[] = [
  // Every configuration names an address Lambda reaches: the others are refused before anything exists.
  {
    name: "docker, tunnel URL",
    config: { docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) },
  },
  {
    name: "docker promscale",
    config: { storage: "promscale", docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }) },
  },
  {
    name: "docker public URL, metrics, functions",
    config: {
      metrics: "true",
      functions: JSON.stringify(["orders"]),
      docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }),
    },
  },
  { name: "ec2 API Gateway front", config: { host: "ec2" } },
  { name: "ec2 promscale, metrics", config: { host: "ec2", storage: "promscale", metrics: "true" } },
  {
    name: "ec2 domain, admin CIDR, functions",
    config: {
      host: "ec2",
      metrics: "true",
      functions: JSON.stringify(["orders", "billing"]),
      ec2: JSON.stringify({ domain: "firefly.example.com", adminCidrs: ["203.0.113.0/24"] }),
    },
  },
  {
    name: "kubernetes own HTTPS front",
    config: { host: "kubernetes", kubernetes: JSON.stringify({ publicUrl: "https://ingest.example.com" }) },
  },
  {
    name: "kubernetes promscale",
    config: {
      host: "kubernetes",
      storage: "promscale",
      kubernetes: JSON.stringify({ ingressHost: "ingest.example.com" }),
    },
  },
  {
    name: "kubernetes three replicas routing by trace id",
    config: {
      host: "kubernetes",
      sampling: JSON.stringify({ percent: 50 }),
      kubernetes: JSON.stringify({ ingressHost: "ingest.example.com", replicas: 3 }),
    },
  },
  {
    name: "kubernetes ingress, metrics",
    config: {
      host: "kubernetes",
      metrics: "true",
      kubernetes: JSON.stringify({ ingressHost: "ingest.example.com", namespace: "obs" }),
    },
  },
  {
    name: "kubernetes storage external",
    config: {
      host: "kubernetes",
      storage: "external",
      kubernetes: JSON.stringify({ ingressHost: "ingest.example.com" }),
      externalStorage: JSON.stringify({
        metricsWriteUrl: "https://vminsert.example.com/insert/0/prometheus/api/v1/write",
        metricsQueryUrl: "http://vmselect.monitoring.svc:8481/select/0/prometheus",
        tracesEndpoint: "jaeger-collector.example.com:4317",
        tracesQueryUrl: "http://jaeger-query.monitoring.svc:16686",
        logsEndpoint: "https://vlinsert.example.com:9481/insert/opentelemetry",
        logsQueryUrl: "http://vlselect.monitoring.svc:9471",
      }),
      externalLogsAuth: "Bearer logs-credential-for-the-policy-test",
    },
    secretKeys: ["externalLogsAuth"],
  },
  {
    name: "kubernetes sampling, kubeconfig secret",
    config: {
      host: "kubernetes",
      sampling: JSON.stringify({ percent: 20 }),
      kubernetes: JSON.stringify({
        kubeconfig: "apiVersion: v1\nkind: Config\n",
        publicUrl: "https://ingest.example.com",
      }),
    },
    secretKeys: ["kubernetes"],
  },
];

/** Run index.ts with this stack config and return one of its stack outputs, resolved. */
export async function programOutput(
  config: Record<string, string>,
  output: string,
  secretKeys: string[] = [],
): Promise<unknown> {
  try {
    const stack = loadProgram(config, secretKeys);
    const value = await new Promise<unknown>((resolve) => stack[output].apply(resolve));
    await settle();
    return value;
  } finally {
    pulumi.runtime.setAllConfig({}, []);
  }
}
