/**
 * The `amend` configurations in the bench's Markdown: the amend round trip, and what an order amended
 * once costs beside its twin of the same run that was not amended (CPU ms per process, history events
 * by type, end-to-end latency, throughput), as differences.
 */
import type { CostRow } from './cost';
import { COST_PROCS } from './cost';
import type { Percentiles } from './stats';
import { round } from './stats';
import type { ConfigResult } from './types';

export interface AmendPair {
  twin: ConfigResult;
  amended: ConfigResult;
}

/** Each amended configuration with its twin not amended at the same step delay (both of this run). */
export function amendPairs(results: ConfigResult[]): AmendPair[] {
  return results.flatMap((amended) => {
    if (amended.amend?.mode !== 'once') return [];
    const twin = results.find((r) => r.amend?.mode === 'none' && r.stepDelayMs === amended.stepDelayMs);
    return twin ? [{ twin, amended }] : [];
  });
}

/** amended − twin for each history event type either has (TOTAL included); types with no difference left out. */
export function extraHistoryEvents(pair: AmendPair): Record<string, number> {
  const a = pair.amended.historyPerOrder ?? {};
  const t = pair.twin.historyPerOrder ?? {};
  const out: Record<string, number> = {};
  for (const type of [...new Set([...Object.keys(a), ...Object.keys(t)])].sort()) {
    const d = round((a[type] ?? 0) - (t[type] ?? 0), 1);
    if (d !== 0) out[type] = d;
  }
  return out;
}

const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : String(x));
const signed = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : `${x > 0 ? '+' : ''}${round(x, 1)}`;
const diff = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined ? null : a - b;
const pct = (p: Percentiles | null | undefined, keys: Array<keyof Percentiles>): string =>
  p ? keys.map((k) => (p[k] >= 100 ? Math.round(p[k]) : p[k])).join(' / ') : '–';
const counts = (r: Record<string, number>): string =>
  Object.keys(r).length
    ? Object.entries(r)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '0';

export function amendMarkdown(results: ConfigResult[], costs: CostRow[]): string[] {
  const followed = results.filter((r) => r.amend);
  if (!followed.length) return [];
  const lines = [
    'Amending an order: each order followed on its own connection to its VALIDATED push; in `amend-once` it is then amended once (amendOrder, a new quantity and price) and followed to its orderAmended answer and AMENDED push. Round trip: amendOrder first sent → orderAmended (resends inside it).',
    '',
    '| configuration | followed | VALIDATED seen | amendOrder sent | orderAmended | AMENDED pushes | resends | refused | not done | amendOrder → orderAmended p50 / p95 / p99 / max (ms) | amendOrder → AMENDED push p50 / p95 / p99 (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of followed) {
    const a = r.amend;
    if (!a) continue;
    lines.push(
      `| ${r.id} | ${a.followed} | ${a.validated} | ${a.sent} | ${a.amended} | ${a.amendedPushes} | ${counts(a.resends)} | ${counts(a.refused)} | ${a.unfinished} | ${pct(a.roundTripMs, ['p50', 'p95', 'p99', 'max'])} | ${pct(a.toPushMs, ['p50', 'p95', 'p99'])} |`,
    );
  }
  lines.push('');
  for (const pair of amendPairs(results)) {
    const { twin, amended } = pair;
    const ct = costs.find((c) => c.id === twin.id);
    const ca = costs.find((c) => c.id === amended.id);
    lines.push(
      `An order amended once beside one not amended (same run, delay ${amended.stepDelayMs} ms): CPU ms per completed order, history events per order, end-to-end placeOrder → workflow closed.`,
    );
    lines.push('');
    lines.push(
      `| configuration | done | throughput (steady) orders/s | end-to-end p50 / p95 / p99 (ms) | ${COST_PROCS.join(' | ')} | total | history events |`,
    );
    lines.push(`| --- | --- | --- | --- | ${COST_PROCS.map(() => '---').join(' | ')} | --- | --- |`);
    for (const [r, c] of [
      [twin, ct],
      [amended, ca],
    ] as const) {
      lines.push(
        `| ${r.id} | ${r.completed} | ${r.throughput} (${cell(r.steadyThroughput)}) | ${pct(r.e2eMs, ['p50', 'p95', 'p99'])} | ${COST_PROCS.map((p) => cell(c?.cpuMsPerOrder[p])).join(' | ')} | **${cell(c?.totalCpuMsPerOrder)}** | ${cell(r.historyPerOrder?.TOTAL)} |`,
      );
    }
    const steadyRatio =
      amended.steadyThroughput !== undefined && twin.steadyThroughput
        ? round(amended.steadyThroughput / twin.steadyThroughput, 3)
        : null;
    const e2e = (['p50', 'p95', 'p99'] as const)
      .map((k) => signed(diff(amended.e2eMs?.[k], twin.e2eMs?.[k])))
      .join(' / ');
    lines.push(
      `| amended − not amended | | ×${cell(steadyRatio)} (steady) | ${e2e} | ${COST_PROCS.map((p) => signed(diff(ca?.cpuMsPerOrder[p], ct?.cpuMsPerOrder[p]))).join(' | ')} | **${signed(diff(ca?.totalCpuMsPerOrder, ct?.totalCpuMsPerOrder))}** | ${signed(diff(amended.historyPerOrder?.TOTAL, twin.historyPerOrder?.TOTAL))} |`,
    );
    lines.push('');
    const extra = extraHistoryEvents(pair);
    lines.push(
      `History events an amendment adds per order (${amended.id} − ${twin.id}, by type): ${
        Object.keys(extra).length ? counts(extra) : 'none'
      }.`,
    );
    lines.push('');
  }
  return lines;
}
