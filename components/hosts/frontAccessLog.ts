// Access logs for the API Gateway front: who called which ingest route, when, and with what answer,
// so a flood or a stranger's probing shows up somewhere. Only request metadata: no headers (the token
// travels in one) and no bodies.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** Days the front's access log is kept. */
export const FRONT_ACCESS_LOG_RETENTION_DAYS = 30;

/** One JSON line per request, from HTTP API context variables. */
export const FRONT_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  time: "$context.requestTime",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  method: "$context.httpMethod",
  route: "$context.routeKey",
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
});

/** The log group and the stage setting that sends the front's access log to it. */
export function frontAccessLog(name: string, opts: pulumi.CustomResourceOptions) {
  const group = new aws.cloudwatch.LogGroup(
    `${name}-front-access`,
    { retentionInDays: FRONT_ACCESS_LOG_RETENTION_DAYS },
    opts,
  );
  return { group, settings: { destinationArn: group.arn, format: FRONT_ACCESS_LOG_FORMAT } };
}
