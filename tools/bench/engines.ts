/**
 * The two Temporal engines side by side from one run: the bare engine and the pipeline on the tuned dev
 * server (SQLite) and on the Temporal server on PostgreSQL, with orders/s, CPU ms per order of every
 * process (the Temporal server and PostgreSQL included) and the load average around each.
 */
import { COST_PROCS, CostRow } from './cost';
import type { ConfigResult } from './types';

/** [dev server id, PostgreSQL id] pairs, in display order. */
const PAIRS = [
  ['bare-tuned', 'bare-postgres'],
  ['pipe-full-d0', 'pipe-full-d0-postgres'],
] as const;

const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : String(x));

export function enginesMarkdown(results: ConfigResult[], costs: CostRow[]): string[] {
  const rows = PAIRS.flatMap((pair) => pair.map((id) => results.find((r) => r.id === id))).filter(
    (r): r is ConfigResult => r !== undefined,
  );
  if (!rows.some((r) => r.temporalSettings === 'postgres')) return [];
  const lines = [
    'Temporal engines side by side (same run): dev server on SQLite (tuned) and the Temporal server on PostgreSQL; CPU ms per completed order by process.',
    '',
    `| configuration | engine | orders/s (steady) | ${COST_PROCS.join(' | ')} | total | load avg start → end |`,
    `| --- | --- | --- | ${COST_PROCS.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const r of rows) {
    const cost = costs.find((c) => c.id === r.id);
    const engine = r.temporalSettings === 'postgres' ? 'PostgreSQL' : 'dev server';
    const steady = r.steadyThroughput === undefined ? '' : ` (${r.steadyThroughput})`;
    const la = r.loadAvg ? `${r.loadAvg.start[0]} → ${r.loadAvg.end[0]}` : '–';
    lines.push(
      `| ${r.id} | ${engine} | **${r.throughput}**${steady} | ${COST_PROCS.map((p) => cell(cost?.cpuMsPerOrder[p])).join(' | ')} | ${cell(cost?.totalCpuMsPerOrder)} | ${la} |`,
    );
  }
  lines.push('');
  return lines;
}
