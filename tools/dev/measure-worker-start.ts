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
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { AppProcess, whenLogShows } from '../infra/app-process';

/** Milliseconds from spawning the worker to its "polling task queue" line (output checked every 10 ms). */
async function startOnce(entry: string): Promise<number> {
  const ledgerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-start-'));
  const worker = new AppProcess({
    app: 'worker',
    entry,
    env: { ...process.env, SIM_LEDGER_FILE: path.join(ledgerDir, 'ledger.jsonl') },
    logFile: path.join(ledgerDir, 'worker.log'),
    ready: whenLogShows(/polling task queue/),
    readyEveryMs: 10,
  });
  const started = process.hrtime.bigint();
  try {
    await worker.start(120_000);
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await worker.stop();
    fs.rmSync(ledgerDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const modes: Array<[string, string]> = [
    ['tsx + bundle at start (npm run worker)', 'worker/main.ts'],
    ['node dist + prebuilt bundle', 'dist/worker/main.js'],
  ];
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js')))
    throw new Error('run `npm run build` first');
  const medians: number[] = [];
  for (const [name, entry] of modes) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce(entry));
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
