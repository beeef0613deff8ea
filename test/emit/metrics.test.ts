// The metrics path's pure pieces: validation, stream selection, IAM documents.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  firehosePolicy,
  firehoseTrustPolicy,
  logStreamArn,
  metricStreamPolicy,
  metricStreamSelection,
  metricStreamTrustPolicy,
  validateMetricNames,
  validateMetricsDelivery,
} from "../../components/emit/metrics";

describe("metrics path (pure)", () => {
  describe("validateMetricsDelivery", () => {
    it("asks for nothing when metrics are off", () => {
      assert.doesNotThrow(() => validateMetricsDelivery({ metrics: false }));
    });
    it("says what to configure when metrics are on without a public HTTPS URL", () => {
      assert.throws(
        () => validateMetricsDelivery({ metrics: true, firehoseAccessKey: "k" }),
        (err: Error) =>
          /firefly:metrics is on, but the shipping host has no public HTTPS URL/.test(err.message) &&
          /firefly:host ec2/.test(err.message) &&
          /firefly:docker\.publicUrl/.test(err.message) &&
          /pulumi config set firefly:metrics false/.test(err.message),
      );
    });
    it("refuses URLs Firehose will not deliver to: http, or a port other than 443", () => {
      for (const url of ["http://ingest.example.com/firehose", "https://ingest.example.com:4433/firehose"]) {
        assert.throws(
          () => validateMetricsDelivery({ metrics: true, firehoseUrl: url, firehoseAccessKey: "k" }),
          /port 443/,
        );
      }
      assert.doesNotThrow(() =>
        validateMetricsDelivery({
          metrics: true,
          firehoseUrl: "https://ingest.example.com:443/firehose",
          firehoseAccessKey: "k",
        }),
      );
    });
    it("accepts a URL that is an output (known only at deployment)", () => {
      assert.doesNotThrow(() =>
        validateMetricsDelivery({
          metrics: true,
          firehoseUrl: pulumi.output("https://x"),
          firehoseAccessKey: "k",
        }),
      );
    });
    it("refuses unauthenticated ingest", () => {
      assert.throws(
        () => validateMetricsDelivery({ metrics: true, firehoseUrl: "https://x.example.com" }),
        /no Firehose access key/,
      );
    });
  });

  describe("metric stream selection", () => {
    it("filters AWS/Lambda to the given names, once each, and adds percentiles for Duration only", () => {
      const s = metricStreamSelection(["Duration", "Errors", "Duration"]);
      assert.deepEqual(s.includeFilters, [{ namespace: "AWS/Lambda", metricNames: ["Duration", "Errors"] }]);
      assert.deepEqual(s.statisticsConfigurations[0].additionalStatistics, ["p50", "p90", "p99"]);
    });
    it("asks for no extra statistics when Duration is not streamed", () => {
      assert.deepEqual(metricStreamSelection(["Invocations"]).statisticsConfigurations, []);
    });
    it("refuses an empty list (it would stream every metric) and malformed names", () => {
      assert.throws(() => validateMetricNames([]), /would stream every AWS\/Lambda metric/);
      assert.throws(
        () => validateMetricNames(["Invocations", "bad name"]),
        /invalid CloudWatch metric names: bad name/,
      );
    });
  });

  describe("IAM documents", () => {
    it("trust: Firehose only on behalf of this account; metric streams as AWS documents them", () => {
      assert.deepEqual(JSON.parse(firehoseTrustPolicy("111122223333")).Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "firehose.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": "111122223333" } },
        },
      ]);
      assert.deepEqual(JSON.parse(metricStreamTrustPolicy()).Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "streams.metrics.cloudwatch.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ]);
    });
    it("metric stream: put records on one delivery stream", () => {
      const doc = JSON.parse(metricStreamPolicy("arn:aws-cn:firehose:cn-north-1:1:deliverystream/s"));
      assert.deepEqual(doc.Statement[0].Resource, ["arn:aws-cn:firehose:cn-north-1:1:deliverystream/s"]);
      assert.deepEqual(doc.Statement[0].Action, ["firehose:PutRecord", "firehose:PutRecordBatch"]);
    });
    it("firehose: one bucket and one log stream, ARNs built with the partition", () => {
      const stream = logStreamArn("aws-cn", "cn-north-1", "1", "/g", "s");
      assert.equal(stream, "arn:aws-cn:logs:cn-north-1:1:log-group:/g:log-stream:s");
      const doc = JSON.parse(firehosePolicy("arn:aws-cn:s3:::b", stream));
      assert.deepEqual(doc.Statement[0].Resource, ["arn:aws-cn:s3:::b", "arn:aws-cn:s3:::b/*"]);
      assert.deepEqual(doc.Statement[1], {
        Effect: "Allow",
        Action: ["logs:PutLogEvents"],
        Resource: [stream],
      });
    });
  });
});
