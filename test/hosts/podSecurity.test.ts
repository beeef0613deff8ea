// Pod and mail-relay hardening, read off the program's rendered kubernetes configurations (Pulumi
// mocks): Pod Security admission on the namespace, the runtime's seccomp filter and no privilege
// escalation in every pod, and Grafana's mail relay only over TLS.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { POD_SECURITY_LABELS } from "../../components/hosts/kubernetes";
import { grafanaEnv } from "../../components/presentation/grafana";
import { requireTool } from "./helpers";
import { CONFIGURATIONS, type Rendered, renderProgram } from "./programUnderMocks";

describe("pod security (kubernetes, under mocks)", function () {
  this.timeout(300_000);
  const rendered: Rendered[][] = [];
  before(async () => {
    for (const c of CONFIGURATIONS.filter((c) => c.config.host === "kubernetes"))
      rendered.push(await renderProgram(c.config, c.secretKeys));
  });

  it("labels the namespace: restricted enforced, warned and audited", () => {
    for (const resources of rendered) {
      const [ns] = resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
      assert.deepEqual(ns.inputs.metadata.labels, POD_SECURITY_LABELS);
      assert.equal(POD_SECURITY_LABELS["pod-security.kubernetes.io/enforce"], "restricted");
    }
  });

  it("every pod passes Pod Security 'restricted' (enforced on the namespace) in the upstream evaluator", () => {
    const bin = requireTool("pss-check", "58-pss-check.sh");
    const workloads = rendered
      .flat()
      .filter((r) => /:(Deployment|StatefulSet)$/.test(r.type))
      .map((r) => ({ apiVersion: "apps/v1", kind: r.type.split(":").pop(), ...r.inputs }));
    for (const level of ["restricted", "baseline"]) {
      const r = spawnSync(bin, [level], { input: JSON.stringify(workloads), encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout);
      assert.match(r.stdout, new RegExp(`^${workloads.length} pods evaluated at ${level}, 0 rejected`, "m"));
    }
    // The evaluator does reject: a pod allowed to escalate fails "restricted".
    const loose = structuredClone(workloads[0]);
    loose.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    const bad = spawnSync(bin, ["restricted"], { input: JSON.stringify([loose]), encoding: "utf8" });
    assert.equal(bad.status, 1, bad.stdout);
    assert.match(bad.stdout, /allowPrivilegeEscalation/);
  });

  it("every pod: RuntimeDefault seccomp, no service-account token, no escalation, all capabilities dropped", () => {
    let pods = 0;
    for (const resources of rendered)
      for (const r of resources.filter((r) => /:(Deployment|StatefulSet)$/.test(r.type))) {
        const spec = r.inputs.spec.template.spec;
        pods++;
        assert.deepEqual(spec.securityContext.seccompProfile, { type: "RuntimeDefault" }, r.name);
        assert.equal(spec.automountServiceAccountToken, false, r.name);
        for (const c of spec.containers) {
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, r.name);
          assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], r.name);
        }
      }
    assert.ok(pods >= 12, `only ${pods} pods`);
  });
});

describe("Grafana's mail relay", () => {
  it("requires STARTTLS: no plain-text fallback for the relay's password", () => {
    const env = grafanaEnv({
      smtp: { host: "email-smtp.eu-west-1.amazonaws.com:587", fromAddress: "g@example.com", user: "u" },
    } as Parameters<typeof grafanaEnv>[0]);
    assert.equal(env.GF_SMTP_STARTTLS_POLICY, "MandatoryStartTLS");
  });
});

describe("every container runs as a set, non-root user (every host, under mocks)", function () {
  this.timeout(300_000);
  it("docker containers and kubernetes pods name a non-zero uid and gid; only the volume-init helper is root", async () => {
    let checked = 0;
    for (const c of CONFIGURATIONS.filter((c) => c.config.host !== "ec2")) {
      for (const r of await renderProgram(c.config, c.secretKeys)) {
        if (r.type === "docker:index/container:Container") {
          if (/-data-init$|-init$/.test(r.name)) continue; // the one-shot chown of a fresh volume
          checked++;
          assert.match(
            String(r.inputs.user ?? ""),
            /^[1-9]\d*:[1-9]\d*$/,
            `${c.name}: ${r.name} runs as ${r.inputs.user}`,
          );
        }
        if (/:(Deployment|StatefulSet)$/.test(r.type)) {
          checked++;
          const sc = r.inputs.spec.template.spec.securityContext;
          assert.ok(
            sc.runAsUser > 0 && sc.runAsGroup > 0 && sc.fsGroup !== 0 && sc.runAsNonRoot === true,
            `${c.name}: ${r.name} ${JSON.stringify(sc)}`,
          );
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} checked`);
  });
});
