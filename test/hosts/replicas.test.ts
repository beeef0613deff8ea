// Scale-out proven with real collectors: three replicas built from collector/manifest.yaml, each with
// the configuration the Kubernetes path renders (only the resolver switched to `static` on loopback).
// Spans of one trace are sent to different replicas on purpose, as a load balancer in front would.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { sleep } from "../pipeline/processes";
import { promQuery } from "../pipeline/query";
import { type ReplicaGateway, startReplicas } from "./replicas";

interface Span {
  traceId: string;
  spanId: string;
  parent?: string;
  error: boolean;
  keep: boolean;
}

const SPANS_PER_TRACE = 3;

function makeTraces(count: number, opts: { errorEvery?: number; keep?: boolean }): Span[][] {
  return Array.from({ length: count }, (_, t) => {
    const traceId = randomBytes(16).toString("hex");
    const root = randomBytes(8).toString("hex");
    return Array.from({ length: SPANS_PER_TRACE }, (_, i) => ({
      traceId,
      spanId: i === 0 ? root : randomBytes(8).toString("hex"),
      parent: i === 0 ? undefined : root,
      error: opts.errorEvery !== undefined && t % opts.errorEvery === 0 && i === SPANS_PER_TRACE - 1,
      keep: opts.keep ?? false,
    }));
  });
}

function otlpBody(service: string, spans: Span[]): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: "replica-test" },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.parent ? "child" : "root",
              kind: 2,
              startTimeUnixNano: String(now - 3_000_000n),
              endTimeUnixNano: String(now),
              attributes: s.keep ? [{ key: "firefly.keep", value: { boolValue: true } }] : [],
              status: s.error ? { code: 2 } : {},
            })),
          },
        ],
      },
    ],
  });
}

/** Posts spans to one replica; true when it acknowledged them (200). */
async function send(gw: ReplicaGateway, replica: number, service: string, spans: Span[]): Promise<boolean> {
  try {
    const res = await fetch(gw.replicas[replica].tracesUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` },
      body: otlpBody(service, spans),
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Span i of every trace goes to replica (t + i) mod n: no trace arrives whole at one replica. */
function spread(traces: Span[][], n: number): Span[][] {
  const out: Span[][] = Array.from({ length: n }, () => []);
  traces.forEach((trace, t) => {
    trace.forEach((span, i) => {
      out[(t + i) % n].push(span);
    });
  });
  return out;
}

/** Waits until the stores have stopped growing for `quietMs` (and at least `minMs` have passed). */
async function settle(gw: ReplicaGateway, minMs: number, quietMs = 5000, timeoutMs = 150_000) {
  const total = () => gw.replicas.reduce((n, r) => n + r.store.spans.size, 0);
  const start = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - start < timeoutMs) {
    const now = total();
    if (now !== last) [last, since] = [now, Date.now()];
    if (Date.now() - start >= minMs && Date.now() - since >= quietMs) return;
    await sleep(250);
  }
}

/** Which stores hold spans of each trace. */
function owners(gw: ReplicaGateway): Map<string, { stores: Set<number>; spans: number }> {
  const byTrace = new Map<string, { stores: Set<number>; spans: number }>();
  gw.replicas.forEach((r, i) => {
    for (const traceId of r.store.spans.values()) {
      const o = byTrace.get(traceId) ?? { stores: new Set(), spans: 0 };
      o.stores.add(i);
      o.spans++;
      byTrace.set(traceId, o);
    }
  });
  return byTrace;
}

describe("gateway replicas (real collectors, traces routed by trace id)", function () {
  this.timeout(300_000);

  describe("three replicas, sampling 50 %", () => {
    let gw: ReplicaGateway;
    const service = `replica-test-${randomBytes(3).toString("hex")}`;
    const traces = makeTraces(600, { errorEvery: 10 });
    let acked = 0;

    before(async () => {
      gw = await startReplicas(3, { samplingPercent: 50 });
      const parts = spread(traces, 3);
      for (let offset = 0; offset < parts[0].length; offset += 150) {
        const oks = await Promise.all(
          parts.map((p, i) => send(gw, i, service, p.slice(offset, offset + 150))),
        );
        oks.forEach((ok, i) => {
          if (ok) acked += parts[i].slice(offset, offset + 150).length;
        });
      }
      // The decision wait (10 s) and the queues' batches.
      await settle(gw, 13_000);
    });
    after(async () => gw?.stop());

    it("acknowledges every span", () => {
      assert.equal(acked, traces.length * SPANS_PER_TRACE);
    });

    it("every trace's spans reach exactly one replica, and a kept trace is kept whole", () => {
      const byTrace = owners(gw);
      assert.ok(byTrace.size > 0);
      for (const [traceId, o] of byTrace) {
        assert.equal(o.stores.size, 1, `trace ${traceId} in stores ${[...o.stores]}`);
        assert.equal(o.spans, SPANS_PER_TRACE, `trace ${traceId} kept with ${o.spans} spans`);
      }
      const used = new Set([...byTrace.values()].map((o) => [...o.stores][0]));
      assert.equal(used.size, 3, "routing spreads traces over all replicas");
    });

    it("tail sampling keeps every error trace and about half of the others", () => {
      const byTrace = owners(gw);
      const errors = traces.filter((t) => t.some((s) => s.error));
      for (const t of errors) assert.ok(byTrace.has(t[0].traceId), `error trace ${t[0].traceId} kept`);
      const ordinary = traces.filter((t) => !t.some((s) => s.error));
      const kept = ordinary.filter((t) => byTrace.has(t[0].traceId)).length / ordinary.length;
      assert.ok(kept > 0.35 && kept < 0.65, `kept ${kept} of ordinary traces`);
    });

    it("span metrics summed over the replicas equal the spans sent, one series set per replica", async () => {
      const expr = `sum by (firefly_replica) (traces_span_metrics_calls_total{service_name="${service}"})`;
      let samples: { metric: Record<string, string>; value: number }[] = [];
      const deadline = Date.now() + 90_000;
      for (;;) {
        samples = (await promQuery(gw.prometheus.url, expr)).map((s) => ({
          metric: s.metric,
          value: Number(s.value),
        }));
        const total = samples.reduce((n, s) => n + s.value, 0);
        if (total === acked || Date.now() > deadline) break;
        await sleep(2000);
      }
      assert.equal(
        samples.reduce((n, s) => n + s.value, 0),
        acked,
        JSON.stringify(samples),
      );
      assert.deepEqual(samples.map((s) => s.metric.firefly_replica).sort(), [
        "collector-0",
        "collector-1",
        "collector-2",
      ]);
    });
  });

  for (const samplingPercent of [100, 50])
    describe(`SIGKILL one replica mid-load, then restart it with its queue (sampling ${samplingPercent} %)`, () => {
      let gw: ReplicaGateway;
      const DECISION_WAIT_S = 2;
      const ack = new Map<string, number>();
      let killedAt = 0;
      let restartedAt = 0;

      before(async () => {
        // Every trace force-kept, so a missing span is a lost span, not a sampling decision.
        gw = await startReplicas(3, { samplingPercent, decisionWaitSeconds: DECISION_WAIT_S });
        const service = `replica-kill-${randomBytes(3).toString("hex")}`;
        const t0 = Date.now();
        const load = (async () => {
          while (Date.now() - t0 < 10_000) {
            const parts = spread(makeTraces(60, { keep: true }), 3);
            await Promise.all(
              parts.map(async (p, i) => {
                if (await send(gw, i, service, p)) for (const s of p) ack.set(s.spanId, Date.now());
              }),
            );
            await sleep(100);
          }
        })();
        await sleep(4000);
        gw.kill(1);
        killedAt = Date.now();
        await sleep(2000);
        await gw.restart(1);
        restartedAt = Date.now();
        await load;
        await settle(gw, DECISION_WAIT_S * 1000 + 8000, 8000);
      });
      after(async () => gw?.stop());

      it(
        samplingPercent === 100
          ? "loses no acknowledged span"
          : "loses no acknowledged span except what the killed replica's tail sampling held in memory",
        () => {
          const stored = new Set(gw.replicas.flatMap((r) => [...r.store.spans.keys()]));
          const lost = [...ack].filter(([id]) => !stored.has(id));
          // Tail sampling holds spans routed to a replica for the decision wait before they reach its
          // durable exporter queue; everything acknowledged outside that window must have arrived.
          const window = (DECISION_WAIT_S + 2) * 1000;
          const outside = lost.filter(([, at]) => at < killedAt - window || at > killedAt);
          console.log(
            `      replica kill, sampling ${samplingPercent} %: ${ack.size} spans acknowledged, ${lost.length} lost (all acknowledged in the ${window / 1000} s before the kill: ${outside.length === 0}), killed for ${((restartedAt - killedAt) / 1000).toFixed(1)} s`,
          );
          assert.ok(ack.size > 1000, `load reached ${ack.size} spans`);
          assert.deepEqual(
            outside.map(([id]) => id),
            [],
          );
          // Without sampling nothing holds an acknowledged span outside the on-disk queues.
          if (samplingPercent === 100) assert.equal(lost.length, 0);
          else assert.ok(lost.length < ack.size / 10, `${lost.length} lost`);
        },
      );

      // Without sampling nothing routes: any replica stores what it received.
      if (samplingPercent < 100)
        it("kept every stored trace on exactly one replica through the kill", () => {
          for (const [traceId, o] of owners(gw)) assert.equal(o.stores.size, 1, `trace ${traceId}`);
        });
    });

  describe("a replica removed from the peer list (scale-down from 3 to 2, sampling 50 %)", () => {
    let gw: ReplicaGateway;
    const DECISION_WAIT_S = 2;
    const ack = new Map<string, number>();
    const stops: number[] = [];
    let lostWhileAway: [string, number][] = [];

    before(async () => {
      gw = await startReplicas(3, { samplingPercent: 50, decisionWaitSeconds: DECISION_WAIT_S });
      const service = `replica-remove-${randomBytes(3).toString("hex")}`;
      let active = [0, 1, 2];
      const t0 = Date.now();
      const load = (async () => {
        while (Date.now() - t0 < 12_000) {
          const targets = active;
          const parts = spread(makeTraces(20 * targets.length, { keep: true }), targets.length);
          await Promise.all(
            parts.map(async (p, k) => {
              if (await send(gw, targets[k], service, p)) for (const s of p) ack.set(s.spanId, Date.now());
            }),
          );
          await sleep(100);
        }
      })();
      await sleep(4000);
      // Scale-down: clients stop reaching replica 1, it is stopped (SIGTERM), and the others roll
      // one by one onto the peer list without it (with the dns resolver this happens without restarts).
      active = [0, 2];
      stops.push(Date.now());
      await gw.terminate(1);
      for (const i of [0, 2]) {
        gw.setPeers(i, [0, 2]);
        stops.push(Date.now());
        await gw.terminate(i);
        await gw.restart(i);
      }
      await load;
      await settle(gw, DECISION_WAIT_S * 1000 + 8000, 8000);
      const stored = () => new Set(gw.replicas.flatMap((r) => [...r.store.spans.keys()]));
      const s1 = stored();
      lostWhileAway = [...ack].filter(([id]) => !s1.has(id));
      // The replica's claim survives; the StatefulSet grows back to its ordinal and it drains its queue.
      gw.setPeers(1, [0, 2]);
      await gw.restart(1);
      await settle(gw, 8000, 8000);
    });
    after(async () => gw?.stop());

    it("loses nothing but what a stopping replica's tail sampling held; the removed one's queue drains when it returns", () => {
      const stored = new Set(gw.replicas.flatMap((r) => [...r.store.spans.keys()]));
      const lost = [...ack].filter(([id]) => !stored.has(id));
      const window = (DECISION_WAIT_S + 2) * 1000;
      const outside = lost.filter(([, at]) => !stops.some((stop) => at <= stop && at > stop - window));
      console.log(
        `      peer removed: ${ack.size} spans acknowledged; missing while replica 1 was away: ${lostWhileAway.length}; lost for good after it returned: ${lost.length} (outside the ${window / 1000} s before a stop: ${outside.length})`,
      );
      assert.ok(ack.size > 1000, `load reached ${ack.size} spans`);
      assert.deepEqual(
        outside.map(([id]) => id),
        [],
      );
      assert.ok(lost.length <= lostWhileAway.length);
    });
  });
});
