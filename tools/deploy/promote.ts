/**
 * `npm run deploy:promote -- <buildId> [--ramp <percent>] [--deployment <name>]`
 * `npm run deploy:promote -- --unversioned [--deployment <name>]`
 *
 * Without --ramp: makes the build current, so every new order runs on it; orders open on the
 * previous build finish there (they are pinned). With --ramp p: the build takes p % of new orders
 * and the current build the rest. Temporal refuses a build whose workers are not polling. Run
 * `npm run deploy:check` first (docs/DEPLOYING.md); `npm run deploy:status` shows the result.
 * --unversioned hands new orders back to unversioned workers (a plain `npm start`).
 * Exit codes: 0 done, 1 Temporal refused, 2 bad command line or Temporal unreachable.
 */
import { BUILD_ID } from '../../common/env-forms';
import { InvalidArgumentError } from 'commander';
import {
  connectTemporal,
  deployCommand,
  deploymentNameArg,
  deploymentNameOf,
  EXIT,
  parseOrExit,
  runCommand,
  UsageError,
  wholeNumberArg,
} from './cli-kit';
import { PromoteError, rampBuild, setCurrentBuild, setCurrentUnversioned } from './routing';

function buildIdArg(value: string): string {
  if (!BUILD_ID.schema.safeParse(value).success) throw new InvalidArgumentError(`must be ${BUILD_ID.form}`);
  return value;
}

const program = deployCommand('deploy:promote', 'Make a worker build current, or ramp new orders onto it.')
  .argument('[buildId]', 'the build id (the worker logs it at start; `npm run deploy:status` lists them)', buildIdArg)
  .option(
    '--ramp <percent>',
    'send this share of new orders (0-100) to the build, the rest to the current one',
    wholeNumberArg(0, 100),
  )
  .option('--unversioned', 'send new orders to unversioned workers again (no build id)')
  .option('--deployment <name>', 'the Worker Deployment (default: WORKER_DEPLOYMENT_NAME)', deploymentNameArg);

runCommand('deploy:promote', async () => {
  parseOrExit(program);
  const [buildId] = program.processedArgs as [string | undefined];
  const opts = program.opts<{ ramp?: number; deployment?: string; unversioned?: boolean }>();
  if ((buildId === undefined) === !opts.unversioned || (opts.unversioned && opts.ramp !== undefined))
    throw new UsageError('name a build id (optionally with --ramp), or pass --unversioned alone');
  const session = await connectTemporal();
  try {
    const deploymentName = deploymentNameOf(opts.deployment, session.config);
    const target = {
      service: session.connection.workflowService,
      namespace: session.namespace,
      deploymentName,
      identity: 'deploy:promote',
    };
    try {
      if (buildId === undefined) {
        const { before } = await setCurrentUnversioned(target);
        console.log(
          `deploy:promote: new orders go to unversioned workers (current build was ${before.current ?? 'none'}); ` +
            'orders open on a build finish there',
        );
      } else if (opts.ramp !== undefined) {
        const { before } = await rampBuild(target, buildId, opts.ramp);
        console.log(
          `deploy:promote: build ${buildId} takes ${opts.ramp}% of new orders; the rest go to ${before.current ?? 'unversioned workers'}`,
        );
      } else {
        const { before } = await setCurrentBuild(target, buildId);
        console.log(
          before.current === buildId
            ? `deploy:promote: build ${buildId} was already current`
            : `deploy:promote: build ${buildId} is current (was ${before.current ?? 'none'}); ` +
                'orders open on other builds finish there: `npm run deploy:status` shows when a build has none left',
        );
      }
    } catch (err) {
      if (err instanceof PromoteError) throw new UsageError(err.message);
      console.error(`deploy:promote: Temporal refused: ${(err as Error).message}`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    await session.connection.close();
  }
});
