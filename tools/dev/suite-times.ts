/**
 * Per-suite wall times of a jest run, as the Markdown table docs/TESTING.md keeps:
 *
 *   npx tsx tools/dev/test-lanes.ts --json-dir /tmp/lanes      (or: npx jest --json --outputFile=...)
 *   npx tsx tools/dev/suite-times.ts /tmp/lanes/lane-*.json [--top N] [--write-seconds]
 *
 * Suites are sorted by time, longest first; the last rows give the sum of suite times and each
 * report's wall time. --write-seconds also rewrites test/suite-seconds.json, the table the lanes are
 * split by (test/lane-sequencer.js).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { PROJECT_ROOT } from '../../common/config';

interface JestJson {
  startTime: number;
  testResults: { name: string; startTime: number; endTime: number; status: string; assertionResults: unknown[] }[];
}

export interface SuiteTime {
  suite: string;
  seconds: number;
  tests: number;
  status: string;
}

export function suiteTimes(report: JestJson, root: string): SuiteTime[] {
  return report.testResults
    .map((r) => ({
      suite: path.relative(root, r.name),
      seconds: (r.endTime - r.startTime) / 1000,
      tests: r.assertionResults.length,
      status: r.status,
    }))
    .sort((a, b) => b.seconds - a.seconds);
}

/** A report's wall time: from its start to the end of its last suite (global setup included). */
const wallOf = (report: JestJson): number =>
  (Math.max(...report.testResults.map((r) => r.endTime)) - report.startTime) / 1000;

export function suiteTable(reports: JestJson[], root: string, top = Infinity): string {
  const rows = reports.flatMap((r) => suiteTimes(r, root)).sort((a, b) => b.seconds - a.seconds);
  const sum = rows.reduce((s, r) => s + r.seconds, 0);
  return [
    '| suite | tests | seconds | status |',
    '| --- | ---: | ---: | --- |',
    ...rows.slice(0, top).map((r) => `| \`${r.suite}\` | ${r.tests} | ${r.seconds.toFixed(1)} | ${r.status} |`),
    `| sum of ${rows.length} suites | ${rows.reduce((s, r) => s + r.tests, 0)} | ${sum.toFixed(1)} | |`,
    ...reports.map((r, i) => `| wall time of report ${i + 1} (global setup included) | | ${wallOf(r).toFixed(1)} | |`),
  ].join('\n');
}

/** The seconds table the lane split reads: suite path -> seconds, longest first. */
export function secondsTable(reports: JestJson[], root: string): Record<string, number> {
  const rows = reports.flatMap((r) => suiteTimes(r, root)).sort((a, b) => b.seconds - a.seconds);
  return Object.fromEntries(rows.map((r) => [r.suite, Math.round(r.seconds * 10) / 10]));
}

if (require.main === module) {
  const program = new Command()
    .argument('<reports...>', "jest's --json output files")
    .option('--top <n>', 'only the N longest suites', (v) => Number(v))
    .option('--write-seconds', 'also rewrite test/suite-seconds.json (the lane split) from these reports')
    .parse();
  const reports = program.args.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as JestJson);
  const opts = program.opts<{ top?: number; writeSeconds?: boolean }>();
  console.log(suiteTable(reports, PROJECT_ROOT, opts.top));
  if (opts.writeSeconds)
    fs.writeFileSync(
      path.join(PROJECT_ROOT, 'test', 'suite-seconds.json'),
      `${JSON.stringify(secondsTable(reports, PROJECT_ROOT), null, 2)}\n`,
    );
}
