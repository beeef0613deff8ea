// Generates the component provider's schema with the SDK's own analyzer (what `pulumi package add`
// gives other languages), without the CLI, and checks the four components and their contract.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import { PROVIDER_COMPONENTS, PROVIDER_NAME } from "../../components";
import { markSecrets } from "../../components/providerSchema";

type Schema = {
  name: string;
  resources: Record<string, any>;
  types: Record<string, any>;
};

describe("component provider schema", function () {
  this.timeout(120_000);
  let schema: Schema;

  before(async () => {
    const provider = new ComponentProvider({
      name: PROVIDER_NAME,
      components: PROVIDER_COMPONENTS,
      dirname: join(__dirname, "..", ".."),
    });
    schema = JSON.parse(await provider.getSchema());
  });

  const resource = (name: string) => {
    const r = schema.resources[`firefly:index:${name}`];
    assert.ok(r, `firefly:index:${name} is missing from the schema`);
    assert.equal(r.isComponent, true);
    return r;
  };

  it("is the firefly package with exactly the four components", () => {
    assert.equal(schema.name, "firefly");
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      "firefly:index:EmitPhase",
      "firefly:index:Firefly",
      "firefly:index:PresentationPhase",
      "firefly:index:ShippingPhase",
    ]);
  });

  it("gives Firefly the documented inputs, with host and storage as enums", () => {
    const firefly = resource("Firefly");
    const inputs = firefly.inputProperties;
    for (const name of [
      "host",
      "storage",
      "docker",
      "ec2",
      "kubernetes",
      "functions",
      "metrics",
      "metricNames",
      "sampling",
      "alerts",
      "grafanaAdminPassword",
      "otlpToken",
      "firehoseAccessKey",
    ]) {
      assert.ok(inputs[name], `Firefly input ${name} is missing`);
    }
    assert.deepEqual(firefly.requiredInputs, [], "every Firefly input has a default");
    assert.equal(inputs.host.$ref, "#/types/firefly:index:Host");
    assert.equal(inputs.storage.$ref, "#/types/firefly:index:Storage");
    assert.deepEqual(
      schema.types["firefly:index:Host"].enum.map((e: any) => e.value),
      ["docker", "ec2", "kubernetes"],
    );
    assert.deepEqual(
      schema.types["firefly:index:Storage"].enum.map((e: any) => e.value),
      ["promscale", "prometheus", "external"],
    );
    assert.equal(inputs.externalStorage.$ref, "#/types/firefly:index:ExternalStorage");
    assert.ok(inputs.externalMetricsAuth && inputs.externalTracesAuth && inputs.externalLogsAuth);
    assert.equal(inputs.functions.type, "array");
    assert.equal(inputs.metrics.type, "boolean");
  });

  it("gives Firefly the documented outputs", () => {
    const outputs = resource("Firefly").properties;
    for (const name of [
      "grafanaUrl",
      "grafanaAdminPassword",
      "otlpEndpoint",
      "otlpToken",
      "firehoseUrl",
      "layerArn",
      "instrumentedFunctions",
      "deliveryStreamArn",
      "metricStreamName",
      "instanceId",
    ]) {
      assert.ok(outputs[name], `Firefly output ${name} is missing`);
    }
  });

  it("exposes each phase with its own inputs and outputs", () => {
    const emit = resource("EmitPhase");
    assert.ok(emit.inputProperties.functions, "EmitPhase.functions");
    for (const o of ["layerArn", "instrumentedFunctions", "deliveryStreamArn", "metricStreamName"]) {
      assert.ok(emit.properties[o], `EmitPhase output ${o}`);
    }
    const shipping = resource("ShippingPhase");
    assert.ok(
      shipping.inputProperties.host && shipping.inputProperties.storage,
      "ShippingPhase host/storage",
    );
    for (const o of [
      "otlpEndpoint",
      "firehoseUrl",
      "prometheusUrl",
      "jaegerUrl",
      "otlpToken",
      "firehoseAccessKey",
    ]) {
      assert.ok(shipping.properties[o], `ShippingPhase output ${o}`);
    }
    const presentation = resource("PresentationPhase");
    assert.ok(presentation.inputProperties.prometheusUrl, "PresentationPhase.prometheusUrl");
    assert.ok(presentation.properties.grafanaUrl, "PresentationPhase.grafanaUrl");
  });

  it("marks the external stores' auth values secret for other languages, and their header names not", () => {
    const marked: Schema = JSON.parse(markSecrets(JSON.stringify(schema)));
    for (const component of ["Firefly", "ShippingPhase"]) {
      const inputs = marked.resources[`firefly:index:${component}`].inputProperties;
      for (const name of ["externalMetricsAuth", "externalTracesAuth", "externalLogsAuth"])
        assert.equal(inputs[name]?.secret, true, `${component}.${name}`);
    }
    const external = marked.types["firefly:index:ExternalStorage"].properties;
    assert.ok(external.logsEndpoint && external.logsQueryUrl, "ExternalStorage names the log store");
    for (const name of ["metricsAuthHeader", "tracesAuthHeader", "logsAuthHeader", "logsEndpoint"])
      assert.equal(external[name].secret, undefined, name);
  });

  it("documents inputs for other languages' SDKs", () => {
    const inputs = resource("Firefly").inputProperties;
    for (const [name, prop] of Object.entries<any>(inputs)) {
      assert.ok(prop.description?.length > 10, `Firefly input ${name} has no description`);
    }
  });
});
