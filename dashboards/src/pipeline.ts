// Pipeline health: is telemetry getting through the collector, or is it being refused or lost?
import {
  pipelineLossRate,
  pipelineMemory,
  pipelineQueries,
  pipelineQueue,
  type Signal,
} from "../../components/presentation/queries";
import { DASHBOARD_UIDS, finish, fireflyDashboard, graph } from "./panels";

const RANGE = "$__rate_interval";
// A fixed window: see pipelineLossRate for why loss is not a rate() over Grafana's interval.
const LOSS_WINDOW = "10m";
const SIGNAL_TITLES: Record<Signal, string> = { spans: "Spans", metric_points: "Metric points" };
// The awsfirehose receiver keeps no receiver counters of its own (seen on the running collector).
const IN_NOTES: Record<Signal, string> = {
  spans: "OTLP from the Lambda layer.",
  metric_points:
    "OTLP only (functions' metrics and the collector's own). The Firehose receiver counts nothing itself: CloudWatch metrics show as sent by prometheusremotewrite/cloudwatch.",
};

function signalPanels(signal: Signal) {
  const q = pipelineQueries(signal, RANGE);
  const title = SIGNAL_TITLES[signal];
  return [
    graph(
      `${title} in (per second)`,
      "short",
      [
        { expr: q.accepted, legend: "accepted by {{receiver}}" },
        { expr: q.refused, legend: "refused by {{receiver}}" },
        { expr: q.failed, legend: "failed in {{receiver}}" },
      ],
      IN_NOTES[signal],
    ),
    graph(`${title} out (per second)`, "short", [
      { expr: q.sent, legend: "sent by {{exporter}}" },
      { expr: q.sendFailed, legend: "failed in {{exporter}}" },
    ]),
  ];
}

export function pipelineDashboard() {
  const builder = fireflyDashboard(
    DASHBOARD_UIDS.pipeline,
    "Firefly / Pipeline health",
    "The gateway collector's own counters: when refused, failed or queued items rise, telemetry is at risk.",
  ).withPanel(
    graph(
      "Telemetry at risk (items per second)",
      "short",
      [{ expr: pipelineLossRate(LOSS_WINDOW), legend: "refused + failed + not queued" }],
      "Per second, averaged over the last 10 minutes (the alert's window, so a single burst shows). Refused by a receiver (memory limit, failing store), failed on arrival, failed to export, or dropped by a full queue. Firehose and the SDK retry refused data; failed exports are lost unless queued.",
      24,
    ),
  );
  for (const signal of ["spans", "metric_points"] as const) {
    for (const panel of signalPanels(signal)) builder.withPanel(panel);
  }
  return finish(
    builder
      .withPanel(
        graph("Export queue", "short", [
          { expr: pipelineQueue.size, legend: "{{exporter}} size" },
          { expr: pipelineQueue.capacity, legend: "{{exporter}} capacity" },
        ]),
      )
      .withPanel(
        graph("Collector memory", "bytes", [
          { expr: pipelineMemory.rss, legend: "resident" },
          { expr: pipelineMemory.heap, legend: "Go heap" },
        ]),
      )
      .build(),
  );
}
