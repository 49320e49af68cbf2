/**
 * Worker start time, process start -> "polling task queue" (the line the worker prints once
 * Worker.create returned, i.e. the workflow bundle is loaded and the worker is about to poll):
 *
 *   npm run build && npx tsx tools/dev/measure-worker-start.ts [--runs 5]
 *
 * Compares the development entry (`node --import tsx worker/main.ts`, which bundles workflows/ with
 * webpack at every start) with the production one (`node dist/worker/main.js`, which loads the
 * prebuilt dist/workflow-bundle.js). Needs a reachable Temporal (e.g. `npm run infra:up`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';

const READY = /polling task queue/;

function startOnce(args: string[]): Promise<number> {
  const ledgerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-start-'));
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SIM_LEDGER_FILE: path.join(ledgerDir, 'ledger.jsonl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let elapsed: number | undefined;
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (elapsed === undefined && READY.test(out)) {
        elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      fs.rmSync(ledgerDir, { recursive: true, force: true });
      if (elapsed === undefined) reject(new Error(`worker exited before polling:\n${out}`));
      else resolve(elapsed);
    });
  });
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const modes: Array<[string, string[]]> = [
    ['tsx + bundle at start (npm run worker)', ['--import', 'tsx', 'worker/main.ts']],
    ['node dist + prebuilt bundle', ['dist/worker/main.js']],
  ];
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js')))
    throw new Error('run `npm run build` first');
  const medians: number[] = [];
  for (const [name, args] of modes) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce(args));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    medians.push(median);
    console.log(
      `${name.padEnd(40)} median ${median.toFixed(0)} ms  (min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}, ${runs} runs)`,
    );
  }
  console.log(`speed-up: ${(medians[0] / medians[1]).toFixed(1)}x`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
