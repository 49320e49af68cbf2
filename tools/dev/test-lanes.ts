/**
 * Runs the jest suite in lanes side by side: lane i is `jest --shard=i/n --runInBand` (the split is
 * test/lane-sequencer.js's, balanced by recorded suite times), and each lane has servers of its own:
 * lane 1 the default stack, lane k > 1 a Kafka and a Temporal dev server on ports moved by
 * (k - 1) * LANE_PORT_STEP with their own data directory, started by that lane's global setup.
 * Separate stacks keep the lanes apart where the suites share fixed names (the order-placement topic,
 * the `orders` task queue): a bridge or worker of one lane never sees another lane's orders.
 *
 *   npx tsx tools/dev/test-lanes.ts [--lanes 2] [--checks] [--json-dir DIR] [-- jest args...]
 *
 * --checks also runs `npm run check` (type-check, lint, format) beside the lanes: the lanes spend much
 * of their time waiting on servers and timers, and the checks fill that time.
 * Each lane's output is printed line by line with a `[lane k]` prefix (the checks' with `[checks]`);
 * the last line sums the lanes ("N passed, N failed"), and the exit code is non-zero when any lane or
 * the checks failed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Command } from 'commander';
import { PROJECT_ROOT } from '../../common/config';
import { DEFAULT_PORTS } from '../infra/ports';

/** How far each lane's server ports move from the default stack's. */
export const LANE_PORT_STEP = 100;

/** The environment of lane `k` (1-based): lane 1 is the default stack; others move every port and the data dir. */
export function laneEnv(k: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (k === 1) return { ...base };
  const shift = (k - 1) * LANE_PORT_STEP;
  const env: NodeJS.ProcessEnv = {
    ...base,
    ORDERS_DATA_DIR: path.join(PROJECT_ROOT, '.data', `lane-${k}`),
    ORDERS_KAFKA_PORT: String(DEFAULT_PORTS.kafka + shift),
    ORDERS_KAFKA_CONTROLLER_PORT: String(DEFAULT_PORTS.kafkaController + shift),
    ORDERS_KAFKA_SASL_PORT: String(DEFAULT_PORTS.kafka + 2 + shift),
    ORDERS_TEMPORAL_PORT: String(DEFAULT_PORTS.temporal + shift),
    ORDERS_TEMPORAL_UI_PORT: String(DEFAULT_PORTS.temporal + 1000 + shift),
  };
  // The lane's clients follow its ports (KAFKA_BROKERS/TEMPORAL_ADDRESS default to them).
  delete env.KAFKA_BROKERS;
  delete env.TEMPORAL_ADDRESS;
  return env;
}

/** Prints each line of `stream` to `out` with `prefix`, handing it to `onLine` first. */
function relay(
  stream: NodeJS.ReadableStream,
  out: NodeJS.WriteStream,
  prefix: string,
  onLine = (_: string) => {},
): void {
  readline.createInterface({ input: stream }).on('line', (line) => {
    onLine(line);
    out.write(`${prefix} ${line}\n`);
  });
}

/** Runs `npm run check` with its output prefixed; resolves with its exit code. */
function runChecks(): Promise<number> {
  const child = spawn('npm', ['run', '--silent', 'check'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  relay(child.stdout!, process.stdout, '[checks]');
  relay(child.stderr!, process.stderr, '[checks]');
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

interface LaneResult {
  lane: number;
  code: number;
  passed: number;
  failed: number;
  /** The first lines of each failure jest reported, so the runner's last lines name what failed. */
  failures: string[][];
}

/** How many lines of each failure, and how many failures per lane, the closing digest repeats. */
const DIGEST_LINES = 30;
const DIGEST_FAILURES = 5;

/**
 * Collects jest's failure blocks: a block starts at a "  ● suite › test" header (not the
 * "● Console" blocks jest prints for logged output) and keeps its next lines.
 */
export function failureCollector(): { onLine: (line: string) => void; failures: string[][] } {
  const failures: string[][] = [];
  let current: string[] | undefined;
  const onLine = (line: string): void => {
    if (/^\s*● (?!Console\b)/.test(line)) {
      // jest prints each failure twice (under its file, and again in the closing summary): keep one.
      const seen = failures.some((f) => f[0] === line);
      current = !seen && failures.length < DIGEST_FAILURES ? [line] : undefined;
      if (current) failures.push(current);
      return;
    }
    if (/^\s*console\.(log|error|warn|info|debug)$/.test(line) || /^(PASS|FAIL) /.test(line)) current = undefined;
    if (current && current.length < DIGEST_LINES) current.push(line);
  };
  return { onLine, failures };
}

function runLane(k: number, lanes: number, jestArgs: string[], jsonDir?: string): Promise<LaneResult> {
  const args = [
    require.resolve('jest/bin/jest'),
    `--shard=${k}/${lanes}`,
    '--runInBand',
    ...(jsonDir ? ['--json', `--outputFile=${path.join(jsonDir, `lane-${k}.json`)}`] : []),
    ...jestArgs,
  ];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: laneEnv(k),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const counts = { passed: 0, failed: 0 };
  const collector = failureCollector();
  const count = (line: string): void => {
    collector.onLine(line);
    // jest's summary line: "Tests:       2 failed, 1 skipped, 40 passed, 43 total"
    const summary = /^Tests:\s+(.*)$/.exec(line);
    if (!summary) return;
    counts.failed = Number(/(\d+) failed/.exec(summary[1])?.[1] ?? 0);
    counts.passed = Number(/(\d+) passed/.exec(summary[1])?.[1] ?? 0);
  };
  relay(child.stdout!, process.stdout, `[lane ${k}]`, count);
  relay(child.stderr!, process.stderr, `[lane ${k}]`, count);
  // Ctrl-C reaches the lanes through the process group; a SIGTERM to this runner is passed on.
  const forward = (): void => void child.kill('SIGTERM');
  process.once('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      process.off('SIGTERM', forward);
      resolve({ lane: k, code: code ?? (signal ? 1 : 0), ...counts, failures: collector.failures });
    });
  });
}

async function main(): Promise<void> {
  const program = new Command()
    .name('test-lanes')
    .option('--lanes <n>', 'jest processes side by side, each with its own servers', (v) => Number(v), 2)
    .option('--checks', 'run `npm run check` (type-check, lint, format) beside the lanes')
    .option('--json-dir <dir>', "write each lane's jest --json report there (lane-<k>.json)")
    .argument('[jest args...]', 'passed to every lane (after --)')
    .parse();
  const { lanes, jsonDir, checks } = program.opts<{ lanes: number; jsonDir?: string; checks?: boolean }>();
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > 4) {
    console.error('--lanes must be a whole number from 1 to 4');
    process.exit(2);
  }
  if (jsonDir) fs.mkdirSync(jsonDir, { recursive: true });
  const started = Date.now();
  const [checkCode, ...results] = await Promise.all([
    checks ? runChecks() : Promise.resolve(0),
    ...Array.from({ length: lanes }, (_, i) => runLane(i + 1, lanes, program.args, jsonDir)),
  ]);
  if (checks)
    console.log(`checks (type-check, lint, format): ${checkCode === 0 ? 'passed' : `failed (exit code ${checkCode})`}`);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  for (const r of results)
    for (const block of r.failures) {
      console.log(`--- lane ${r.lane} failure ---`);
      for (const line of block) console.log(line);
    }
  for (const r of results)
    console.log(`lane ${r.lane}: ${r.passed} passed, ${r.failed} failed (jest exit code ${r.code})`);
  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  console.log(`all ${lanes} lanes in ${secs} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = checkCode !== 0 || results.some((r) => r.code !== 0) || failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
