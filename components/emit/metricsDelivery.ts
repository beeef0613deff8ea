// The metrics path as resources: CloudWatch Metric Stream (AWS/Lambda) → Firehose (HTTP endpoint: the
// collector) with failed batches backed up to a private, encrypted, expiring S3 bucket. Every role may do
// one thing to one resource. The settings come from ./metrics, where they are tested as plain values.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hardenBucket } from "../bucketHardening";
import {
  FIREHOSE_DEFAULTS,
  firehosePolicy,
  firehoseTrustPolicy,
  logStreamArn,
  metricStreamPolicy,
  metricStreamSelection,
  metricStreamTrustPolicy,
  OUTPUT_FORMAT,
} from "./metrics";

export interface MetricsDeliveryArgs {
  firehoseUrl: pulumi.Input<string>;
  firehoseAccessKey: pulumi.Input<string>;
  metricNames: readonly string[];
}

export interface MetricsDelivery {
  deliveryStream: aws.kinesis.FirehoseDeliveryStream;
  metricStream: aws.cloudwatch.MetricStream;
  backupBucket: aws.s3.Bucket;
}

const LOG_STREAM = "DestinationDelivery";

function backupBucket(name: string, parent: pulumi.Resource): aws.s3.Bucket {
  const opts = { parent };
  // Holds only batches the collector refused for two hours; destroying the stack should not get stuck on it.
  const bucket = new aws.s3.Bucket(`${name}-backup`, { forceDestroy: true }, opts);
  new aws.s3.BucketPublicAccessBlock(
    `${name}-backup-private`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-backup-expiry`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire-failed-batches",
          status: "Enabled",
          filter: {},
          expiration: { days: FIREHOSE_DEFAULTS.backupRetentionDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    opts,
  );
  // Encryption at rest and TLS only, as every Firefly bucket.
  hardenBucket(`${name}-backup`, bucket, opts);
  return bucket;
}

/** What every Firehose stream to the collector shares: the backup bucket, its error log and its role. */
export interface FirehoseBase {
  bucket: aws.s3.Bucket;
  role: aws.iam.Role;
  rolePolicy: aws.iam.RolePolicy;
  logging: { enabled: boolean; logGroupName: pulumi.Output<string>; logStreamName: pulumi.Output<string> };
}

/** The bucket for failed batches, Firehose's error log and a role that may write only to those two. */
export function createFirehoseBase(name: string, parent: pulumi.Resource): FirehoseBase {
  const opts = { parent };
  const partition = aws.getPartitionOutput({}, opts).partition;
  const accountId = aws.getCallerIdentityOutput({}, opts).accountId;
  const region = aws.getRegionOutput({}, opts).region;

  const bucket = backupBucket(name, parent);
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-firehose-logs`,
    { retentionInDays: FIREHOSE_DEFAULTS.logRetentionDays },
    opts,
  );
  const logStream = new aws.cloudwatch.LogStream(
    `${name}-firehose-log-stream`,
    { logGroupName: logGroup.name, name: LOG_STREAM },
    opts,
  );

  const firehoseRole = new aws.iam.Role(
    `${name}-firehose-role`,
    { assumeRolePolicy: accountId.apply(firehoseTrustPolicy) },
    opts,
  );
  const firehoseRolePolicy = new aws.iam.RolePolicy(
    `${name}-firehose-policy`,
    {
      role: firehoseRole.id,
      policy: pulumi
        .all([bucket.arn, partition, region, accountId, logGroup.name, logStream.name])
        .apply(([bucketArn, p, r, a, group, stream]) =>
          firehosePolicy(bucketArn, logStreamArn(p, r, a, group, stream)),
        ),
    },
    opts,
  );

  const logging = { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name };
  return { bucket, role: firehoseRole, rolePolicy: firehoseRolePolicy, logging };
}

export interface HttpEndpointStreamArgs {
  url: pulumi.Input<string>;
  accessKey: pulumi.Input<string>;
  /** Sent with every delivery (`X-Amz-Firehose-Common-Attributes`); the collector adds them as resource attributes. */
  commonAttributes?: Record<string, string>;
  /** Prefix of this stream's failed batches in the shared bucket. Default: none. */
  backupPrefix?: string;
}

/** A Firehose stream posting to the collector over HTTPS with its access key, failures to the base's bucket. */
export function createHttpEndpointStream(
  name: string,
  base: FirehoseBase,
  args: HttpEndpointStreamArgs,
  parent: pulumi.Resource,
): aws.kinesis.FirehoseDeliveryStream {
  const { bucket, logging, role: firehoseRole } = base;
  return new aws.kinesis.FirehoseDeliveryStream(
    name,
    {
      destination: "http_endpoint",
      // Records wait in Firehose's buffer (and retry for up to two hours): keep them encrypted at rest.
      serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
      httpEndpointConfiguration: {
        name: "Firefly collector",
        url: args.url,
        accessKey: pulumi.secret(args.accessKey),
        bufferingInterval: FIREHOSE_DEFAULTS.bufferingIntervalSeconds,
        bufferingSize: FIREHOSE_DEFAULTS.bufferingSizeMb,
        retryDuration: FIREHOSE_DEFAULTS.retryDurationSeconds,
        roleArn: firehoseRole.arn,
        s3BackupMode: "FailedDataOnly",
        // The collector's HTTP server decompresses gzip; metric JSON shrinks several-fold.
        requestConfiguration: {
          contentEncoding: "GZIP",
          ...(args.commonAttributes
            ? {
                commonAttributes: Object.entries(args.commonAttributes).map(([n, value]) => ({
                  name: n,
                  value,
                })),
              }
            : {}),
        },
        cloudwatchLoggingOptions: logging,
        s3Configuration: {
          roleArn: firehoseRole.arn,
          bucketArn: bucket.arn,
          ...(args.backupPrefix ? { prefix: args.backupPrefix } : {}),
          compressionFormat: "GZIP",
          bufferingInterval: 300,
          bufferingSize: 5,
          cloudwatchLoggingOptions: logging,
        },
      },
    },
    // Firehose checks its role's permissions when the stream is created.
    { parent, dependsOn: [base.rolePolicy] },
  );
}

export function createMetricsDelivery(
  name: string,
  args: MetricsDeliveryArgs,
  parent: pulumi.Resource,
): MetricsDelivery {
  const selection = metricStreamSelection(args.metricNames);
  const opts = { parent };
  const base = createFirehoseBase(name, parent);
  const deliveryStream = createHttpEndpointStream(
    `${name}-firehose`,
    base,
    { url: args.firehoseUrl, accessKey: args.firehoseAccessKey },
    parent,
  );

  const streamRole = new aws.iam.Role(
    `${name}-metric-stream-role`,
    {
      assumeRolePolicy: metricStreamTrustPolicy(),
    },
    opts,
  );
  const streamRolePolicy = new aws.iam.RolePolicy(
    `${name}-metric-stream-policy`,
    { role: streamRole.id, policy: deliveryStream.arn.apply(metricStreamPolicy) },
    opts,
  );
  const metricStream = new aws.cloudwatch.MetricStream(
    `${name}-metric-stream`,
    {
      firehoseArn: deliveryStream.arn,
      roleArn: streamRole.arn,
      outputFormat: OUTPUT_FORMAT,
      includeFilters: selection.includeFilters,
      statisticsConfigurations: selection.statisticsConfigurations,
    },
    { parent, dependsOn: [streamRolePolicy] },
  );

  return { deliveryStream, metricStream, backupBucket: base.bucket };
}
