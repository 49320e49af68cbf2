/** The ratios between configurations of one run, and the performance targets (docs/BENCHMARKS.md) checked against them. */
import { ids, PlanOptions } from './plan';
import { round } from './stats';
import type { HistoryResult } from './history-run';
import type { ConfigResult, IdleResult } from './types';

export interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
  value: number | null;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

type Opts = Pick<PlanOptions, 'rate' | 'slowDelay'>;

const byId = (results: ConfigResult[], id: string): ConfigResult | undefined => results.find((r) => r.id === id);
/** At a step delay > 0 a run takes seconds: the steady rate leaves out the ramp-up and the tail. */
const rateOf = (r: ConfigResult | undefined): number | undefined =>
  r ? ((r.stepDelayMs ?? 0) > 0 ? (r.steadyThroughput ?? r.throughput) : r.throughput) : undefined;

function ratio(results: ConfigResult[], name: string, numerator: string, denominator: string): Ratio {
  const a = rateOf(byId(results, numerator));
  const b = rateOf(byId(results, denominator));
  return { name, numerator, denominator, value: a !== undefined && b ? round(a / b, 3) : null };
}

export function computeRatios(results: ConfigResult[], o: Opts): Ratio[] {
  const id = ids(o);
  const out = [
    ratio(results, 'pipeline full speed / bare-engine ceiling (tuned), delay 0', id.pipeFull, id.bareTuned),
    ratio(results, 'pipeline full speed / raw Temporal processOrder (tuned), delay 0', id.pipeFull, id.temporalD0),
    ratio(results, `pipeline ${o.rate}/s offered / bare-engine ceiling (tuned), delay 0`, id.pipeRated, id.bareTuned),
    ratio(results, 'raw Temporal processOrder / bare-engine ceiling (tuned), delay 0', id.temporalD0, id.bareTuned),
    ratio(results, 'bare-engine ceiling: tuned / stock dev server', id.bareTuned, id.bareStock),
    ratio(results, 'raw Temporal processOrder: tuned / stock dev server', id.temporalD0, id.temporalD0Stock),
    ratio(results, 'bare-engine ceiling: Temporal on PostgreSQL / dev server (tuned)', id.barePostgres, id.bareTuned),
    ratio(results, 'pipeline full speed: Temporal on PostgreSQL / dev server (tuned)', id.pipePostgres, id.pipeFull),
    ratio(results, 'pipeline / bare-engine ceiling, both on PostgreSQL', id.pipePostgres, id.barePostgres),
  ];
  const gw = byId(results, id.pipeFull);
  const kafka = byId(results, id.kafka1);
  out.push({
    name: 'gateway accepted/s (full speed) / raw Kafka 1 msg/send',
    numerator: `${id.pipeFull} (accepted/s)`,
    denominator: id.kafka1,
    value: gw?.acceptedPerSecond && kafka?.throughput ? round(gw.acceptedPerSecond / kafka.throughput, 3) : null,
  });
  out.push(ratio(results, 'raw Kafka 1 msg/send / 100 msgs/send', id.kafka1, id.kafka100));
  if (o.slowDelay > 0) {
    out.push(
      ratio(
        results,
        `pipeline / raw Temporal processOrder, delay ${o.slowDelay} ms (steady)`,
        id.pipeSlow,
        id.temporalSlow,
      ),
    );
  }
  out.push(ratio(results, `pipeline / seed-style consumer, delay ${o.slowDelay} ms`, id.pipeSlow, id.seedSlow));
  out.push(
    ratio(results, 'customer B beside the look-up flood / alone (throughput)', id.lookupsFlood, id.lookupsQuiet),
  );
  out.push(
    ratio(
      results,
      'customer B beside the flood with the budget opened wide / alone (throughput)',
      id.lookupsFloodOpen,
      id.lookupsQuiet,
    ),
  );
  out.push(
    ratio(results, 'customer B alone, again / alone (throughput: the drift)', id.lookupsQuietAfter, id.lookupsQuiet),
  );
  out.push(
    ratio(
      results,
      `every order amended once / not amended, delay ${o.slowDelay} ms (steady)`,
      id.amendOnce,
      id.amendNone,
    ),
  );
  return out;
}

/**
 * Bounded look-ups (docs/SECURITY.md): customer B's throughput and accept latency (p50, p95) beside
 * the look-up flood against B alone (the mean of the runs before and after it, when both ran).
 */
function lookupsTarget(results: ConfigResult[], o: Opts): Target | undefined {
  const id = ids(o);
  const alone = [byId(results, id.lookupsQuiet), byId(results, id.lookupsQuietAfter)].filter(
    (r): r is ConfigResult => r !== undefined && !!r.ackMs,
  );
  const flood = byId(results, id.lookupsFlood);
  if (!alone.length || !flood?.ackMs) return undefined;
  const mean = (of: (r: ConfigResult) => number): number => alone.reduce((n, r) => n + of(r), 0) / alone.length;
  const base = {
    throughput: mean((r) => r.throughput),
    p50: mean((r) => r.ackMs?.p50 ?? 0),
    p95: mean((r) => r.ackMs?.p95 ?? 0),
  };
  const throughput = flood.throughput / base.throughput;
  const p50 = flood.ackMs.p50 / base.p50;
  const p95 = flood.ackMs.p95 / base.p95;
  const beside = (flood.evidence?.beside ?? {}) as { sent?: number; answers?: Record<string, number> };
  return {
    name: "customer B's orders beside customer A's look-up flood vs alone (throughput, accept p50 and p95)",
    goal: 'each within 10 %',
    measured:
      `${flood.throughput} vs ${round(base.throughput, 1)} orders/s (${round(throughput, 3)}x); ` +
      `accept p50 ${flood.ackMs.p50} vs ${round(base.p50, 2)} ms (${round(p50, 3)}x), p95 ${flood.ackMs.p95} vs ${round(base.p95, 2)} ms (${round(p95, 3)}x); ` +
      `flood: ${beside.sent ?? '?'} look-ups, answers ${JSON.stringify(beside.answers ?? {})}`,
    met: throughput >= 0.9 && p50 <= 1.1 && p95 <= 1.1,
  };
}

export function computeTargets(results: ConfigResult[], o: Opts, idle?: IdleResult, history?: HistoryResult): Target[] {
  const id = ids(o);
  const targets: Target[] = [];
  const pipe = byId(results, id.pipeFull);
  const bare = byId(results, id.bareTuned);
  if (pipe && bare) {
    const r = bare.throughput > 0 ? pipe.throughput / bare.throughput : 0;
    targets.push({
      name: 'pipeline at full speed, delay 0, vs the bare-engine ceiling (tuned dev server)',
      goal: '>= 0.7x',
      measured: `${pipe.throughput} / ${bare.throughput} orders/s = ${round(r, 2)}x`,
      met: r >= 0.7,
    });
  }
  const rated = byId(results, id.pipeRated);
  if (rated?.ackMs) {
    const loop = rated.gatewayLoopDelayMs;
    targets.push({
      name: `gateway accept latency p99 at ${o.rate} orders/s offered (${rated.id})`,
      goal: '<= 25 ms',
      measured:
        `p50 ${rated.ackMs.p50} / p95 ${rated.ackMs.p95} / p99 ${rated.ackMs.p99} ms (max ${rated.ackMs.max}); offered ${rated.offeredPerSecond}/s` +
        (loop ? `; gateway event-loop delay p50 ${loop.p50} / p99 ${loop.p99} / max ${loop.max} ms` : ''),
      met: rated.ackMs.p99 <= 25,
    });
  }
  const slow = rateOf(byId(results, id.pipeSlow));
  const seed = byId(results, id.seedSlow);
  if (slow !== undefined && seed) {
    const r = seed.throughput > 0 ? slow / seed.throughput : Infinity;
    targets.push({
      name: `pipeline at the seed's ${o.slowDelay} ms step delays vs the seed-style consumer`,
      goal: '>= 100x',
      measured: `${slow} (steady) / ${seed.throughput} orders/s = ${round(r, 1)}x`,
      met: r >= 100,
    });
  }
  const lookups = lookupsTarget(results, o);
  if (lookups) targets.push(lookups);
  if (idle) {
    targets.push({
      name: `gateway RSS with ${idle.connections} idle connections`,
      goal: '< 300 MB',
      measured: `peak ${idle.peakRssMb} MB (${idle.opened} open, baseline ${idle.baselineRssMb} MB, ${idle.perConnectionKb} KB/conn)`,
      met: idle.opened === idle.connections && idle.peakRssMb < 300,
    });
  }
  const overGateway = history?.latency.filter((l) => l.path === 'gateway over WebSocket') ?? [];
  if (history && overGateway.length) {
    const p99s = overGateway.map((l) => l.ms?.p99 ?? Infinity);
    const failed = overGateway.reduce((n, l) => n + Object.values(l.errors).reduce((a, b) => a + b, 0), 0);
    targets.push({
      name: `listOrders p99 through the gateway, a customer with ${history.rows.customer} orders (first and deep pages)`,
      goal: '<= 50 ms',
      measured:
        overGateway.map((l) => `${l.page} p50 ${l.ms?.p50 ?? '–'} / p99 ${l.ms?.p99 ?? '–'} ms`).join('; ') +
        (failed ? `; ${failed} answers not a full page` : ''),
      met: failed === 0 && Math.max(...p99s) <= 50,
    });
  }
  const listed = history?.listed;
  if (listed) {
    const failed = Object.values(listed.errors).reduce((a, b) => a + b, 0);
    const unlisted = listed.accepted - listed.listed;
    const ms = listed.ms;
    targets.push({
      name:
        `accepted → listed p99 with no bridge or worker running (${listed.plan.orders} orders at ${listed.plan.rate}/s, ` +
        `JWT, listed on a ${listed.listedOn})`,
      goal: '<= 1 s',
      measured:
        `p50 ${ms?.p50 ?? '–'} / p95 ${ms?.p95 ?? '–'} / p99 ${ms?.p99 ?? '–'} / max ${ms?.max ?? '–'} ms; ` +
        `${listed.listed} of ${listed.accepted} accepted listed, ${listed.plan.orders} sent` +
        (failed ? `; errors ${JSON.stringify(listed.errors)}` : '') +
        (listed.bridgeMembers ? `; a bridge was running (${listed.bridgeMembers} member(s) in order-bridge)` : ''),
      // With a bridge running the figure says nothing about a list that does not depend on it.
      met:
        listed.bridgeMembers > 0
          ? null
          : listed.accepted === listed.plan.orders && unlisted === 0 && failed === 0 && (ms?.p99 ?? Infinity) <= 1000,
    });
  }
  return targets;
}
