// Stack configuration: one table of settings (name, schema, default, meaning, an example for the fix
// command) from which validation, Pulumi.yaml's `config:` block and the README table are checked.
// `validateConfig` is pure: it takes the raw strings Pulumi hands the program and returns a typed
// config or throws a ConfigError listing every problem, each with the command that fixes it.
import { z } from "zod";
import { hygieneChecks, scrubProblem, sensitiveStrings } from "./configHygiene";
import { plannedOtlpEndpoint } from "./hosts/plannedEndpoint";
import { publicHttpsEndpoint } from "./hosts/profiles";
import { firehoseUrlProblem, otlpEndpointProblem } from "./reachability";
import { DEFAULT_STORAGE } from "./storageChoice";
import { Host, Storage } from "./types";

export const CONFIG_NAMESPACE = "firefly";

/** AWS/Lambda metrics CloudWatch publishes; the metric stream may include any of them. */
export const LAMBDA_METRIC_NAMES = [
  "Invocations",
  "Errors",
  "Throttles",
  "Duration",
  "ConcurrentExecutions",
  "UnreservedConcurrentExecutions",
  "ClaimedAccountConcurrency",
  "DeadLetterErrors",
  "DestinationDeliveryFailures",
  "OversizedRecordCount",
  "RecursiveInvocationsDropped",
  "PostRuntimeExtensionsDuration",
  "IteratorAge",
  "OffsetLag",
  "ProvisionedConcurrencyInvocations",
  "ProvisionedConcurrencySpilloverInvocations",
  "ProvisionedConcurrentExecutions",
  "ProvisionedConcurrencyUtilization",
  "AsyncEventsReceived",
  "AsyncEventAge",
  "AsyncEventsDropped",
] as const;

/** What the dashboards and alerts read; streaming more costs more ($0.003 per 1,000 metric updates). */
export const DEFAULT_METRIC_NAMES = [
  "Invocations",
  "Errors",
  "Throttles",
  "Duration",
  "ConcurrentExecutions",
];

export const InstrumentationMode = {
  /** The function's handler becomes `/opt/firefly/handler.handler`; its own moves to `FIREFLY_HANDLER`. */
  Handler: "handler",
  /** `AWS_LAMBDA_EXEC_WRAPPER=/opt/firefly-wrapper`; the handler is left alone. */
  Wrapper: "wrapper",
} as const;
export type InstrumentationMode = (typeof InstrumentationMode)[keyof typeof InstrumentationMode];

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
// Full ARN (any partition, optional version/alias qualifier) or the partial `123456789012:function:name` form.
const FUNCTION_ARN =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Graviton families carry a `g` after the generation digit (t4g, m7gd, c6gn); Promscale's images are amd64-only.
const GRAVITON = /^[a-z]+\d+[a-z]*g[a-z]*\./;

const httpsUrl = z
  .string()
  .regex(
    /^https:\/\/[^/:]+(:443)?(\/.*)?$/,
    "must be an https:// URL on port 443 (Firehose delivers nowhere else)",
  );

const dockerSchema = z.strictObject({
  engine: z
    .string()
    .regex(
      /^(unix|ssh|tcp|npipe):\/\/.+/,
      "must be unix://, ssh://, tcp:// or npipe:// followed by an address",
    )
    .optional(),
  publicUrl: httpsUrl.optional(),
  bindAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
  certPath: z.string().min(1).optional(),
});

const ec2Schema = z.strictObject({
  instanceType: z
    .string()
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must look like t3.medium")
    .refine(
      (t) => !GRAVITON.test(t),
      "must be an x86_64 type (the storage images are amd64 only), e.g. t3.medium",
    )
    .optional(),
  subnetId: z
    .string()
    .regex(/^subnet-[0-9a-f]{8,17}$/, "must be a subnet id like subnet-0123456789abcdef0")
    .optional(),
  adminCidrs: z.array(z.string().regex(CIDR, "must be a CIDR block like 203.0.113.0/24")).optional(),
  adminCidrsOpenToInternet: z.boolean().optional(),
  domain: z.string().regex(HOSTNAME, "must be a lower-case DNS name like firefly.example.com").optional(),
  dataVolumeSizeGb: z.number().int().min(10).max(16384).optional(),
});

const kubernetesSchema = z.strictObject({
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  namespace: z.string().regex(DNS_LABEL, "must be a DNS label (lower-case letters, digits, '-')").optional(),
  storageClass: z.string().min(1).optional(),
  ingressHost: z.string().regex(HOSTNAME, "must be a lower-case DNS name like ingest.example.com").optional(),
  ingressClass: z.string().min(1).optional(),
  tlsSecretName: z.string().regex(DNS_LABEL, "must be a DNS label").optional(),
  publicUrl: httpsUrl.optional(),
  replicas: z.number().int().min(1).max(100).optional(),
  autoscale: z
    .strictObject({
      min: z.number().int().min(1).max(100),
      max: z.number().int().min(1).max(100),
      cpuPercent: z.number().int().min(10).max(100).optional(),
    })
    .refine((a) => a.max >= a.min, { message: "must be at least autoscale.min", path: ["max"] })
    .optional(),
});

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name like Authorization");

/** A field storage external cannot do without: missing, it says what the field is for. */
const needed = (what: string) =>
  z.string({
    error: (issue) =>
      issue.input === undefined ? `is required with storage external: ${what}` : "must be a string",
  });
const neededUrl = (what: string) =>
  needed(what).regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, "must be an http(s) URL");

const externalStorageSchema = z.strictObject({
  metricsWriteUrl: neededUrl("the Prometheus remote-write URL metrics go to"),
  metricsQueryUrl: neededUrl("the PromQL URL Grafana reads metrics from"),
  tracesEndpoint: needed("the OTLP/gRPC host:port traces go to").regex(
    /^[A-Za-z0-9.-]+:\d{1,5}$/,
    "must be host:port of an OTLP/gRPC endpoint",
  ),
  tracesQueryUrl: neededUrl("the Jaeger query URL Grafana reads traces from"),
  // The layer ships every instrumented function's console output as logs (and firefly:logs adds
  // Lambda's own lines): they need a store whether or not firefly:logs is on.
  logsEndpoint: needed(
    "the OTLP/HTTP base URL logs go to (the layer ships your functions' console output as logs)",
  )
    .regex(/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/, "must be an http(s) URL without query or fragment")
    .refine(
      (u) => !/\/v1\/logs\/?$/.test(u),
      "must be the OTLP base URL: Firefly appends /v1/logs itself (drop it from the end)",
    ),
  logsQueryUrl: neededUrl("the VictoriaLogs (LogsQL) URL Grafana reads logs from"),
  metricsAuthHeader: headerName.optional(),
  tracesAuthHeader: headerName.optional(),
  logsAuthHeader: headerName.optional(),
  tracesInsecure: z.boolean().optional(),
});

const samplingSchema = z.strictObject({
  percent: z.number().min(0).max(100).optional(),
  slowMs: z.number().int().min(1).optional(),
});

const lambdaPricesSchema = z.strictObject({
  x86PerGbSecond: z.number().min(0).optional(),
  arm64PerGbSecond: z.number().min(0).optional(),
  perRequest: z.number().min(0).optional(),
});

const alertsSchema = z.strictObject({
  emails: z.array(z.email()).optional(),
  errorRatePercent: z.number().gt(0).max(100).optional(),
  coldStartRatePercent: z.number().gt(0).max(100).optional(),
  durationTimeoutRatio: z.number().gt(0).max(1).optional(),
  memoryUsedShare: z.number().gt(0).max(1).optional(),
  timeoutRatePercent: z.number().gt(0).max(100).optional(),
});

const smtpSchema = z.strictObject({
  host: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. email-smtp.eu-west-1.amazonaws.com:587"),
  user: z.string().min(1).optional(),
  fromAddress: z.email(),
});

const secretString = (min: number) =>
  z.string().min(min, `must be at least ${min} characters (or remove it and Firefly generates one)`);

type Kind = "string" | "boolean" | "integer" | "array" | "object";

interface Setting {
  readonly schema: z.ZodType;
  readonly kind: Kind;
  readonly description: string;
  readonly default?: unknown;
  /** A valid value to put in the fix command when there is no default. */
  readonly example?: string;
  /** For structured settings: a valid example per field, for fix commands with `--path`. */
  readonly fields?: Record<string, string>;
  readonly secret?: boolean;
  /** Structured settings whose absence means "off" rather than "all defaults". */
  readonly absentIsUndefined?: boolean;
}

/** Every `firefly:*` stack setting. Pulumi.yaml and the README are tested against this table. */
export const SETTINGS = {
  host: {
    schema: z.enum(Host),
    kind: "string",
    default: Host.Docker,
    description:
      "Where the pipeline and Grafana run: docker (the local engine unless firefly:docker.engine), ec2, kubernetes.",
  },
  storage: {
    schema: z.enum(Storage),
    kind: "string",
    default: DEFAULT_STORAGE,
    description:
      "Metric and trace store: prometheus (Prometheus + Jaeger), promscale (end of life since 2023: TimescaleDB, x86_64, warned at every update), or external (stores you run: firefly:externalStorage).",
  },
  functions: {
    schema: z.array(
      z
        .string()
        .refine(
          (f) => FUNCTION_NAME.test(f) || FUNCTION_ARN.test(f),
          "must be a Lambda function name (letters, digits, '-', '_', at most 64) or a function ARN",
        ),
    ),
    kind: "array",
    default: [],
    example: "my-function",
    description: "Names or ARNs of existing Lambda functions (not managed by this stack) to instrument.",
  },
  metrics: {
    schema: z.boolean(),
    kind: "boolean",
    default: false,
    description:
      "Stream CloudWatch AWS/Lambda metrics through a Metric Stream and Firehose. Needs a public HTTPS endpoint.",
  },
  logs: {
    schema: z.boolean(),
    kind: "boolean",
    default: false,
    description:
      "Forward the functions' CloudWatch Logs (Lambda's REPORT, timeout and crash lines) through Firehose: memory, cost and outcome per invocation. Needs a public HTTPS endpoint.",
  },
  logsForwardAll: {
    schema: z.boolean(),
    kind: "boolean",
    default: false,
    description:
      "With logs on, forward every log line, not only Lambda's own (for functions without the layer).",
  },
  metricNames: {
    schema: z.array(z.enum(LAMBDA_METRIC_NAMES)).min(1),
    kind: "array",
    default: DEFAULT_METRIC_NAMES,
    example: "Invocations",
    description:
      "AWS/Lambda metric names the stream includes (cost control). The dashboards use the default set.",
  },
  instrumentation: {
    schema: z.enum(InstrumentationMode),
    kind: "string",
    default: InstrumentationMode.Handler,
    description:
      "How functions load the layer: handler (handler redirection) or wrapper (AWS_LAMBDA_EXEC_WRAPPER).",
  },
  privateEndpoint: {
    schema: z.boolean(),
    kind: "boolean",
    default: false,
    description:
      "Allow a private collector address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): only functions in a VPC that routes there reach it, which Firefly cannot check. Firehose never does.",
  },
  flushTimeoutMs: {
    schema: z.number().int().min(1).max(10000),
    kind: "integer",
    default: 500,
    description: "Longest time an invocation waits for its spans to be exported before returning (ms).",
  },
  sampling: {
    schema: samplingSchema,
    kind: "object",
    fields: { percent: "10", slowMs: "1000" },
    description:
      "Tail sampling at the gateway: {percent: share of ordinary traces kept (default 100: keep all, crash-safe), slowMs: traces slower than this are always kept (default 1000)}. Errors are always kept.",
  },
  lambdaPrices: {
    schema: lambdaPricesSchema,
    kind: "object",
    fields: { x86PerGbSecond: "0.0000166667", arm64PerGbSecond: "0.0000133334", perRequest: "0.0000002" },
    description:
      "Lambda prices (USD) for the cost built from REPORT lines: {x86PerGbSecond (default 0.0000166667), arm64PerGbSecond (default 0.0000133334), perRequest (default 0.0000002)}, AWS's public on-demand prices.",
  },
  docker: {
    schema: dockerSchema,
    kind: "object",
    fields: {
      engine: "ssh://user@docker-host",
      publicUrl: "https://ingest.example.com",
      bindAddress: "127.0.0.1",
      certPath: "~/.docker/remote",
    },
    description:
      "docker host: {engine, publicUrl (HTTPS on 443 forwarding to the ingest port), bindAddress (loopback or private), certPath (TLS client certificates, required for tcp://)}.",
  },
  ec2: {
    schema: ec2Schema,
    kind: "object",
    fields: {
      instanceType: "t3.medium",
      subnetId: "subnet-0123456789abcdef0",
      adminCidrs: "203.0.113.0/24",
      adminCidrsOpenToInternet: "true",
      domain: "firefly.example.com",
      dataVolumeSizeGb: "50",
    },
    description:
      "ec2 host: {instanceType (x86_64), subnetId, adminCidrs, adminCidrsOpenToInternet (required to allow a /0), domain, dataVolumeSizeGb}.",
  },
  kubernetes: {
    schema: kubernetesSchema,
    kind: "object",
    fields: {
      kubeconfig: "<kubeconfig contents>",
      context: "my-cluster",
      namespace: "firefly",
      storageClass: "gp3",
      ingressHost: "ingest.example.com",
      ingressClass: "nginx",
      tlsSecretName: "firefly-ingest-tls",
      publicUrl: "https://ingest.example.com",
      replicas: "3",
      autoscale: "4",
    },
    description:
      "kubernetes host: {kubeconfig (only as a secret), context, namespace, storageClass, ingressHost, ingressClass, tlsSecretName, publicUrl, replicas (gateway collectors, default 1) or autoscale {min, max, cpuPercent}}.",
  },
  alerts: {
    schema: alertsSchema,
    kind: "object",
    fields: {
      emails: "oncall@example.com",
      errorRatePercent: "5",
      coldStartRatePercent: "20",
      durationTimeoutRatio: "0.8",
    },
    description:
      "Alerting: {emails (contact point), errorRatePercent, coldStartRatePercent, durationTimeoutRatio, memoryUsedShare, timeoutRatePercent}.",
  },
  smtp: {
    schema: smtpSchema,
    kind: "object",
    absentIsUndefined: true,
    fields: {
      host: "email-smtp.eu-west-1.amazonaws.com:587",
      user: "AKIA…",
      fromAddress: "grafana@example.com",
    },
    description:
      "Mail relay for alert emails: {host (host:port), user, fromAddress}; its password is firefly:smtpPassword.",
  },
  externalStorage: {
    schema: externalStorageSchema,
    kind: "object",
    absentIsUndefined: true,
    fields: {
      metricsWriteUrl: "https://vminsert.example.com/insert/0/prometheus/api/v1/write",
      metricsQueryUrl: "https://vmselect.example.com/select/0/prometheus",
      tracesEndpoint: "jaeger-collector.example.com:4317",
      tracesQueryUrl: "https://jaeger-query.example.com",
      logsEndpoint: "https://vlinsert.example.com/insert/opentelemetry",
      logsQueryUrl: "https://vlselect.example.com",
      metricsAuthHeader: "Authorization",
      tracesAuthHeader: "Authorization",
      logsAuthHeader: "Authorization",
      tracesInsecure: "false",
    },
    description:
      "With storage external: {metricsWriteUrl (remote write), metricsQueryUrl (PromQL), tracesEndpoint (OTLP/gRPC host:port, TLS), tracesQueryUrl (Jaeger query), logsEndpoint (OTLP/HTTP base URL, /v1/logs appended), logsQueryUrl (VictoriaLogs), metricsAuthHeader, tracesAuthHeader, logsAuthHeader, tracesInsecure}; header values are firefly:externalMetricsAuth, firefly:externalTracesAuth and firefly:externalLogsAuth.",
  },
  externalMetricsAuth: {
    schema: z.string().min(1),
    kind: "string",
    secret: true,
    description: "Auth header value sent with metric writes to external storage (secret). Default: none.",
  },
  externalTracesAuth: {
    schema: z.string().min(1),
    kind: "string",
    secret: true,
    description: "Auth header value sent with trace writes to external storage (secret). Default: none.",
  },
  externalLogsAuth: {
    schema: z.string().min(1),
    kind: "string",
    secret: true,
    description: "Auth header value sent with log writes to external storage (secret). Default: none.",
  },
  smtpPassword: {
    schema: z.string().min(1),
    kind: "string",
    secret: true,
    description: "Password for the mail relay (secret). Default: none.",
  },
  grafanaAdminPassword: {
    schema: secretString(16),
    kind: "string",
    secret: true,
    description: "Grafana admin password (secret). Default: generated once, stable across updates.",
  },
  otlpToken: {
    schema: secretString(32),
    kind: "string",
    secret: true,
    description:
      "Bearer token Lambda functions present to the OTLP endpoint (secret). Default: generated once.",
  },
  firehoseAccessKey: {
    schema: secretString(32),
    kind: "string",
    secret: true,
    description: "Access key Firehose presents to the collector (secret). Default: generated once.",
  },
  databasePassword: {
    schema: secretString(16),
    kind: "string",
    secret: true,
    description:
      "PostgreSQL superuser password (secret, promscale only; the connector logs in as its own prom_writer role). Default: generated once.",
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

export interface FireflyConfig {
  host: Host;
  storage: Storage;
  functions: string[];
  metrics: boolean;
  logs: boolean;
  logsForwardAll: boolean;
  metricNames: string[];
  instrumentation: InstrumentationMode;
  privateEndpoint: boolean;
  flushTimeoutMs: number;
  sampling: z.infer<typeof samplingSchema>;
  lambdaPrices: z.infer<typeof lambdaPricesSchema>;
  docker: z.infer<typeof dockerSchema>;
  ec2: z.infer<typeof ec2Schema>;
  kubernetes: z.infer<typeof kubernetesSchema>;
  alerts: z.infer<typeof alertsSchema>;
  smtp?: z.infer<typeof smtpSchema>;
  externalStorage?: z.infer<typeof externalStorageSchema>;
  externalMetricsAuth?: string;
  externalTracesAuth?: string;
  externalLogsAuth?: string;
  smtpPassword?: string;
  grafanaAdminPassword?: string;
  otlpToken?: string;
  firehoseAccessKey?: string;
  databasePassword?: string;
}

export interface ConfigProblem {
  /** Full key, with a path inside structured values: `firefly:ec2.instanceType`. */
  key: string;
  /** The offending value as the user wrote it (secrets are never echoed). */
  value?: string;
  message: string;
  /** The command that fixes it. */
  fix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid Firefly stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems
          .map(
            (p) =>
              `  - ${p.key}${p.value === undefined ? "" : ` = ${p.value}`}: ${p.message}\n    fix: ${p.fix}`,
          )
          .join("\n"),
    );
    this.name = "ConfigError";
  }
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function quote(value: string): string {
  return /^[A-Za-z0-9_./:@+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

function keyPath(name: string, path: PropertyKey[]): string {
  let key = `${CONFIG_NAMESPACE}:${name}`;
  for (const p of path) key += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return key;
}

function setCommand(key: string, value: string, opts: { path?: boolean; secret?: boolean } = {}): string {
  const flags = [opts.path ? "--path" : "", opts.secret ? "--secret" : ""].filter(Boolean).join(" ");
  return `pulumi config set ${flags ? `${flags} ` : ""}${quote(key)} ${quote(value)}`;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = v == null ? undefined : (v as any)[p as any];
  return v;
}

function describeIssue(name: SettingName, raw: unknown, issue: z.core.$ZodIssue): ConfigProblem {
  const setting: Setting = SETTINGS[name];
  const key = keyPath(name, issue.path);
  const nested = issue.path.length > 0;
  const bad = valueAt(raw, issue.path);
  const value = setting.secret ? undefined : bad === undefined ? undefined : show(bad);

  if (issue.code === "unrecognized_keys") {
    const allowed = Object.keys((setting.schema as z.ZodObject).shape);
    const unknown = issue.keys[0];
    const guess = closest(unknown, allowed);
    const unknownKey = `${key}.${unknown}`.replace(/^([^.]*)\.$/, "$1");
    return {
      key: unknownKey,
      message: `unknown setting. Allowed: ${allowed.join(", ")}.${guess ? ` Did you mean ${guess}?` : ""}`,
      fix: `pulumi config rm --path ${quote(unknownKey)}${
        guess
          ? ` && ${setCommand(`${key}.${guess}`, String(valueAt(raw, [...issue.path, unknown])), { path: true })}`
          : ""
      }`,
    };
  }
  if (issue.code === "invalid_value") {
    const allowed = issue.values.map(String);
    const suggestion =
      (typeof bad === "string" && closest(bad, allowed)) || String(setting.default ?? allowed[0]);
    return {
      key,
      value,
      message: `is not allowed. Allowed: ${allowed.join(", ")}.`,
      fix: setCommand(key, suggestion, { path: nested }),
    };
  }
  const field = typeof issue.path[0] === "string" ? setting.fields?.[issue.path[0]] : undefined;
  const example = field ?? (setting.default !== undefined && !nested ? setting.default : setting.example);
  let fixValue = Array.isArray(example) ? String(example[0]) : String(example ?? "<value>");
  if (setting.kind === "boolean") fixValue = "true";
  if (setting.secret) fixValue = "<a long random value>";
  const fix = setting.secret
    ? `${setCommand(key, fixValue, { secret: true })}  (or: pulumi config rm ${key} to have one generated)`
    : setCommand(key, fixValue, { path: nested });
  return { key, value, message: issue.message.replace(/^Invalid input: /, ""), fix };
}

function parseRaw(
  name: SettingName,
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: ConfigProblem } {
  const setting: Setting = SETTINGS[name];
  if (setting.kind === "string") return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    if (setting.kind === "array" && !text.trim().startsWith("[")) {
      // `pulumi config set firefly:functions my-fn` stores a bare string: name the --path form that makes a list.
      return {
        ok: false,
        problem: {
          key: keyPath(name, []),
          value: JSON.stringify(text),
          message: "must be a list",
          fix: `pulumi config rm ${keyPath(name, [])} && ${setCommand(keyPath(name, [0]), text, { path: true })}`,
        },
      };
    }
    const example = setting.kind === "boolean" ? "true" : String(setting.default);
    const firstField = Object.entries(setting.fields ?? { field: "value" })[0];
    return {
      ok: false,
      problem: {
        key: keyPath(name, []),
        value: JSON.stringify(text),
        message: `must be ${setting.kind === "integer" ? "an integer" : `a ${setting.kind}`}`,
        fix:
          setting.kind === "object"
            ? `pulumi config rm ${keyPath(name, [])} && ${setCommand(`${keyPath(name, [])}.${firstField[0]}`, firstField[1], { path: true })}`
            : setCommand(keyPath(name, []), example),
      },
    };
  }
}

export interface RawConfig {
  /** `firefly:*` settings as Pulumi stores them: strings, with structured values as JSON. Keys without namespace. */
  values: Record<string, string | undefined>;
  /** Keys (without namespace) whose values are stored as secrets. */
  secretKeys?: ReadonlySet<string>;
}

/** Validate raw stack settings; throws ConfigError naming every bad key with its fix. Pure. */
export function validateConfig(raw: RawConfig): FireflyConfig {
  const names = Object.keys(SETTINGS) as SettingName[];
  // A misspelt secret is still a secret: judge an unknown key by the setting it was meant to be.
  const isSecretSetting = (n: string) => {
    const meant = Object.hasOwn(SETTINGS, n) ? n : closest(n, names);
    return meant !== undefined && (SETTINGS[meant as SettingName] as Setting).secret === true;
  };
  const sensitive = sensitiveStrings(raw.values, raw.secretKeys, isSecretSetting);
  const problems: ConfigProblem[] = [];
  // Every secret (and secret-like) value of the raw config comes out before anyone sees a problem.
  const refuse = () => new ConfigError(problems.map((p) => scrubProblem(p, sensitive)));
  const parsed: Record<string, unknown> = {};

  for (const [name, text] of Object.entries(raw.values)) {
    if (text === undefined) continue;
    // Own keys only: `constructor` or `toString` are not settings, however `in` sees them.
    if (!Object.hasOwn(SETTINGS, name)) {
      const guess = closest(name, names);
      problems.push({
        key: keyPath(name, []),
        message: `unknown setting.${guess ? ` Did you mean ${CONFIG_NAMESPACE}:${guess}?` : ""} Settings: ${names.join(", ")}.`,
        fix: `pulumi config rm ${keyPath(name, [])}${guess ? ` && ${setCommand(keyPath(guess, []), text)}` : ""}`,
      });
      continue;
    }
    const setting: Setting = SETTINGS[name as SettingName];
    if (setting.secret && !raw.secretKeys?.has(name)) {
      problems.push({
        key: keyPath(name, []),
        message: "is stored in plain text; it must be a Pulumi secret",
        fix: `${setCommand(keyPath(name, []), "<value>", { secret: true })}  (or: pulumi config rm ${keyPath(name, [])} to have one generated)`,
      });
      continue;
    }
    const value = parseRaw(name as SettingName, text);
    if (!value.ok) {
      problems.push(value.problem);
      continue;
    }
    const result = setting.schema.safeParse(value.value);
    if (result.success) parsed[name] = result.data;
    else
      for (const issue of result.error.issues)
        problems.push(describeIssue(name as SettingName, value.value, issue));
  }
  if (problems.length > 0) throw refuse();

  const config = Object.fromEntries(
    names.map((n) => {
      const setting: Setting = SETTINGS[n];
      return [
        n,
        parsed[n] ??
          setting.default ??
          (setting.kind === "object" && !setting.absentIsUndefined ? {} : undefined),
      ];
    }),
  ) as unknown as FireflyConfig;

  problems.push(...crossChecks(config), ...hygieneChecks({ ...config, secretKeys: raw.secretKeys }));
  if (problems.length > 0) throw refuse();
  return config;
}

/** Rules that involve more than one setting. */
function crossChecks(config: FireflyConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [...ingestProblems(config)];
  for (const key of ["metrics", "logs"] as const) {
    if (config[key] && !publicHttpsEndpoint(config.host, config).available) {
      const fix =
        config.host === Host.Kubernetes
          ? `${setCommand("firefly:kubernetes.ingressHost", "ingest.example.com", { path: true })}  (an Ingress with TLS), or set firefly:kubernetes.publicUrl`
          : `${setCommand("firefly:docker.publicUrl", "https://ingest.example.com", { path: true })}  (a reverse proxy or tunnel with a trusted certificate on 443), or pulumi config set firefly:host ec2`;
      problems.push({
        key: `firefly:${key}`,
        value: "true",
        message: `needs a public HTTPS endpoint on port 443 (Firehose delivers nowhere else), and host ${config.host} has none configured`,
        fix: `${fix}; or pulumi config set firefly:${key} false`,
      });
    }
  }
  const seen = new Map<string, string>();
  config.functions.forEach((f, i) => {
    const name = f.includes(":function:") ? f.split(":function:")[1].split(":")[0] : f;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        key: `firefly:functions[${i}]`,
        value: JSON.stringify(f),
        message: `names the same function as ${JSON.stringify(first)}; a function can be instrumented once`,
        fix: `pulumi config rm --path 'firefly:functions[${i}]'`,
      });
    } else seen.set(name, f);
  });
  for (const other of [Host.Docker, Host.Ec2, Host.Kubernetes]) {
    if (other !== config.host && Object.keys(config[other]).length > 0) {
      problems.push({
        key: `firefly:${other}`,
        message: `has settings but firefly:host is ${config.host}; they would be ignored`,
        fix: `pulumi config rm firefly:${other}  (or: pulumi config set firefly:host ${other})`,
      });
    }
  }
  problems.push(...externalStorageChecks(config));
  if (config.kubernetes.replicas !== undefined && config.kubernetes.autoscale !== undefined) {
    problems.push({
      key: "firefly:kubernetes.replicas",
      value: String(config.kubernetes.replicas),
      message: "and firefly:kubernetes.autoscale both size the gateway; give one",
      fix: "pulumi config rm --path firefly:kubernetes.replicas  (or: pulumi config rm --path firefly:kubernetes.autoscale)",
    });
  }
  if ((config.alerts.emails ?? []).length > 0 && !config.smtp) {
    problems.push({
      key: "firefly:alerts.emails",
      message: "Grafana needs a mail relay to send alert emails",
      fix: `${setCommand("firefly:smtp.host", "email-smtp.eu-west-1.amazonaws.com:587", { path: true })} && ${setCommand("firefly:smtp.fromAddress", "grafana@example.com", { path: true })}  (password: pulumi config set --secret firefly:smtpPassword …)`,
    });
  }
  if (config.kubernetes.ingressClass && !config.kubernetes.ingressHost && config.host === Host.Kubernetes) {
    problems.push({
      key: "firefly:kubernetes.ingressClass",
      value: JSON.stringify(config.kubernetes.ingressClass),
      message: "has no effect without firefly:kubernetes.ingressHost",
      fix: setCommand("firefly:kubernetes.ingressHost", "ingest.example.com", { path: true }),
    });
  }
  return problems;
}

function ingestProblems(config: FireflyConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { url, setting, plainLoadBalancer } = plannedOtlpEndpoint(config);
  const why = plainLoadBalancer
    ? "without an ingress host the collector is exposed by a plain-HTTP LoadBalancer: instrumented functions would send their bearer token across the internet in clear"
    : config.host === Host.Ec2 && url === undefined
      ? undefined
      : otlpEndpointProblem(url, config.privateEndpoint);
  if (why) {
    const fix =
      config.host === Host.Kubernetes
        ? `${setCommand("firefly:kubernetes.ingressHost", "ingest.example.com", { path: true })}  (an Ingress with TLS), or ${setCommand("firefly:kubernetes.publicUrl", "https://ingest.example.com", { path: true })}`
        : config.host === Host.Ec2
          ? `${setCommand(setting, "firefly.example.com", { path: true })}  (a public DNS name pointing at the instance), or pulumi config rm --path firefly:ec2.domain  (an API Gateway HTTPS URL)`
          : `${setCommand(setting, "https://ingest.example.com", { path: true })}  (an HTTPS tunnel or reverse proxy on 443 in front of the collector, see docs/hosts.md), or pulumi config set firefly:host ec2`;
    const isPrivate = /private address/.test(why);
    const fromSetting = config.docker.publicUrl !== undefined || config.kubernetes.publicUrl !== undefined;
    problems.push({
      key: setting,
      value: fromSetting && url ? JSON.stringify(url) : undefined,
      message: why,
      fix: isPrivate
        ? `pulumi config set firefly:privateEndpoint true  (every instrumented function runs in a VPC that routes there), or ${fix}`
        : fix,
    });
  }
  const publicUrl =
    config.host === Host.Docker
      ? config.docker.publicUrl
      : config.host === Host.Kubernetes
        ? config.kubernetes.publicUrl
        : undefined;
  if ((config.metrics || config.logs) && publicUrl) {
    const firehose = firehoseUrlProblem(publicUrl);
    if (firehose)
      problems.push({
        key: `firefly:${config.host}.publicUrl`,
        value: JSON.stringify(publicUrl),
        message: firehose,
        fix: `${setCommand(`firefly:${config.host}.publicUrl`, "https://ingest.example.com", { path: true })}  (a public HTTPS URL with a trusted certificate), or pulumi config set firefly:metrics false`,
      });
  }
  return problems;
}

/**
 * Storage external as a component's args give it (ShippingPhase): the stack config's schema and rules
 * for it, so a program gets the problems `pulumi up` with stack config gives. The auth values only
 * count as given or not (they may be Outputs). Keys are `firefly:…`, for the caller to re-word (asArgsProblem).
 */
export function externalStorageProblems(args: {
  readonly storage?: Storage;
  readonly externalStorage?: unknown;
  readonly externalMetricsAuth?: unknown;
  readonly externalTracesAuth?: unknown;
  readonly externalLogsAuth?: unknown;
}): ConfigProblem[] {
  const storage = args.storage ?? DEFAULT_STORAGE;
  let externalStorage: FireflyConfig["externalStorage"];
  if (args.externalStorage !== undefined) {
    if (storage === Storage.External) {
      const result = SETTINGS.externalStorage.schema.safeParse(args.externalStorage);
      if (!result.success)
        return result.error.issues.map((issue) =>
          describeIssue("externalStorage", args.externalStorage, issue),
        );
      externalStorage = result.data;
    } else {
      // Not parsed: with another storage only its presence matters ("is only used with storage external").
      externalStorage = {} as FireflyConfig["externalStorage"];
    }
  }
  const given = (v: unknown) => (v === undefined ? undefined : "(given)");
  return externalStorageChecks({
    storage,
    externalStorage,
    externalMetricsAuth: given(args.externalMetricsAuth),
    externalTracesAuth: given(args.externalTracesAuth),
    externalLogsAuth: given(args.externalLogsAuth),
  } as FireflyConfig);
}

/**
 * A problem worded for a component's args instead of stack config: `args.x` for `firefly:x` in its key
 * and message, and each `pulumi config set` / `rm` of its fix as the arg to set or remove.
 */
export function asArgsProblem(p: ConfigProblem): ConfigProblem {
  const key = p.key.replace(/^firefly:/, "args.");
  const fix = p.fix
    .replace(
      /pulumi config set (?:--path )?(?:--secret )?'?firefly:([^' ]+)'? ('(?:[^']|'\\'')*'|\S+)/g,
      (_, setting: string, value: string) =>
        `set args.${setting} to ${value.replace(/^'|'$/g, "").replace(/'\\''/g, "'")}`,
    )
    .replace(
      /pulumi config rm (?:--path )?'?firefly:([^' ]+)'?/g,
      (_, setting: string) => `remove args.${setting}`,
    )
    .replace(/\s{2}\((or: )?/g, (_, or?: string) => (or ? " (or " : " ("));
  return { ...p, key, message: p.message.replace(/\bfirefly:(?=\w)/g, "args."), fix };
}

/** storage external: its stores named, and no credential in clear text. */
function externalStorageChecks(config: FireflyConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const e = config.externalStorage;
  if (config.storage === Storage.External && !e) {
    problems.push({
      key: "firefly:externalStorage",
      message: "is required with storage external: name the stores Firefly writes to and Grafana reads from",
      fix: `${setCommand("firefly:externalStorage.metricsWriteUrl", "https://vminsert.example.com/insert/0/prometheus/api/v1/write", { path: true })} (and metricsQueryUrl, tracesEndpoint, tracesQueryUrl, logsEndpoint, logsQueryUrl)`,
    });
  }
  if (config.storage !== Storage.External) {
    for (const key of [
      "externalStorage",
      "externalMetricsAuth",
      "externalTracesAuth",
      "externalLogsAuth",
    ] as const) {
      if (config[key] !== undefined) {
        problems.push({
          key: `firefly:${key}`,
          message: `is only used with storage external, but firefly:storage is ${config.storage}`,
          fix: `pulumi config rm firefly:${key}  (or: pulumi config set firefly:storage external)`,
        });
      }
    }
  }
  // A write URL that carries a credential must be https (the traces endpoint's rule is tracesInsecure).
  for (const [field, secret] of [
    ["metricsWriteUrl", "externalMetricsAuth"],
    ["logsEndpoint", "externalLogsAuth"],
  ] as const) {
    const url = e?.[field];
    if (url === undefined || config[secret] === undefined || url.startsWith("https://")) continue;
    problems.push({
      key: `firefly:externalStorage.${field}`,
      value: JSON.stringify(url),
      message: `must be https:// when firefly:${secret} is set: a credential never crosses a network in clear text`,
      fix: setCommand(`firefly:externalStorage.${field}`, url.replace(/^http:/, "https:"), { path: true }),
    });
  }
  if (e?.tracesInsecure && config.externalTracesAuth !== undefined) {
    problems.push({
      key: "firefly:externalStorage.tracesInsecure",
      value: "true",
      message:
        "cannot be true when firefly:externalTracesAuth is set: a credential never crosses a network in clear text",
      fix: "pulumi config rm --path firefly:externalStorage.tracesInsecure",
    });
  }
  return problems;
}
