/**
 * Per-suite wall times of a jest run, as the Markdown table docs/TESTING.md keeps:
 *
 *   npx jest --json --outputFile=/tmp/jest.json ...
 *   npx tsx tools/dev/suite-times.ts /tmp/jest.json [--top N]
 *
 * Suites are sorted by time, longest first; the last rows give the sum of suite times and the run's
 * wall time (with parallel workers the sum exceeds the wall time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';

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

export function suiteTable(report: JestJson, root: string, top = Infinity): string {
  const rows = suiteTimes(report, root);
  const wall = (Math.max(...report.testResults.map((r) => r.endTime)) - report.startTime) / 1000;
  const sum = rows.reduce((s, r) => s + r.seconds, 0);
  return [
    '| suite | tests | seconds | status |',
    '| --- | ---: | ---: | --- |',
    ...rows.slice(0, top).map((r) => `| \`${r.suite}\` | ${r.tests} | ${r.seconds.toFixed(1)} | ${r.status} |`),
    `| sum of ${rows.length} suites | ${rows.reduce((s, r) => s + r.tests, 0)} | ${sum.toFixed(1)} | |`,
    `| jest wall time (global setup included) | | ${wall.toFixed(1)} | |`,
  ].join('\n');
}

if (require.main === module) {
  const program = new Command()
    .argument('<report>', "jest's --json output file")
    .option('--top <n>', 'only the N longest suites', (v) => Number(v))
    .parse();
  const report = JSON.parse(fs.readFileSync(program.args[0], 'utf8')) as JestJson;
  console.log(suiteTable(report, process.cwd(), program.opts<{ top?: number }>().top));
}
