// The logs path as resources: each instrumented function's log group → a subscription filter → Firehose
// (HTTP endpoint: the collector's CloudWatch Logs route) with failed batches backed up to S3, the same
// bucket, error log and role shape as the metrics stream (./metricsDelivery). One stream per architecture,
// so the collector can price arm64 and x86_64 invocations apart (the stream's common attribute
// `faas.arch`; CloudWatch Logs records do not say). Idle streams cost nothing: Firehose bills per GB.
// Destroy removes the subscription filters; the log groups belong to the functions and stay.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_FIELDS, PLATFORM_FILTER_PATTERN } from "../shipping/logsConfig";
import { createFirehoseBase, createHttpEndpointStream } from "./metricsDelivery";

/** Lambda's architectures, each with its own stream. */
export const ARCHITECTURES = ["x86_64", "arm64"] as const;

export interface LogsDeliveryCheck {
  /** Whether CloudWatch Logs are forwarded (`logs`). */
  readonly logs: boolean;
  readonly firehoseLogsUrl?: pulumi.Input<string>;
  readonly firehoseAccessKey?: pulumi.Input<string>;
}

/** Refuse log forwarding without an HTTPS endpoint on 443 and an access key, before any resource exists. */
export function validateLogsDelivery(check: LogsDeliveryCheck): void {
  if (!check.logs) return;
  if (check.firehoseLogsUrl === undefined || check.firehoseLogsUrl === "") {
    throw new Error(
      "EmitPhase logs is on, but firehoseLogsUrl is not set: Firehose needs the collector's public HTTPS URL " +
        "for CloudWatch Logs (the front's /firehose/logs route). Pass it, or set logs to false.",
    );
  }
  if (
    typeof check.firehoseLogsUrl === "string" &&
    !/^https:\/\/[^/:]+(:443)?(\/.*)?$/.test(check.firehoseLogsUrl)
  ) {
    throw new Error(
      `EmitPhase firehoseLogsUrl ${JSON.stringify(check.firehoseLogsUrl)} is not an https:// URL on port 443, ` +
        "the only kind Firehose delivers to. Put an HTTPS front with a trusted certificate on 443 before the collector.",
    );
  }
  if (check.firehoseAccessKey === undefined || check.firehoseAccessKey === "") {
    throw new Error(
      "EmitPhase logs is on, but no firehoseAccessKey is set: the collector would take logs from anyone. " +
        "Pass firehoseAccessKey (Firefly generates one unless firefly:firehoseAccessKey is set).",
    );
  }
}

/** The filter pattern: Lambda's own lines only (the layer ships the function's), or everything. */
export function subscriptionFilterPattern(forwardAll: boolean): string {
  return forwardAll ? "" : PLATFORM_FILTER_PATTERN;
}

/** A function's log group: its LoggingConfig.LogGroup when set, else Lambda's default `/aws/lambda/<name>`. */
export function functionLogGroup(nameOrArn: string, customLogGroup?: string): string {
  if (customLogGroup && customLogGroup !== "") return customLogGroup;
  const parts = nameOrArn.split(":");
  const i = parts.indexOf("function");
  return `/aws/lambda/${i < 0 ? nameOrArn : parts[i + 1]}`;
}

/** The architecture whose stream a function's lines go to; Lambda's default is x86_64. */
export function streamArchitecture(
  architectures: readonly string[] | undefined,
): (typeof ARCHITECTURES)[number] {
  return architectures?.[0] === "arm64" ? "arm64" : "x86_64";
}

/**
 * CloudWatch Logs of this account and region may assume the role, and only for its own log groups
 * (`aws:SourceArn`), the confused-deputy guard AWS documents for subscription roles.
 */
export function subscriptionTrustPolicy(partition: string, region: string, accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringLike: { "aws:SourceArn": `arn:${partition}:logs:${region}:${accountId}:*` } },
      },
    ],
  });
}

/** The subscription may only put records on Firefly's log streams. */
export function subscriptionPolicy(deliveryStreamArns: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["firehose:PutRecord", "firehose:PutRecordBatch"],
        Resource: [...deliveryStreamArns],
      },
    ],
  });
}

export interface LogsDeliveryArgs {
  firehoseLogsUrl: pulumi.Input<string>;
  firehoseAccessKey: pulumi.Input<string>;
  /** Functions whose log groups are subscribed (names or ARNs; existing and in-stack alike). */
  functions: { resourceName: string; functionName: pulumi.Input<string> }[];
  /** Forward every line, not only Lambda's platform lines (for functions without the layer). */
  forwardAll: boolean;
}

export interface LogsDelivery {
  deliveryStreams: aws.kinesis.FirehoseDeliveryStream[];
  subscriptions: aws.cloudwatch.LogSubscriptionFilter[];
  backupBucket: aws.s3.Bucket;
}

export function createLogsDelivery(
  name: string,
  args: LogsDeliveryArgs,
  parent: pulumi.Resource,
): LogsDelivery {
  const opts = { parent };
  const partition = aws.getPartitionOutput({}, opts).partition;
  const accountId = aws.getCallerIdentityOutput({}, opts).accountId;
  const region = aws.getRegionOutput({}, opts).region;

  const base = createFirehoseBase(`${name}-logs`, parent);
  const streams = Object.fromEntries(
    ARCHITECTURES.map((arch) => [
      arch,
      createHttpEndpointStream(
        `${name}-logs-firehose-${arch}`,
        base,
        {
          url: args.firehoseLogsUrl,
          accessKey: args.firehoseAccessKey,
          commonAttributes: { [LOG_FIELDS.architecture]: arch },
          backupPrefix: `${arch}/`,
        },
        parent,
      ),
    ]),
  ) as Record<(typeof ARCHITECTURES)[number], aws.kinesis.FirehoseDeliveryStream>;

  const role = new aws.iam.Role(
    `${name}-logs-subscription-role`,
    {
      assumeRolePolicy: pulumi
        .all([partition, region, accountId])
        .apply(([p, r, a]) => subscriptionTrustPolicy(p, r, a)),
    },
    opts,
  );
  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-logs-subscription-policy`,
    {
      role: role.id,
      policy: pulumi.all(ARCHITECTURES.map((a) => streams[a].arn)).apply((arns) => subscriptionPolicy(arns)),
    },
    opts,
  );

  const filterPattern = subscriptionFilterPattern(args.forwardAll);
  const subscriptions = args.functions.map(({ resourceName, functionName }) => {
    const fn = aws.lambda.getFunctionOutput({ functionName }, opts);
    return new aws.cloudwatch.LogSubscriptionFilter(
      `${name}-logs-${resourceName}`,
      {
        logGroup: pulumi
          .all([fn.functionName, fn.loggingConfigs])
          .apply(([n, cfgs]) => functionLogGroup(n, cfgs?.[0]?.logGroup)),
        filterPattern,
        destinationArn: pulumi
          .all([fn.architectures, streams.x86_64.arn, streams.arm64.arn])
          .apply(([archs, x86, arm]) => (streamArchitecture(archs) === "arm64" ? arm : x86)),
        roleArn: role.arn,
      },
      // CloudWatch Logs checks that the role may put records when the filter is created.
      { parent, dependsOn: [rolePolicy] },
    );
  });

  return { deliveryStreams: ARCHITECTURES.map((a) => streams[a]), subscriptions, backupBucket: base.bucket };
}
