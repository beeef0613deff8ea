// One event per trigger shape, trimmed from the payloads AWS documents, each carrying a distinct
// parent so a test can tell which field the router read.
export const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
export const tp = (spanId: string, flags = "01") => `00-${TRACE_ID}-${spanId}-${flags}`;

export const apiGatewayRest = {
  resource: "/items/{id}",
  path: "/items/42",
  httpMethod: "GET",
  headers: { TraceParent: tp("1000000000000001"), TraceState: "vendor=a" },
  multiValueHeaders: { TraceParent: [tp("1000000000000001")] },
  requestContext: {
    resourceId: "abc",
    stage: "prod",
    requestId: "r",
    httpMethod: "GET",
    resourcePath: "/items/{id}",
  },
  body: null,
};

export const apiGatewayRestMultiValueOnly = {
  resource: "/items",
  path: "/items",
  httpMethod: "POST",
  headers: null,
  multiValueHeaders: { traceparent: [tp("1000000000000002"), tp("1000000000000009")] },
  requestContext: { resourceId: "abc", stage: "prod" },
};

export const apiGatewayHttp = {
  version: "2.0",
  routeKey: "POST /orders/{id}",
  rawPath: "/orders/7",
  headers: { traceparent: tp("2000000000000001"), "content-type": "application/json" },
  requestContext: {
    domainName: "abc123.execute-api.us-east-1.amazonaws.com",
    http: { method: "POST", path: "/orders/7", protocol: "HTTP/1.1" },
  },
};

export const functionUrl = {
  version: "2.0",
  routeKey: "$default",
  rawPath: "/",
  headers: { traceparent: tp("3000000000000001") },
  requestContext: {
    domainName: "abcdefg.lambda-url.us-east-1.on.aws",
    http: { method: "GET", path: "/" },
  },
};

export const alb = {
  requestContext: {
    elb: { targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1" },
  },
  httpMethod: "GET",
  path: "/health",
  headers: { TRACEPARENT: tp("4000000000000001") },
};

const sqsRecord = (id: string, attrs: Record<string, unknown>, body = "hello") => ({
  messageId: id,
  receiptHandle: "h",
  body,
  attributes: {
    AWSTraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
  },
  messageAttributes: attrs,
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:orders",
  awsRegion: "us-east-1",
});
const sqsAttr = (value: string) => ({
  stringValue: value,
  stringListValues: [],
  binaryListValues: [],
  dataType: "String",
});

export const sqsOne = { Records: [sqsRecord("m1", { traceparent: sqsAttr(tp("5000000000000001")) })] };

export const sqsBatch = {
  Records: [
    sqsRecord("m1", { traceparent: sqsAttr(tp("5000000000000001")) }),
    sqsRecord("m2", { traceparent: sqsAttr(tp("5000000000000002")) }),
    sqsRecord("m3", {}),
  ],
};

export const snsThroughSqs = {
  Records: [
    sqsRecord(
      "m1",
      {},
      JSON.stringify({
        Type: "Notification",
        MessageId: "n1",
        TopicArn: "arn:aws:sns:us-east-1:123456789012:events",
        Message: "hi",
        MessageAttributes: { traceparent: { Type: "String", Value: tp("6000000000000001") } },
      }),
    ),
  ],
};

export const sns = {
  Records: [
    {
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:123456789012:events:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
      Sns: {
        Type: "Notification",
        MessageId: "n1",
        TopicArn: "arn:aws:sns:us-east-1:123456789012:events",
        Message: "hi",
        MessageAttributes: { traceparent: { Type: "String", Value: tp("7000000000000001") } },
      },
    },
  ],
};

export const eventBridge = {
  version: "0",
  id: "e1",
  "detail-type": "OrderPlaced",
  source: "shop.orders",
  account: "123456789012",
  time: "2026-01-01T00:00:00Z",
  region: "us-east-1",
  resources: [],
  detail: { orderId: 7, _firefly: { traceparent: tp("8000000000000001"), tracestate: "vendor=b" } },
};

export const schedule = {
  version: "0",
  id: "e2",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  detail: {},
};

export const asyncInvoke = { orderId: 7, _firefly: { traceparent: tp("9000000000000001") } };

export const syncInvokeClientContext = { custom: { traceparent: tp("a000000000000001") } };
