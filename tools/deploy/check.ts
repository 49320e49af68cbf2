/**
 * `npm run deploy:check [-- --max-count 200] [--max-age 24h] [--bundle dist/workflow-bundle.js | --workflows <module>]`
 *
 * The replay gate (docs/DEPLOYING.md says where in a rollout it runs): fetches from the configured
 * Temporal the histories of the orders running now and of those closed within --max-age, at most
 * --max-count in all, and replays them against the workflow code about to ship: the prebuilt
 * bundle `npm run build` wrote (--bundle), or a workflows module bundled now (--workflows, default
 * this checkout's workflows/). Each run that does not replay is named with the first event where
 * the new code parts from its history.
 * Exit codes: 0 every history replays, 1 some do not, 2 bad command line or Temporal unreachable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { msToNumber } from '@temporalio/common/lib/time';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { InvalidArgumentError, Option } from 'commander';
import { TASK_QUEUE } from '../../common/names';
import { buildIdOf } from '../../worker/versioning';
import { WORKFLOWS_PATH, workflowBundleOptions } from '../../worker/worker';
import { connectTemporal, deployCommand, EXIT, parseOrExit, runCommand, UsageError, wholeNumberArg } from './cli-kit';
import { describeFailure, runReplayGate } from './replay-gate';

function durationArg(value: string): number {
  let ms: number;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError('must be a duration such as 30m, 24h or 7d');
  return ms;
}

const program = deployCommand(
  'deploy:check',
  'Replay the histories of running and recent orders against the workflow code about to ship.',
)
  .option('--max-count <n>', 'at most this many histories (running orders first)', wholeNumberArg(1, 100_000), 200)
  .option(
    '--max-age <duration>',
    'closed orders count when they closed within this (e.g. 30m, 24h, 7d)',
    durationArg,
    msToNumber('24h'),
  )
  .addOption(
    new Option('--bundle <file>', 'a prebuilt workflow bundle (npm run build: dist/workflow-bundle.js)').conflicts(
      'workflows',
    ),
  )
  .option('--workflows <module>', "a workflows module to bundle now (default: this checkout's workflows/)")
  .option('--task-queue <name>', 'the task queue the orders run on', TASK_QUEUE)
  .option('--workflow-type <name>', 'the workflow type to check', 'processOrder');

interface CheckFlags {
  maxCount: number;
  maxAge: number;
  bundle?: string;
  workflows?: string;
  taskQueue: string;
  workflowType: string;
}

/** The code about to ship and its build id (the id a versioned worker of that code polls as). */
async function codeToShip(flags: CheckFlags): Promise<{ code: string; what: string }> {
  if (flags.bundle) {
    const file = path.resolve(flags.bundle);
    if (!fs.existsSync(file)) throw new UsageError(`no bundle at ${file}: run npm run build first`);
    return { code: fs.readFileSync(file, 'utf8'), what: path.relative(process.cwd(), file) };
  }
  const module = flags.workflows ? path.resolve(flags.workflows) : WORKFLOWS_PATH;
  try {
    const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(module), logger: Runtime.instance().logger });
    return { code, what: path.relative(process.cwd(), module) || module };
  } catch (err) {
    throw new UsageError(`cannot bundle ${module}: ${(err as Error).message}`);
  }
}

/** 86400000 -> "24h", 1800000 -> "30m": the age bound as an operator would write it. */
function shownDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1_000}s`;
}

runCommand('deploy:check', async () => {
  parseOrExit(program);
  const flags = program.opts<CheckFlags>();
  // The replay worker's own lines (state changes, bundle sizes, the core's warning for each failed
  // replay) would bury the result, which this command prints itself.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const { code, what } = await codeToShip(flags);
  const session = await connectTemporal();
  try {
    const { checked, failures, erased } = await runReplayGate({
      client: session.client,
      workflowBundle: { code },
      taskQueue: flags.taskQueue,
      workflowType: flags.workflowType,
      maxCount: flags.maxCount,
      maxAgeMs: flags.maxAge,
    });
    const running = checked.filter((r) => r.running).length;
    console.log(
      `deploy:check: replayed ${checked.length} ${flags.workflowType} histor${checked.length === 1 ? 'y' : 'ies'} (${running} running, ` +
        `${checked.length - running} closed within ${shownDuration(flags.maxAge)}; task queue ${flags.taskQueue}, ` +
        `namespace ${session.namespace}) against ${what} (build ${buildIdOf(code)})`,
    );
    if (erased.length)
      console.log(
        `deploy:check: ${erased.length} histor${erased.length === 1 ? 'y' : 'ies'} of erased customers not judged (their keys are destroyed)`,
      );
    for (const failure of failures) console.log(`FAIL ${describeFailure(failure)}`);
    if (failures.length) {
      console.log(
        `deploy:check: ${failures.length} of ${checked.length} histories do not replay: this code must not run those orders ` +
          '(patch the change with patched(), or keep their build until it drains: docs/DEPLOYING.md)',
      );
      return EXIT.failed;
    }
    console.log('deploy:check: every history replays');
    return EXIT.ok;
  } finally {
    await session.connection.close();
  }
});
