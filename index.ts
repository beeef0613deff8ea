// The Firefly program (`pulumi up`): reads the `firefly:*` stack settings, validates all of them before
// any resource exists, and creates the top-level Firefly component. A bad setting stops the program
// with one message listing each problem and the `pulumi config set` command that fixes it.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, type SETTINGS, validateConfig } from "./components/config";
import { Firefly } from "./components/firefly";

// The SDK marks isConfigSecret internal, but it is what the engine's secret-key list is read through; when an
// SDK lacks it, every value counts as secret so nothing valid is refused.
const isConfigSecret: (key: string) => boolean =
  (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret ?? (() => true);

function readStackConfig() {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    values[name] = value;
    if (isConfigSecret(key)) secretKeys.add(name);
  }
  return { values, secretKeys };
}

function loadConfig() {
  try {
    return validateConfig(readStackConfig());
  } catch (err) {
    // RunError prints the message alone, without a stack trace: the message is the whole story.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const config = loadConfig();
// Secrets come from config as Outputs so they stay encrypted in state and previews.
const secret = (name: keyof typeof SETTINGS) =>
  config[name as keyof typeof config] === undefined
    ? undefined
    : new pulumi.Config(CONFIG_NAMESPACE).requireSecret(name);

const firefly = new Firefly("firefly", {
  host: config.host,
  storage: config.storage,
  docker: config.docker,
  ec2: config.ec2,
  // Validation refused a kubeconfig not stored as a secret; it stays one from here on.
  kubernetes:
    config.kubernetes.kubeconfig === undefined
      ? config.kubernetes
      : { ...config.kubernetes, kubeconfig: pulumi.secret(config.kubernetes.kubeconfig) },
  functions: config.functions,
  metrics: config.metrics,
  logs: config.logs,
  logsForwardAll: config.logsForwardAll,
  metricNames: config.metricNames,
  instrumentation: config.instrumentation,
  privateEndpoint: config.privateEndpoint,
  flushTimeoutMs: config.flushTimeoutMs,
  sampling: config.sampling,
  lambdaPrices: config.lambdaPrices,
  alerts: config.alerts,
  smtp: config.smtp && { ...config.smtp, password: secret("smtpPassword") },
  grafanaAdminPassword: secret("grafanaAdminPassword"),
  otlpToken: secret("otlpToken"),
  firehoseAccessKey: secret("firehoseAccessKey"),
  databasePassword: secret("databasePassword"),
  externalStorage: config.externalStorage,
  externalMetricsAuth: secret("externalMetricsAuth"),
  externalTracesAuth: secret("externalTracesAuth"),
  externalLogsAuth: secret("externalLogsAuth"),
});

export const grafanaUrl = firefly.grafanaUrl;
export const grafanaAdminPassword = firefly.grafanaAdminPassword;
export const otlpEndpoint = firefly.otlpEndpoint;
export const otlpToken = firefly.otlpToken;
export const firehoseUrl = firefly.firehoseUrl;
export const layerArn = firefly.layerArn;
export const instrumentedFunctions = firefly.instrumentedFunctions;
// ec2 only: `aws ssm start-session --target "$(pulumi stack output instanceId)" ...` reaches Grafana.
export const instanceId = firefly.instanceId;
export const skippedFunctions = firefly.skippedFunctions;
export const deliveryStreamArn = firefly.deliveryStreamArn;
export const metricStreamName = firefly.metricStreamName;
