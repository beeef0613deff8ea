// What every Firefly bucket gets, whatever it holds: encryption at rest and a policy refusing any
// request not made over TLS. Used by the Firehose backup bucket (emit) and the ec2 project bundles,
// which carry the apply scripts (hosts).
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** A bucket policy that denies every request made without TLS. Pure. */
export function tlsOnlyPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyPlainHttp",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

/** Encryption by default and the TLS-only policy for `bucket`; returns both resources. */
export function hardenBucket(
  name: string,
  bucket: aws.s3.Bucket,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource[] {
  return [
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      opts,
    ),
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) },
      opts,
    ),
  ];
}
