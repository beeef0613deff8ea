import * as assert from "node:assert/strict";
import { renderCaddyfile } from "../../components/hosts/caddy";
import { publicHttpsEndpoint } from "../../components/hosts/index";
import { Host } from "../../components/types";

describe("publicHttpsEndpoint", () => {
  it("ec2 always has one: API Gateway, or the user's domain through Caddy", () => {
    assert.equal(publicHttpsEndpoint(Host.Ec2, {}).available, true);
    assert.match(
      publicHttpsEndpoint(Host.Ec2, { ec2: { domain: "f.example.com" } }).detail,
      /f\.example\.com/,
    );
  });

  it("docker needs publicUrl, and says which setting to configure", () => {
    const none = publicHttpsEndpoint(Host.Docker, {});
    assert.equal(none.available, false);
    assert.match(none.detail, /firefly:docker\.publicUrl/);
    assert.equal(
      publicHttpsEndpoint(Host.Docker, { docker: { publicUrl: "https://x.example.com" } }).available,
      true,
    );
  });

  it("kubernetes needs ingressHost or publicUrl; a bare LoadBalancer is not HTTPS", () => {
    const none = publicHttpsEndpoint(Host.Kubernetes, { kubernetes: { namespace: "x" } });
    assert.equal(none.available, false);
    assert.match(none.detail, /firefly:kubernetes\.ingressHost/);
    assert.equal(
      publicHttpsEndpoint(Host.Kubernetes, { kubernetes: { ingressHost: "i.example.com" } }).available,
      true,
    );
    assert.equal(
      publicHttpsEndpoint(Host.Kubernetes, { kubernetes: { publicUrl: "https://p.example.com" } }).available,
      true,
    );
  });
});

describe("Caddy front", () => {
  it("forwards only the routed paths and answers 404 to everything else", () => {
    const file = renderCaddyfile("f.example.com", [
      { path: "/v1/traces", service: "collector", port: 4318 },
      { path: "/firehose", service: "collector", port: 4433 },
    ]);
    assert.equal(
      file,
      "{\n  admin off\n}\n\nf.example.com {\n  handle /v1/traces {\n    reverse_proxy collector:4318\n  }\n  handle /firehose {\n    reverse_proxy collector:4433\n  }\n  handle {\n    respond 404\n  }\n}\n",
    );
  });
});
