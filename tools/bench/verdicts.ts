/** The ratios between configurations of one run, and the performance targets (docs/BENCHMARKS.md) checked against them. */
import { ids, PlanOptions } from './plan';
import { round } from './stats';
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
  return out;
}

export function computeTargets(results: ConfigResult[], o: Opts, idle?: IdleResult): Target[] {
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
  if (idle) {
    targets.push({
      name: `gateway RSS with ${idle.connections} idle connections`,
      goal: '< 300 MB',
      measured: `peak ${idle.peakRssMb} MB (${idle.opened} open, baseline ${idle.baselineRssMb} MB, ${idle.perConnectionKb} KB/conn)`,
      met: idle.opened === idle.connections && idle.peakRssMb < 300,
    });
  }
  return targets;
}
