// The reachability rules as component args meet them: EmitPhase takes an OTLP endpoint and a Firehose
// URL directly (any language reaches the same TypeScript check through the component provider).
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { validateEndpoints } from "../../components/emit";
import { AddressKind, addressKind } from "../../components/reachability";

describe("EmitPhase endpoints Lambda and Firehose can reach", () => {
  it("classifies addresses as Lambda sees them", () => {
    const kinds: [string, AddressKind][] = [
      ["127.0.0.1", AddressKind.Loopback],
      ["localhost", AddressKind.Loopback],
      ["[::1]", AddressKind.Loopback],
      ["0.0.0.0", AddressKind.Unspecified],
      ["[::]", AddressKind.Unspecified],
      ["169.254.169.254", AddressKind.LinkLocal],
      ["[fe80::1]", AddressKind.LinkLocal],
      ["10.1.2.3", AddressKind.Private],
      ["172.31.255.1", AddressKind.Private],
      ["192.168.0.1", AddressKind.Private],
      ["100.64.0.1", AddressKind.Private],
      ["[fd12::1]", AddressKind.Private],
      ["[::ffff:10.0.0.1]", AddressKind.Private],
      ["172.32.0.1", AddressKind.Public],
      ["203.0.113.9", AddressKind.Public],
      ["ingest.example.com", AddressKind.Public],
    ];
    for (const [host, kind] of kinds) assert.equal(addressKind(host), kind, host);
  });

  it("refuses an OTLP endpoint Lambda cannot reach, or none", () => {
    for (const [otlpEndpoint, why] of [
      ["http://127.0.0.1:4318", /loopback/],
      ["http://0.0.0.0:4318", /bind-all/],
      ["https://169.254.1.1", /link-local/],
      ["", /no OTLP endpoint/],
      ["not a url", /is not a URL/],
    ] as const) {
      assert.throws(() => validateEndpoints({ otlpEndpoint }), why, otlpEndpoint);
    }
  });

  it("refuses the token over plain HTTP to a public address, but not HTTPS", () => {
    assert.throws(
      () => validateEndpoints({ otlpEndpoint: "http://otel.example.com:4318" }),
      /EmitPhase otlpEndpoint: .*over plain HTTP across the internet/,
    );
    validateEndpoints({ otlpEndpoint: "https://otel.example.com" });
  });

  it("accepts a private endpoint only with privateEndpoint", () => {
    assert.throws(
      () => validateEndpoints({ otlpEndpoint: "http://10.0.0.5:4318" }),
      /set privateEndpoint: true when every instrumented function runs in a VPC/,
    );
    validateEndpoints({ otlpEndpoint: "http://10.0.0.5:4318", privateEndpoint: true });
  });

  it("refuses a Firehose URL that is not public, even with privateEndpoint", () => {
    assert.throws(
      () =>
        validateEndpoints({
          otlpEndpoint: "http://10.0.0.5:4318",
          privateEndpoint: true,
          metrics: true,
          firehoseUrl: "https://10.0.0.5/firehose",
        }),
      /EmitPhase firehoseUrl: .*Firehose reaches only public HTTPS endpoints/,
    );
  });

  it("cannot judge an endpoint known only at deployment (an Output): the Firefly component checks the settings that make it", () => {
    validateEndpoints({ otlpEndpoint: pulumi.output("http://127.0.0.1:4318") });
  });
});
