/** The crash matrix's report: one table row per scenario. */
import { passed, ScenarioResult } from './audit';
import { secs } from './scenario-kit';

/** What the `recover` column means (printed under the table). */
export const RECOVER_FOOTNOTE =
  'recover: time to recover, from the kill (the struck process or server gone) to the earliest Temporal visibility CloseTime ' +
  'among runs that had to pass through the struck part after the kill: for gateway and kafka, orders first sent after the kill; ' +
  'for the bridge scenarios, runs started after the kill (with two bridges the survivor counts); for the worker scenarios and temporal, runs still open at the kill. ' +
  "It includes the restart delay the harness waits, process start-up and the client's resend backoff.";

export function formatTable(results: ScenarioResult[]): string {
  const cols = [
    'scenario',
    'placed',
    'acknowledged',
    'completed',
    'workflows',
    'charges',
    'refunds',
    'lost',
    'duplicated',
    'recover',
    'time',
    'result',
  ] as const;
  const rows = results.map((r) => [
    r.scenario,
    String(r.placed),
    String(r.acknowledged),
    String(r.completed),
    String(r.workflows),
    String(r.charges),
    `${r.refunds}/${r.expectedRefunds}`,
    String(r.lost),
    String(r.duplicated),
    r.recoverMs === undefined ? '-' : secs(r.recoverMs),
    secs(r.wallMs),
    passed(r) ? 'ok' : 'FAIL',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cols), sep, ...rows.map(line), '', RECOVER_FOOTNOTE].join('\n');
}
