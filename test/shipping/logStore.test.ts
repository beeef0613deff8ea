// The log store as a host-neutral service: pinned image, retention and a volume its non-root user owns,
// a health check, and nothing public (only the collector and Grafana reach it, on the host's network).
import * as assert from "node:assert/strict";
import { validateShippingArgs } from "../../components/shipping";
import { LOG_STORE_PORT, logStoreService, VICTORIALOGS_IMAGE } from "../../components/shipping/logStore";
import { DEFAULT_LOGS_URL } from "../../components/shipping/logsConfig";

describe("log store service spec", () => {
  it("runs the pinned VictoriaLogs with its retention, a data volume its user owns, and a health check", () => {
    const spec = logStoreService({ sizeGb: 50, retentionDays: 14 });
    assert.equal(spec.image, VICTORIALOGS_IMAGE);
    assert.match(spec.image, /^victoriametrics\/victoria-logs:v\d+\.\d+\.\d+$/);
    assert.ok(spec.args?.includes("-retentionPeriod=14d"));
    assert.ok(spec.args?.includes("-storageDataPath=/victoria-logs-data"));
    assert.deepEqual(spec.volumes, [
      { name: "victorialogs-data", mountPath: "/victoria-logs-data", sizeGb: 50, owner: "65534:65534" },
    ]);
    assert.equal(spec.user, "65534:65534");
    assert.deepEqual(spec.health, { port: LOG_STORE_PORT, path: "/health" });
    assert.equal(spec.stateful, true);
    assert.ok(
      spec.ports.every((p) => !p.public),
      "never exposed outside the host",
    );
    assert.equal(
      DEFAULT_LOGS_URL,
      `http://${spec.name}:${LOG_STORE_PORT}`,
      "the collector's default reaches it by name",
    );
  });

  it("defaults to 30 days and refuses a retention that is not a whole number of days", () => {
    assert.ok(logStoreService().args?.includes("-retentionPeriod=30d"));
    for (const bad of [0, 1.5, -3]) {
      assert.ok(
        validateShippingArgs({ logRetentionDays: bad }).some((p) => p.startsWith("logRetentionDays:")),
        String(bad),
      );
    }
  });
});
