// Steady OTLP/HTTP log load, as instrumented functions' console output would produce, and a count of
// what reached the log store. Every record has its own id (attribute `fault.id`); a record counts as sent
// only when the collector acknowledged its request with 200.
import { randomBytes } from "node:crypto";
import { sleep } from "./control";
import { OtlpLoad } from "./load";

/** An OTLP/JSON ExportLogsServiceRequest with `count` records of one run; returns it and the record ids. */
export function otlpLogsJson(count: number, run: string): { body: string; ids: string[] } {
  const now = BigInt(Date.now()) * 1_000_000n;
  const ids: string[] = [];
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const logRecords = Array.from({ length: count }, (_, i) => {
    const id = randomBytes(8).toString("hex");
    ids.push(id);
    return {
      timeUnixNano: String(now + BigInt(i)),
      severityNumber: 9,
      severityText: "INFO",
      body: { stringValue: `fault load line ${i}` },
      attributes: [str("fault.id", id)],
      traceId: randomBytes(16).toString("hex"),
      spanId: randomBytes(8).toString("hex"),
    };
  });
  const body = JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [str("service.name", "faults"), str("fault.run", run)] },
        scopeLogs: [{ scope: { name: "firefly-faults" }, logRecords }],
      },
    ],
  });
  return { body, ids };
}

/** `perRequest` records of one run every `intervalMs`, one request at a time, until stopped. */
export class LogLoad extends OtlpLoad {
  readonly run: string;

  constructor(url: string, token: string, perRequest = 20, intervalMs = 100) {
    const run = randomBytes(4).toString("hex");
    super(url, token, () => otlpLogsJson(perRequest, run), intervalMs);
    this.run = run;
  }
}

/** Ids of the run's records in the log store (duplicates from redelivery count once); empty while it is down. */
export async function storedLogIds(logsUrl: string, run: string): Promise<Set<string>> {
  try {
    const response = await fetch(`${logsUrl}/select/logsql/query`, {
      method: "POST",
      body: new URLSearchParams({ query: `fault.run:"${run}" | fields fault.id`, limit: "10000000" }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) return new Set();
    const text = await response.text();
    return new Set(
      text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => (JSON.parse(l) as Record<string, string>)["fault.id"]),
    );
  } catch {
    return new Set();
  }
}

/** Polls until every acknowledged id is stored or `timeoutMs` passes; returns the ids still missing. */
export async function waitForLogIds(logsUrl: string, load: LogLoad, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await storedLogIds(logsUrl, load.run);
    const missing = [...load.stats.acknowledged].filter((id) => !stored.has(id));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await sleep(2_000);
  }
}
