// The presentation phase's pure renderers and validation: datasources, dashboard provider, alert rules
// and contact point, the Grafana service description.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  committedDashboards,
  functionNameOf,
  grafanaIsPublic,
  type PresentationPhaseArgs,
  resolveAlertOptions,
  validatePresentationArgs,
} from "../../components/presentation";
import {
  ALERT_DEFAULTS,
  type AlertOptions,
  alertRules,
  renderAlerting,
} from "../../components/presentation/alerts";
import {
  DASHBOARDS_DIR,
  DATASOURCE_UIDS,
  renderDashboardProvider,
  renderDatasources,
  SQL_PASSWORD_ENV,
} from "../../components/presentation/datasources";
import { GRAFANA_IMAGE, grafanaService } from "../../components/presentation/grafana";
import { Host, Storage } from "../../components/types";

const resolve = <T>(v: pulumi.Input<T>) =>
  new Promise<pulumi.Unwrap<T>>((done) => pulumi.output(v).apply((x) => done(x as any)));
const alerts = (o: Partial<AlertOptions> = {}): AlertOptions => ({
  ...ALERT_DEFAULTS,
  emails: [],
  functionTimeoutsMs: {},
  ...o,
});
const sql = {
  host: "timescaledb",
  port: 5432,
  database: "postgres",
  user: "firefly_reader",
  sslMode: "disable",
};

describe("presentation renderers", () => {
  describe("datasources", () => {
    it("provisions Prometheus and Jaeger with fixed uids, and SQL only with a connection", () => {
      const plain = parse(
        renderDatasources({ prometheusUrl: "http://prometheus:9090", jaegerUrl: "http://jaeger:16686" }),
      );
      assert.deepEqual(
        plain.datasources.map((d: any) => [d.uid, d.type, d.url]),
        [
          [DATASOURCE_UIDS.prometheus, "prometheus", "http://prometheus:9090"],
          [DATASOURCE_UIDS.jaeger, "jaeger", "http://jaeger:16686"],
          [DATASOURCE_UIDS.logs, "victoriametrics-logs-datasource", "http://victorialogs:9428"],
        ],
      );
      assert.deepEqual(plain.deleteDatasources, [{ orgId: 1, name: "Promscale SQL" }]);
      assert.ok(plain.datasources.every((d: any) => d.editable === false));
      const withSql = parse(
        renderDatasources({ prometheusUrl: "http://p:9201", jaegerUrl: "http://p:9201", sql }),
      );
      const pg = withSql.datasources.find((d: any) => d.uid === DATASOURCE_UIDS.sql);
      assert.equal(pg.type, "grafana-postgresql-datasource");
      assert.equal(pg.url, "timescaledb:5432");
      assert.equal(pg.user, "firefly_reader");
      assert.deepEqual(pg.jsonData, {
        database: "postgres",
        sslmode: "disable",
        postgresVersion: 1400,
        timescaledb: true,
      });
    });

    it("links traces to their logs (trace id or request id) and log lines to their trace", () => {
      const ds = parse(
        renderDatasources({ prometheusUrl: "u", jaegerUrl: "u", logsUrl: "http://logs:9428" }),
      ).datasources;
      const jaeger = ds.find((d: any) => d.uid === DATASOURCE_UIDS.jaeger);
      assert.equal(jaeger.jsonData.tracesToLogsV2.datasourceUid, DATASOURCE_UIDS.logs);
      assert.equal(
        jaeger.jsonData.tracesToLogsV2.query,
        'trace_id:="${__span.traceId}" OR faas.invocation_id:="${__span.tags["faas.invocation_id"]}"',
      );
      const logs = ds.find((d: any) => d.uid === DATASOURCE_UIDS.logs);
      assert.equal(logs.url, "http://logs:9428");
      assert.deepEqual(logs.jsonData.derivedFields, [
        {
          name: "Trace",
          matcherType: "label",
          matcherRegex: "trace_id",
          datasourceUid: DATASOURCE_UIDS.jaeger,
          url: "${__value.raw}",
        },
      ]);
    });

    it("keeps the SQL password out of the file: Grafana expands it from the secret environment", () => {
      const text = renderDatasources({ prometheusUrl: "http://p:9201", jaegerUrl: "http://p:9201", sql });
      const pg = parse(text).datasources.find((d: any) => d.uid === DATASOURCE_UIDS.sql);
      assert.equal(pg.secureJsonData.password, `$${SQL_PASSWORD_ENV}`);
      assert.deepEqual(parse(text).deleteDatasources, []);
    });

    it("writes only keys Grafana's datasource provisioning reads", () => {
      // From grafana pkg/services/provisioning/datasources/types.go: configsV1, upsertDataSourceFromConfigV1.
      const DATASOURCE = [
        "orgId",
        "version",
        "name",
        "type",
        "access",
        "url",
        "user",
        "database",
        "basicAuth",
      ];
      DATASOURCE.push(
        "basicAuthUser",
        "withCredentials",
        "isDefault",
        "correlations",
        "jsonData",
        "secureJsonData",
      );
      DATASOURCE.push("editable", "uid");
      const file = parse(
        renderDatasources({ prometheusUrl: "http://p:9201", jaegerUrl: "http://p:9201", sql }),
      );
      assert.deepEqual(Object.keys(file).sort(), ["apiVersion", "datasources", "deleteDatasources"]);
      for (const d of file.datasources) {
        assert.deepEqual(
          Object.keys(d).filter((k) => !DATASOURCE.includes(k)),
          [],
          d.name,
        );
      }
    });

    it("points the dashboard provider at the mounted directory, read-only", () => {
      const provider = parse(renderDashboardProvider()).providers[0];
      assert.equal(provider.options.path, DASHBOARDS_DIR);
      assert.equal(provider.allowUiUpdates, false);
    });
  });

  describe("alerts", () => {
    it("renders error rate, throttles, cold starts and pipeline loss; p99-vs-timeout only with timeouts", () => {
      assert.deepEqual(
        alertRules(alerts()).map((r) => r.uid),
        [
          "firefly-error-rate",
          "firefly-throttles",
          "firefly-cold-start-rate",
          "firefly-pipeline-loss",
          "firefly-pipeline-silent",
          "firefly-uninstrumented",
          "firefly-memory-near-size",
          "firefly-out-of-memory",
          "firefly-timeouts",
        ],
      );
      const withTimeouts = alertRules(alerts({ functionTimeoutsMs: { orders: 30000 } }));
      const p99 = withTimeouts.find((r) => r.uid === "firefly-p99-near-timeout")!;
      assert.equal(p99.threshold, ALERT_DEFAULTS.durationTimeoutRatio);
      assert.match(p99.expr, /label_replace\(vector\(30000\), "FunctionName", "orders", "", ""\)/);
    });

    it("uses the configured thresholds in a threshold expression on an instant Prometheus query", () => {
      const file = parse(renderAlerting(alerts({ errorRatePercent: 7.5 })));
      const rule = file.groups[0].rules.find((r: any) => r.uid === "firefly-error-rate");
      assert.equal(rule.condition, "B");
      assert.equal(rule.data[0].datasourceUid, DATASOURCE_UIDS.prometheus);
      assert.equal(rule.data[0].model.instant, true);
      assert.deepEqual(rule.data[1].model.conditions[0].evaluator, { type: "gt", params: [7.5] });
      assert.equal(file.groups[0].folder, "Firefly");
    });

    it("writes only keys Grafana's file provisioning reads, with every required one set", () => {
      // From grafana pkg/services/provisioning/alerting: AlertRuleGroupV1, AlertRuleV1, QueryV1, ContactPointV1.
      const GROUP = ["orgId", "name", "folder", "interval", "rules"];
      const RULE = [
        "uid",
        "title",
        "condition",
        "data",
        "dashboardUid",
        "panelId",
        "noDataState",
        "execErrState",
      ];
      RULE.push(
        "for",
        "keepFiringFor",
        "annotations",
        "labels",
        "isPaused",
        "notification_settings",
        "record",
      );
      const QUERY = ["refId", "queryType", "relativeTimeRange", "datasourceUid", "model"];
      const file = parse(
        renderAlerting(alerts({ emails: ["a@example.com"], functionTimeoutsMs: { f: 3000 } })),
      );
      const only = (o: object, keys: string[], where: string) =>
        assert.deepEqual(
          Object.keys(o).filter((k) => !keys.includes(k)),
          [],
          where,
        );
      only(file, ["apiVersion", "groups", "contactPoints", "policies"], "file");
      for (const g of file.groups) {
        only(g, GROUP, "group");
        assert.match(g.interval, /^\d+[smh]$/);
        for (const r of g.rules) {
          only(r, RULE, r.title);
          assert.ok(r.uid && r.title && r.condition && r.data.length > 0, r.title);
          assert.match(r.for, /^\d+[smh]$/);
          assert.ok(["OK", "NoData", "Alerting", "KeepLast"].includes(r.noDataState));
          for (const q of r.data) only(q, QUERY, `${r.title} / ${q.refId}`);
          assert.ok(
            r.data.some((q: any) => q.refId === r.condition),
            `${r.title}: condition ${r.condition}`,
          );
        }
      }
      for (const c of file.contactPoints) only(c, ["orgId", "name", "receivers"], "contact point");
    });

    it("adds an email contact point and routes to it only when addresses are given", () => {
      assert.equal(parse(renderAlerting(alerts())).contactPoints, undefined);
      const file = parse(renderAlerting(alerts({ emails: ["a@example.com", "b@example.com"] })));
      assert.equal(file.contactPoints[0].receivers[0].type, "email");
      assert.equal(file.contactPoints[0].receivers[0].settings.addresses, "a@example.com;b@example.com");
      assert.equal(file.policies[0].receiver, file.contactPoints[0].name);
    });
  });

  describe("grafana service", () => {
    const options = {
      datasources: "ds",
      alerting: "alerts",
      dashboards: committedDashboards(),
      adminPassword: pulumi.secret("admin-Password-123456"),
      secretKey: pulumi.secret("key-123"),
    };

    it("runs the pinned image with persistent storage, as the grafana user", () => {
      const s = grafanaService(options);
      assert.equal(s.image, GRAFANA_IMAGE);
      assert.match(GRAFANA_IMAGE, /^grafana\/grafana:1[12]\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
      assert.deepEqual(
        s.volumes?.map((v) => [v.mountPath, v.owner]),
        [["/var/lib/grafana", "472:472"]],
      );
      // Not root's group: the gid Grafana's own chart runs it with.
      assert.equal(s.user, "472:472");
      assert.deepEqual(s.health, { port: 3000, path: "/api/health" });
    });

    it("turns anonymous access, sign-up and phoning home off, and keeps secrets in secret env", async () => {
      const s = grafanaService(options);
      assert.equal(s.env?.GF_AUTH_ANONYMOUS_ENABLED, "false");
      assert.equal(s.env?.GF_USERS_ALLOW_SIGN_UP, "false");
      assert.equal(s.env?.GF_ANALYTICS_REPORTING_ENABLED, "false");
      for (const key of Object.keys(s.env ?? {})) assert.doesNotMatch(key, /PASSWORD|SECRET_KEY/);
      assert.deepEqual(Object.keys(s.secretEnv ?? {}).sort(), [
        "GF_SECURITY_ADMIN_PASSWORD",
        "GF_SECURITY_SECRET_KEY",
      ]);
      assert.equal(await pulumi.isSecret(pulumi.output(s.secretEnv!.GF_SECURITY_ADMIN_PASSWORD)), true);
    });

    it("mounts datasources, provider, alerting and every dashboard", () => {
      const paths = grafanaService(options).files!.map((f) => f.path);
      assert.deepEqual(paths.slice(0, 3), [
        "/etc/grafana/provisioning/datasources/firefly.yaml",
        "/etc/grafana/provisioning/dashboards/firefly.yaml",
        "/etc/grafana/provisioning/alerting/firefly.yaml",
      ]);
      assert.deepEqual(paths.slice(3).sort(), [
        `${DASHBOARDS_DIR}/function.json`,
        `${DASHBOARDS_DIR}/overview.json`,
        `${DASHBOARDS_DIR}/pipeline.json`,
      ]);
    });

    it("serves HTTPS with a secret key file and secure cookies when given a certificate", async () => {
      const s = grafanaService({
        ...options,
        tls: { certificate: "CERT", privateKey: pulumi.secret("KEY") },
      });
      assert.equal(s.env?.GF_SERVER_PROTOCOL, "https");
      assert.equal(s.env?.GF_SECURITY_COOKIE_SECURE, "true");
      const key = s.files!.find((f) => f.path.endsWith("key.pem"))!;
      assert.equal(key.secret, true);
      assert.equal(await resolve(key.content), "KEY");
      assert.equal(s.health, undefined);
    });
  });

  describe("validation", () => {
    const base: PresentationPhaseArgs = {
      host: Host.Docker,
      storage: Storage.Prometheus,
      dockerNetwork: "net",
      prometheusUrl: "http://prometheus:9090",
      jaegerUrl: "http://jaeger:16686",
    };

    it("accepts a complete docker setup", () => {
      assert.deepEqual(validatePresentationArgs(base), []);
    });

    it("names each bad setting and its fix", () => {
      const problems = validatePresentationArgs({
        ...base,
        host: Host.Ec2,
        storage: Storage.Promscale,
        alerts: { emails: ["not-an-email"], errorRatePercent: 0, durationTimeoutRatio: 2 },
        smtp: { host: "mail.example.com", fromAddress: "grafana@example.com" },
        functionTimeouts: { "bad name": 3 },
        postgres: {
          host: "db",
          port: 5432,
          database: "postgres",
          user: "r",
          password: "p",
          sslMode: "prefer",
        },
      });
      const text = problems.join("\n");
      for (const needle of [
        "alerts.errorRatePercent: 0",
        "alerts.durationTimeoutRatio: 2",
        'alerts.emails: "not-an-email"',
        "instanceId: required on host ec2; pass ShippingPhase.instanceId",
        'smtp.host: "mail.example.com" must be host:port',
        'functionTimeoutsMs: "bad name"',
        'postgres.sslMode: "prefer" is not one of disable, require, verify-ca, verify-full',
      ]) {
        assert.ok(text.includes(needle), `missing "${needle}" in:\n${text}`);
      }
    });

    it("refuses alert emails without a mail relay", () => {
      const [problem] = validatePresentationArgs({ ...base, alerts: { emails: ["oncall@example.com"] } });
      assert.match(problem, /^alerts\.emails: Grafana needs a mail relay/);
    });

    it("treats Grafana as public off loopback on docker and with adminCidrs on ec2", () => {
      assert.equal(grafanaIsPublic(base), false);
      assert.equal(grafanaIsPublic({ ...base, docker: { bindAddress: "0.0.0.0" } }), true);
      assert.equal(grafanaIsPublic({ ...base, host: Host.Ec2 }), false);
      assert.equal(
        grafanaIsPublic({ ...base, host: Host.Ec2, ec2: { adminCidrs: ["203.0.113.0/24"] } }),
        true,
      );
      assert.equal(grafanaIsPublic({ ...base, host: Host.Kubernetes }), false);
    });

    it("takes function names from names and ARNs, and rejects anything else", () => {
      assert.equal(functionNameOf("orders"), "orders");
      assert.equal(functionNameOf("arn:aws:lambda:eu-west-1:123456789012:function:orders:live"), "orders");
      assert.equal(functionNameOf("123456789012:function:billing"), "billing");
      const [problem] = validatePresentationArgs({ ...base, functions: ["not a function"] });
      assert.match(problem, /^functions: "not a function" is not a Lambda function name or ARN/);
    });

    it("converts function timeouts to ms and applies alert defaults", () => {
      const o = resolveAlertOptions({ ...base, functionTimeouts: { orders: 30 } });
      assert.deepEqual(o, { ...ALERT_DEFAULTS, emails: [], functionTimeoutsMs: { orders: 30000 } });
    });
  });
});
