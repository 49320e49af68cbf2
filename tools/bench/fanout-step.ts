/**
 * The bench's `fanout` configurations: the status fan-out over 4 gateways (tools/bench/fanout-run.ts)
 * in the key-filter and partition-routed modes at each --fanout-rates rate (clients spread over the
 * gateways), parse-all at the highest rate for reference, and both filters with no client following
 * anything, i.e. what a gateway pays per 1 000 events it has no subscriber for.
 */
import * as path from 'node:path';
import type { Progress } from './progress';
import { FanoutMode, FanoutResult, FanoutSpec, runFanout } from './fanout-run';

export interface FanoutPlan {
  gateways: number;
  rates: number[];
  seconds: number;
  orders: number;
}

export function fanoutSpecs(p: FanoutPlan): FanoutSpec[] {
  const top = Math.max(...p.rates);
  const spec = (mode: FanoutMode, rate: number, followed: FanoutSpec['followed']): FanoutSpec => ({
    mode,
    gateways: p.gateways,
    rate,
    seconds: p.seconds,
    orders: p.orders,
    followed,
  });
  return [
    spec('parse-all', top, 'spread'),
    ...p.rates.flatMap((rate) => [spec('key-filter', rate, 'spread'), spec('partition-routed', rate, 'spread')]),
    spec('key-filter', top, 'none'),
    spec('partition-routed', top, 'none'),
  ];
}

/** Runs the fan-out measurements in turn; stops early (with a note) when the run's budget ends. */
export async function runFanoutSteps(
  p: FanoutPlan,
  progress: Progress,
  budgetEnd: number,
  notes: string[],
): Promise<FanoutResult[]> {
  const results: FanoutResult[] = [];
  for (const spec of fanoutSpecs(p)) {
    const label = `fanout ${spec.mode} ${spec.rate}/s, followed ${spec.followed}`;
    if (budgetEnd - Date.now() < (spec.seconds + 20) * 1000) {
      notes.push(`${label} skipped: the run's time budget was used up`);
      continue;
    }
    progress.log(`${label}: ${spec.gateways} gateway feeds`);
    // One retry: a fresh topic on a busy broker now and then answers its first metadata request with
    // "does not host this topic-partition".
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        const r = await runFanout(spec, path.join(__dirname, 'status-fanout.ts'));
        progress.log(
          `${label}: ${r.cpuMsPer1000Events} ms CPU per 1 000 events per gateway, ${r.eventsPerSec} events/s`,
        );
        results.push(r);
        break;
      } catch (err) {
        const first = (err as Error).message.split('\n')[0];
        if (attempt === 2) notes.push(`${label} failed twice: ${first}`);
        else progress.log(`${label} failed (${first}); once more`);
      }
    }
  }
  return results;
}

export function fanoutMarkdown(results: FanoutResult[] | undefined): string[] {
  if (!results?.length) return [];
  const lines = [
    `Status fan-out over ${results[0].gateways} gateways (each gateway's StatusFeed + Subscriptions in its own process; "spread": every order followed at one gateway, "none": no client follows anything). ` +
      'CPU ms per 1 000 events: per gateway, per 1 000 events published in all, the idle feed subtracted; "one core follows": published events/s one gateway core keeps up with at that cost.',
    '',
    '| mode | followed | events/s | CPU % per gateway | idle CPU % | CPU ms / 1 000 events | events/s one core follows | read / delivered | load avg start → end |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results)
    lines.push(
      `| ${r.mode} | ${r.followed} | ${r.eventsPerSec} | ${r.cpuPctPerGateway.join(' / ')} | ${r.idleCpuPct} | **${r.cpuMsPer1000Events}** | ${r.eventsPerSecPerCore ?? '– (at idle)'} | ${r.read} / ${r.delivered} | ${r.loadAvg.start} → ${r.loadAvg.end} |`,
    );
  lines.push('');
  return lines;
}
