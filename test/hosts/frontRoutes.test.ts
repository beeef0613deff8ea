// The public fronts forward only the routes in use: spans and the layer's logs always, Firehose
// deliveries only when `metrics` (or `logs`, for CloudWatch Logs) sends them, and never OTLP metrics
// (the functions' token may not write metrics).
import * as assert from "node:assert/strict";
import { CONFIGURATIONS, programOutput, type Rendered, renderProgram } from "./programUnderMocks";

const config = (name: string) => CONFIGURATIONS.find((c) => c.name === name)!;
const routesOf = (resources: Rendered[]) => ({
  apiGateway: resources
    .filter((r) => r.type === "aws:apigatewayv2/route:Route")
    .map((r) => r.inputs.routeKey)
    .sort(),
  ingress: resources
    .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress")
    .flatMap((r) => r.inputs.spec.rules[0].http.paths.map((p: any) => p.path))
    .sort(),
});

describe("public front routes (the program under mocks)", function () {
  this.timeout(120_000);

  it("ec2 without metrics: POST /v1/traces and /v1/logs only", async () => {
    const c = config("ec2 API Gateway front");
    assert.deepEqual(routesOf(await renderProgram(c.config)).apiGateway, [
      "POST /v1/logs",
      "POST /v1/traces",
    ]);
  });

  it("ec2 with logs: /firehose/logs too, and still no /firehose without metrics", async () => {
    const c = config("ec2 API Gateway front");
    assert.deepEqual(routesOf(await renderProgram({ ...c.config, logs: "true" })).apiGateway, [
      "POST /firehose/logs",
      "POST /v1/logs",
      "POST /v1/traces",
    ]);
  });

  it("ec2 with metrics: /v1/traces and /firehose, never /v1/metrics", async () => {
    const c = config("ec2 promscale, metrics");
    assert.deepEqual(routesOf(await renderProgram(c.config)).apiGateway, [
      "POST /firehose",
      "POST /v1/logs",
      "POST /v1/traces",
    ]);
  });

  it("kubernetes Ingress with metrics: the same paths", async () => {
    const c = config("kubernetes ingress, metrics");
    assert.deepEqual(routesOf(await renderProgram(c.config)).ingress, [
      "/firehose",
      "/v1/logs",
      "/v1/traces",
    ]);
  });

  it("ec2 with a domain: grafanaUrl names the domain (on the Elastic IP), not a temporary address", async () => {
    const c = config("ec2 domain, admin CIDR, functions");
    assert.equal(await programOutput(c.config, "grafanaUrl"), "https://firefly.example.com:3000");
  });
});
