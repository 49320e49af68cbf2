/**
 * The per-order cost table: CPU milliseconds each process spent per completed order in each
 * Temporal-backed configuration (sampled CPU time over the configuration's window / completed
 * orders), and the history events per order by event type and its size in bytes (a few completed runs fetched).
 */
import { round } from './stats';
import { HISTORY_BYTES } from './temporal-results';
import type { ConfigResult, Kind } from './types';

/** `postgres`: the Temporal server's database (its whole process tree), in the PostgreSQL configurations. */
export const COST_PROCS = ['gateway', 'bridge', 'worker', 'kafka', 'temporal', 'postgres'] as const;

export interface CostRow {
  id: string;
  label: string;
  completed: number;
  /** CPU ms per completed order, by process (null: not part of this configuration or not sampled). */
  cpuMsPerOrder: Record<string, number | null>;
  totalCpuMsPerOrder: number;
  historyEventsPerOrder?: number;
  /** Bytes of one order's history as Temporal stores it (mean over a few completed runs). */
  historyBytesPerOrder?: number;
}

/** The processes each kind of configuration puts to work (the others idle: their CPU is not the order's). */
const INVOLVED: Partial<Record<Kind, readonly string[]>> = {
  pipeline: COST_PROCS,
  'raw-temporal': ['worker', 'kafka', 'temporal', 'postgres'],
  'bare-engine': ['worker', 'temporal', 'postgres'],
  seed: ['worker', 'kafka'],
};

const costed = (r: ConfigResult): boolean => INVOLVED[r.kind] !== undefined && r.completed > 0 && !!r.usage;

export function costTable(results: ConfigResult[]): CostRow[] {
  return results.filter(costed).map((r) => {
    const cpuMsPerOrder: Record<string, number | null> = {};
    let total = 0;
    for (const p of COST_PROCS) {
      if (!INVOLVED[r.kind]?.includes(p)) {
        cpuMsPerOrder[p] = null;
        continue;
      }
      const u = r.usage?.procs[p];
      // The seed-style consumer runs inside the bench process: its CPU is the "worker" column.
      const seconds =
        u?.cpuSeconds ?? (p === 'worker' && r.kind === 'seed' ? r.usage?.procs.bench?.cpuSeconds : undefined);
      cpuMsPerOrder[p] = seconds === undefined ? null : round((seconds * 1000) / r.completed, 1);
      total += cpuMsPerOrder[p] ?? 0;
    }
    return {
      id: r.id,
      label: r.label,
      completed: r.completed,
      cpuMsPerOrder,
      totalCpuMsPerOrder: round(total, 1),
      // A --baseline file of the older format keeps one run's history in evidence.historyOfOneRun.
      historyEventsPerOrder:
        r.historyPerOrder?.TOTAL ?? (r.evidence?.historyOfOneRun as Record<string, number> | undefined)?.TOTAL,
      historyBytesPerOrder: r.historyPerOrder?.[HISTORY_BYTES],
    };
  });
}

const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : String(x));

export function costMarkdown(rows: CostRow[]): string[] {
  if (!rows.length) return [];
  const lines = [
    'Per-order cost: CPU ms per completed order (process CPU over the configuration / orders completed; only the processes the configuration uses; the seed-style consumer runs in the bench process, shown as worker).',
    '',
    `| configuration | done | ${COST_PROCS.join(' | ')} | total | history events | history bytes |`,
    `| --- | --- | ${COST_PROCS.map(() => '---').join(' | ')} | --- | --- | --- |`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.id} | ${r.completed} | ${COST_PROCS.map((p) => cell(r.cpuMsPerOrder[p])).join(' | ')} | **${r.totalCpuMsPerOrder}** | ${cell(r.historyEventsPerOrder)} | ${cell(r.historyBytesPerOrder)} |`,
    );
  }
  lines.push('');
  return lines;
}

/**
 * History events per order by type: one column per distinct kind of run (first of each kind, delay
 * and amend mode: an amended order's history differs from its twin's at the same delay).
 */
export function historyMarkdown(results: ConfigResult[]): string[] {
  const seen = new Set<string>();
  const cols = results.filter((r) => {
    if (!r.historyPerOrder) return false;
    const key = `${r.kind}/${r.stepDelayMs ?? 0}/${r.amend?.mode ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!cols.length) return [];
  const types = [...new Set(cols.flatMap((r) => Object.keys(r.historyPerOrder ?? {})))]
    .filter((t) => t !== 'TOTAL' && t !== HISTORY_BYTES)
    .sort();
  const lines = [
    'History events per order by type (mean over a few completed runs of each configuration):',
    '',
    `| event type | ${cols.map((r) => r.id).join(' | ')} |`,
    `| --- | ${cols.map(() => '---').join(' | ')} |`,
  ];
  for (const t of types) lines.push(`| ${t} | ${cols.map((r) => r.historyPerOrder?.[t] ?? 0).join(' | ')} |`);
  lines.push(`| **total** | ${cols.map((r) => `**${r.historyPerOrder?.TOTAL ?? 0}**`).join(' | ')} |`);
  lines.push('');
  return lines;
}

/** Before/after per-order cost for the configurations both runs have (matched by id). */
export function costComparisonMarkdown(
  baseline: { file: string; commit: string; startedAt: string; costs: CostRow[] },
  after: CostRow[],
): string[] {
  const pairs = after.flatMap((a) => {
    const b = baseline.costs.find((x) => x.id === a.id);
    return b ? [[b, a] as const] : [];
  });
  if (!pairs.length) return [`No configuration of the baseline ${baseline.file} matches this run's ids.`, ''];
  const arrow = (x: number | null | undefined, y: number | null | undefined): string =>
    x == null && y == null ? '–' : `${cell(x)} → ${cell(y)}`;
  const lines = [
    `Per-order cost before → after (before: ${baseline.file}, git ${baseline.commit}, ${baseline.startedAt}; CPU ms per completed order):`,
    '',
    `| configuration | ${COST_PROCS.join(' | ')} | total | history events |`,
    `| --- | ${COST_PROCS.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const [b, a] of pairs) {
    const procs = COST_PROCS.map((p) => arrow(b.cpuMsPerOrder[p], a.cpuMsPerOrder[p]));
    lines.push(
      `| ${a.id} | ${procs.join(' | ')} | **${arrow(b.totalCpuMsPerOrder, a.totalCpuMsPerOrder)}** | ${arrow(b.historyEventsPerOrder, a.historyEventsPerOrder)} |`,
    );
  }
  lines.push('');
  return lines;
}
