// Exporter settings the collector's pipelines share: collectorConfig.ts (traces, span metrics) and
// logsConfig.ts (logs, REPORT metrics) import them from here, so logs keep exactly the traces'
// guarantees and a change to one queue cannot leave the other behind.

/**
 * The durable queue every trace and log exporter has: on disk before the client is answered, so queued
 * data survives a collector restart; retried without a deadline, so a store outage of any length loses
 * nothing while the queue has room. Batching happens here, after the write to disk, not in a batch
 * processor that would hold acknowledged records in memory.
 */
export const DURABLE_QUEUE = {
  sending_queue: {
    enabled: true,
    storage: "file_storage",
    sizer: "items",
    queue_size: 500000,
    num_consumers: 4,
    batch: { flush_timeout: "1s", min_size: 1024, max_size: 4096 },
  },
  retry_on_failure: {
    enabled: true,
    initial_interval: "5s",
    max_interval: "60s",
    max_elapsed_time: "0s",
  },
} as const;

/**
 * Remote write of metrics the collector makes itself (span metrics, its own, REPORT metrics): an
 * in-memory queue and five minutes of retries. They are recomputed or cumulative, so a longer outage
 * loses resolution, not totals.
 */
export const QUEUED_REMOTE_WRITE = {
  timeout: "10s",
  remote_write_queue: { enabled: true, queue_size: 10000 },
  retry_on_failure: {
    enabled: true,
    initial_interval: "5s",
    max_interval: "30s",
    max_elapsed_time: "300s",
  },
} as const;

/** The `headers` block sending a store's auth header, its value read from `envName`; empty without a header. */
export function storeAuthHeaders(
  header: string | undefined,
  envName: string,
): { headers?: Record<string, string> } {
  return header ? { headers: { [header]: "${env:" + envName + "}" } } : {};
}
