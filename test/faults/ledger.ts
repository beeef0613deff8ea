// What each fault injected and what it lost, printed as one line per fault and a closing total:
//   faults: 6 injected, 12000 spans sent, 12000 stored, 0 lost; 8000 log records sent, 8000 stored, 0 lost
// "sent" counts only what the pipeline acknowledged (HTTP 200): a sender that was refused knows it
// and can retry, so only acknowledged data can be silently lost.

export interface FaultResult {
  /** Short fault name, e.g. `storage-outage`. */
  readonly fault: string;
  /** What was done, with durations. */
  readonly injected: string;
  readonly spansSent?: number;
  readonly spansStored?: number;
  readonly logsSent?: number;
  readonly logsStored?: number;
  readonly firehoseSent?: number;
  readonly firehoseStored?: number;
  /** Anything else worth a number (latencies, handler errors). */
  readonly notes?: string;
}

const results: FaultResult[] = [];

export function record(result: FaultResult): void {
  results.push(result);
  console.log(`      ${line(result)}`);
}

function line(r: FaultResult): string {
  const parts = [`fault ${r.fault}: ${r.injected}`];
  if (r.spansSent !== undefined) {
    parts.push(
      `spans ${r.spansSent} sent, ${r.spansStored ?? 0} stored, ${lost(r.spansSent, r.spansStored)} lost`,
    );
  }
  if (r.logsSent !== undefined) {
    parts.push(
      `log records ${r.logsSent} sent, ${r.logsStored ?? 0} stored, ${lost(r.logsSent, r.logsStored)} lost`,
    );
  }
  if (r.firehoseSent !== undefined) {
    parts.push(
      `firehose requests ${r.firehoseSent} sent, ${r.firehoseStored ?? 0} stored, ${lost(r.firehoseSent, r.firehoseStored)} lost`,
    );
  }
  if (r.notes) parts.push(r.notes);
  return parts.join("; ");
}

const lost = (sent: number, stored = 0) => Math.max(0, sent - stored);

export function totals(): string {
  const sum = (pick: (r: FaultResult) => number | undefined) =>
    results.reduce((n, r) => n + (pick(r) ?? 0), 0);
  const sent = sum((r) => r.spansSent);
  const stored = sum((r) => r.spansStored);
  const logsSent = sum((r) => r.logsSent);
  const logsStored = sum((r) => r.logsStored);
  const logLoss = sum((r) => (r.logsSent === undefined ? 0 : lost(r.logsSent, r.logsStored)));
  const firehoseSent = sum((r) => r.firehoseSent);
  const firehoseStored = sum((r) => r.firehoseStored);
  const spanLoss = sum((r) => (r.spansSent === undefined ? 0 : lost(r.spansSent, r.spansStored)));
  const firehoseLoss = sum((r) =>
    r.firehoseSent === undefined ? 0 : lost(r.firehoseSent, r.firehoseStored),
  );
  return (
    `faults: ${results.length} injected, ${sent} spans sent, ${stored} stored, ${spanLoss} lost` +
    (logsSent > 0 ? `; ${logsSent} log records sent, ${logsStored} stored, ${logLoss} lost` : "") +
    (firehoseSent > 0
      ? `; ${firehoseSent} firehose requests sent, ${firehoseStored} stored, ${firehoseLoss} lost`
      : "")
  );
}

// A root-level hook (registered once, when the first fault file loads): the total comes after every
// fault has run, whichever files mocha was asked to run.
after(() => {
  if (results.length > 0) console.log(`\n  ${totals()}`);
});
