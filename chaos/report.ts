/** The crash matrix's report: one table row per scenario. */
import { passed, ScenarioResult } from './audit';

export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function formatTable(results: ScenarioResult[]): string {
  const cols = ['scenario', 'placed', 'acknowledged', 'completed', 'workflows', 'charges', 'refunds', 'lost', 'duplicated', 'time', 'result'] as const;
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
    secs(r.wallMs),
    passed(r) ? 'ok' : 'FAIL',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cols), sep, ...rows.map(line)].join('\n');
}
