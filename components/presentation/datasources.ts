// Grafana datasource and dashboard-provider provisioning files. Pure: URLs and names in, YAML out.
// The uids are fixed because dashboards and alert rules reference datasources by uid; renaming one
// here without regenerating the dashboards is caught by test/presentation/dashboards.test.ts.
import { stringify } from "yaml";

export const DATASOURCE_UIDS = {
  prometheus: "firefly-prometheus",
  jaeger: "firefly-jaeger",
  sql: "firefly-promscale-sql",
  logs: "firefly-logs",
} as const;

export const DATASOURCE_TYPES = {
  prometheus: "prometheus",
  jaeger: "jaeger",
  // The core PostgreSQL plugin's id since Grafana 10.2 (`postgres` is only an alias).
  sql: "grafana-postgresql-datasource",
  // VictoriaLogs' own plugin (Apache-2.0), installed when Grafana starts (grafana.ts).
  logs: "victoriametrics-logs-datasource",
} as const;

const SQL_DATASOURCE_NAME = "Promscale SQL";

/** Env var holding the read-only database password; Grafana expands `${VAR}` in provisioning files. */
export const SQL_PASSWORD_ENV = "FIREFLY_SQL_PASSWORD";

/** Promscale's SQL interface for the PostgreSQL datasource (promscale storage only). */
export interface SqlConnection {
  host: string;
  port: number;
  database: string;
  /** A read-only role: Grafana users can type any SQL into a panel. */
  user: string;
  /** libpq sslmode: `disable` on a host's private network (like collector → store), `require`/`verify-full` across networks. */
  sslMode: string;
}

export interface DatasourceOptions {
  /** PromQL endpoint (Prometheus or Promscale), reachable from the Grafana container. */
  prometheusUrl: string;
  /** Jaeger query API base URL (Jaeger or Promscale). */
  jaegerUrl: string;
  /** The log store (VictoriaLogs-compatible). Default: `http://victorialogs:9428`, Firefly's own log store on every host. */
  logsUrl?: string;
  sql?: SqlConnection;
}

/**
 * Trace → logs: a span's logs are the lines with its trace id (OTLP logs from the layer) or its request id
 * (`faas.invocation_id` = Lambda's RequestId, which REPORT and timeout lines carry).
 */
export const TRACE_TO_LOGS_QUERY =
  'trace_id:="${__span.traceId}" OR faas.invocation_id:="${__span.tags["faas.invocation_id"]}"';

export function renderDatasources(o: DatasourceOptions): string {
  const datasources: Record<string, unknown>[] = [
    {
      name: "Prometheus",
      uid: DATASOURCE_UIDS.prometheus,
      type: DATASOURCE_TYPES.prometheus,
      access: "proxy",
      url: o.prometheusUrl,
      isDefault: true,
      editable: false,
      jsonData: {
        httpMethod: "POST",
        // CloudWatch values arrive once a minute: a smaller step only draws gaps.
        timeInterval: "60s",
      },
    },
    {
      name: "Jaeger",
      uid: DATASOURCE_UIDS.jaeger,
      type: DATASOURCE_TYPES.jaeger,
      access: "proxy",
      url: o.jaegerUrl,
      editable: false,
      jsonData: {
        tracesToLogsV2: {
          datasourceUid: DATASOURCE_UIDS.logs,
          customQuery: true,
          query: TRACE_TO_LOGS_QUERY,
          spanStartTimeShift: "-5m",
          spanEndTimeShift: "5m",
        },
      },
    },
    {
      name: "Logs",
      uid: DATASOURCE_UIDS.logs,
      type: DATASOURCE_TYPES.logs,
      access: "proxy",
      url: o.logsUrl ?? "http://victorialogs:9428",
      editable: false,
      jsonData: {
        // Logs → trace: a line's trace_id field opens that trace in Jaeger.
        derivedFields: [
          {
            name: "Trace",
            matcherType: "label",
            matcherRegex: "trace_id",
            datasourceUid: DATASOURCE_UIDS.jaeger,
            url: "${__value.raw}",
          },
        ],
      },
    },
  ];
  if (o.sql) {
    datasources.push({
      name: SQL_DATASOURCE_NAME,
      uid: DATASOURCE_UIDS.sql,
      type: DATASOURCE_TYPES.sql,
      access: "proxy",
      url: `${o.sql.host}:${o.sql.port}`,
      user: o.sql.user,
      editable: false,
      jsonData: {
        database: o.sql.database,
        sslmode: o.sql.sslMode,
        postgresVersion: 1400,
        timescaledb: true,
      },
      // The password never appears in the file: Grafana reads it from the (secret) environment. The
      // unbraced form is expanded once, so a `$` inside the password stays literal.
      secureJsonData: { password: `$${SQL_PASSWORD_ENV}` },
    });
  }
  // Leaving promscale must not leave a dead SQL datasource behind (deleting a missing one is a no-op).
  const deleteDatasources = o.sql ? [] : [{ orgId: 1, name: SQL_DATASOURCE_NAME }];
  return stringify({ apiVersion: 1, deleteDatasources, datasources });
}

/** Where the dashboard JSON files are mounted inside the Grafana container. */
export const DASHBOARDS_DIR = "/etc/grafana/dashboards/firefly";
export const FOLDER = "Firefly";

export function renderDashboardProvider(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "firefly",
        folder: FOLDER,
        type: "file",
        // Provisioned dashboards are regenerated from code: UI edits would be lost, so forbid them.
        allowUiUpdates: false,
        disableDeletion: true,
        updateIntervalSeconds: 60,
        options: { path: DASHBOARDS_DIR, foldersFromFilesStructure: false },
      },
    ],
  });
}
