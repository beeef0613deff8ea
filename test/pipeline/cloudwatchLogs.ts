// CloudWatch Logs subscription deliveries exactly as AWS sends them to a Firehose stream (gzip JSON
// `{messageType, owner, logGroup, logStream, subscriptionFilters, logEvents}`, one per Firehose record),
// Lambda's platform lines in the text log format, and LogsQL queries against the log store.
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { sleep } from "./processes";

export interface LogEvent {
  /** ms since epoch. Default: now. */
  timestamp?: number;
  message: string;
}

export interface SubscriptionOptions {
  logGroup: string;
  /** Default: `2026/11/29/[$LATEST]<32 hex>`, Lambda's stream naming. */
  logStream?: string;
  owner?: string;
  filterName?: string;
}

let eventSeq = 0;

/** The uncompressed subscription message (DATA_MESSAGE). */
export function subscriptionMessage(events: LogEvent[], o: SubscriptionOptions) {
  return {
    messageType: "DATA_MESSAGE",
    owner: o.owner ?? "123456789012",
    logGroup: o.logGroup,
    logStream: o.logStream ?? `2026/11/29/[$LATEST]${randomUUID().replace(/-/g, "")}`,
    subscriptionFilters: [o.filterName ?? "firefly-platform-lines"],
    logEvents: events.map((e) => {
      const timestamp = e.timestamp ?? Date.now();
      // CloudWatch event ids are 56-digit strings; only uniqueness matters here.
      return { id: `${timestamp}${String(++eventSeq).padStart(43, "0")}`, timestamp, message: e.message };
    }),
  };
}

/** One Firehose record's data: the gzip-compressed subscription message. */
export function subscriptionRecord(events: LogEvent[], o: SubscriptionOptions): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(subscriptionMessage(events, o))));
}

/** The probe CloudWatch Logs sends when a subscription is created. */
export function controlRecord(logGroup: string): Buffer {
  return gzipSync(
    Buffer.from(
      JSON.stringify({
        messageType: "CONTROL_MESSAGE",
        owner: "CloudwatchLogs",
        logGroup,
        logStream: "",
        subscriptionFilters: [],
        logEvents: [
          {
            id: "",
            timestamp: Date.now(),
            message: "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
          },
        ],
      }),
    ),
  );
}

export interface ReportLine {
  requestId: string;
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  maxMemoryMb: number;
  initMs?: number;
  status?: "timeout" | "error";
  errorType?: string;
}

/** Lambda's REPORT line (text format), fields tab-separated as CloudWatch shows them. */
export function reportLine(r: ReportLine): string {
  const parts = [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${r.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${r.billedMs} ms`,
    `Memory Size: ${r.memoryMb} MB`,
    `Max Memory Used: ${r.maxMemoryMb} MB`,
  ];
  if (r.initMs !== undefined) parts.push(`Init Duration: ${r.initMs.toFixed(2)} ms`);
  if (r.status) parts.push(`Status: ${r.status}`);
  if (r.errorType) parts.push(`Error Type: ${r.errorType}`);
  return `${parts.join("\t")}\t\n`;
}

export function timeoutLine(requestId: string, seconds: number, at = new Date()): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${seconds.toFixed(2)} seconds\n`;
}

export function runtimeExitLine(requestId: string): string {
  return `RequestId: ${requestId} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n`;
}

// ---- the log store ---------------------------------------------------------------------------------

export type LogRow = Record<string, string>;

/** Runs a LogsQL query; VictoriaLogs answers one JSON object per line. */
export async function logsQuery(logsUrl: string, query: string, limit = 1000): Promise<LogRow[]> {
  const body = new URLSearchParams({ query, limit: String(limit) });
  const response = await fetch(`${logsUrl}/select/logsql/query`, {
    method: "POST",
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`LogsQL ${query}: HTTP ${response.status} ${text}`);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as LogRow);
}

/** Polls until the query returns at least `count` rows (the store makes rows searchable within a second or so). */
export async function waitForLogs(
  logsUrl: string,
  query: string,
  count: number,
  timeoutMs = 30_000,
): Promise<LogRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await logsQuery(logsUrl, query);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await sleep(500);
  }
}
