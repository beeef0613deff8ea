// Pure pieces of the metrics path (CloudWatch Metric Stream → Firehose → the collector, failures → S3):
// validation, the stream's filters and statistics, Firehose's delivery settings and the IAM policies.
// The MetricsDelivery component turns them into resources; tests read them directly.
import type * as pulumi from "@pulumi/pulumi";
import { METRIC_STREAM_OUTPUT_FORMAT } from "../contracts/metrics";

export const LAMBDA_NAMESPACE = "AWS/Lambda";
/** Percentiles CloudWatch adds for Duration (Min, Max, SampleCount and Sum always come). */
export const DURATION_PERCENTILES = ["p50", "p90", "p99"];
/** Metric Stream format; the collector's awsfirehose receiver decodes exactly this one. */
export const OUTPUT_FORMAT = METRIC_STREAM_OUTPUT_FORMAT;

/**
 * Firehose delivery: 60 s / 1 MiB buffers keep dashboards about a minute behind (Firehose's default is
 * 300 s) and far below the receiver's 20 MiB body limit; 7200 s is the longest Firehose retries an
 * unavailable collector before it writes the batch to S3.
 */
export const FIREHOSE_DEFAULTS = {
  bufferingIntervalSeconds: 60,
  bufferingSizeMb: 1,
  retryDurationSeconds: 7200,
  /** Failed batches are kept this long in the backup bucket. */
  backupRetentionDays: 30,
  /** Firehose's own delivery errors (CloudWatch Logs). */
  logRetentionDays: 14,
};

/** A Lambda metric stream refuses nothing here; only the https URL decides whether metrics can flow. */
export interface MetricsDeliveryCheck {
  /** Whether metrics are on (`firefly:metrics`). */
  readonly metrics: boolean;
  /** The public HTTPS URL Firehose posts to, if the shipping phase has one (unknown outputs count as set). */
  readonly firehoseUrl?: pulumi.Input<string>;
  /** The Firehose access key, if set. */
  readonly firehoseAccessKey?: pulumi.Input<string>;
}

/**
 * Refuse metrics without somewhere Firehose can deliver them, before any resource exists. Firehose's HTTP
 * endpoint destination only posts to HTTPS on port 443 with a publicly trusted certificate, and without an
 * access key the collector's Firehose receiver would accept anyone's data.
 */
export function validateMetricsDelivery(check: MetricsDeliveryCheck): void {
  if (!check.metrics) return;
  if (check.firehoseUrl === undefined || check.firehoseUrl === "") {
    throw new Error(
      "firefly:metrics is on, but the shipping host has no public HTTPS URL for Firehose (it only delivers " +
        "to https:// on port 443 with a trusted certificate). Configure one: firefly:host ec2 (an API Gateway " +
        "URL is created), or firefly:docker.publicUrl / firefly:kubernetes.publicUrl / " +
        "firefly:kubernetes.ingressHost; or turn metrics off with `pulumi config set firefly:metrics false`.",
    );
  }
  if (typeof check.firehoseUrl === "string" && !/^https:\/\/[^/:]+(:443)?(\/.*)?$/.test(check.firehoseUrl)) {
    throw new Error(
      `EmitPhase firehoseUrl ${JSON.stringify(check.firehoseUrl)} is not an https:// URL on port 443, the only ` +
        "kind Firehose delivers to. Put an HTTPS front with a trusted certificate on 443 before the collector.",
    );
  }
  if (check.firehoseAccessKey === undefined || check.firehoseAccessKey === "") {
    throw new Error(
      "firefly:metrics is on, but no Firehose access key is set: the collector would take metrics from anyone. " +
        "Pass firehoseAccessKey (Firefly generates one unless firefly:firehoseAccessKey is set).",
    );
  }
}

/** The metric names to stream: at least one, each once, in the order given. */
export function validateMetricNames(names: readonly string[]): string[] {
  const unique = [...new Set(names)];
  if (unique.length === 0) {
    throw new Error(
      'EmitPhase metricNames is empty: a stream with no metric names would stream every AWS/Lambda metric. Name at least one, e.g. ["Invocations"].',
    );
  }
  const bad = unique.filter((n) => !/^[A-Za-z0-9_.-]{1,255}$/.test(n));
  if (bad.length)
    throw new Error(`EmitPhase metricNames has invalid CloudWatch metric names: ${bad.join(", ")}`);
  return unique;
}

/** includeFilters and statisticsConfigurations of the metric stream. */
export function metricStreamSelection(metricNames: readonly string[]) {
  const names = validateMetricNames(metricNames);
  return {
    includeFilters: [{ namespace: LAMBDA_NAMESPACE, metricNames: names }],
    statisticsConfigurations: names.includes("Duration")
      ? [
          {
            additionalStatistics: DURATION_PERCENTILES,
            includeMetrics: [{ namespace: LAMBDA_NAMESPACE, metricName: "Duration" }],
          },
        ]
      : [],
  };
}

interface Statement {
  Effect: "Allow";
  Action: string[];
  Resource: string[];
}

const policy = (...statements: Statement[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });

const assumeRole = (service: string, condition?: object) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });

/**
 * Firehose may assume its role, and only on behalf of this account: Firehose passes the account id as the
 * external id (the confused-deputy guard AWS documents for Firehose roles).
 */
export function firehoseTrustPolicy(accountId: string): string {
  return assumeRole("firehose.amazonaws.com", { StringEquals: { "sts:ExternalId": accountId } });
}

/**
 * CloudWatch metric streams may assume their role. AWS documents no condition key for this principal, and
 * an unverified one would silently stop the stream; the role's only permission is one delivery stream.
 */
export function metricStreamTrustPolicy(): string {
  return assumeRole("streams.metrics.cloudwatch.amazonaws.com");
}

/** The metric stream may only put records on its own delivery stream. */
export function metricStreamPolicy(deliveryStreamArn: string): string {
  return policy({
    Effect: "Allow",
    Action: ["firehose:PutRecord", "firehose:PutRecordBatch"],
    Resource: [deliveryStreamArn],
  });
}

/** Firehose may only write failed batches to its bucket and its errors to its own log stream. */
export function firehosePolicy(bucketArn: string, logStreamArn: string): string {
  return policy(
    {
      Effect: "Allow",
      Action: [
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:PutObject",
      ],
      Resource: [bucketArn, `${bucketArn}/*`],
    },
    { Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: [logStreamArn] },
  );
}

/** ARN of a log stream, built with the partition so GovCloud and China work too. */
export function logStreamArn(
  partition: string,
  region: string,
  accountId: string,
  group: string,
  stream: string,
): string {
  return `arn:${partition}:logs:${region}:${accountId}:log-group:${group}:log-stream:${stream}`;
}
