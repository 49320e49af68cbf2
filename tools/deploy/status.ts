/**
 * `npm run deploy:status [-- --deployment <name>] [--json]`
 *
 * The builds of the worker deployment: which is current, which ramping (and by how much), and how
 * many orders are still open on each. Orders are pinned to the build they started on, so a build
 * with 0 open orders that is neither current nor ramping can be stopped (docs/DEPLOYING.md).
 * Exit codes: 0, or 2 when the deployment is unknown or Temporal unreachable.
 */
import {
  connectTemporal,
  deployCommand,
  deploymentNameArg,
  deploymentNameOf,
  EXIT,
  parseOrExit,
  runCommand,
  UsageError,
} from './cli-kit';
import { deploymentStatus, type BuildStatus } from './routing';

const program = deployCommand(
  'deploy:status',
  'Show the worker builds, where new orders go, and the orders open on each build.',
)
  .option('--deployment <name>', 'the Worker Deployment (default: WORKER_DEPLOYMENT_NAME)', deploymentNameArg)
  .option('--json', 'print the status as JSON');

function stateOf(b: BuildStatus): string {
  return b.state === 'ramping' ? `ramping ${b.rampPercentage ?? 0}%` : b.state;
}

/** The line for a build that says whether it may stop. */
function verdictOf(b: BuildStatus): string {
  if (b.state === 'current' || b.state === 'ramping') return 'takes new orders';
  return b.openOrders === 0 ? 'no open orders: may stop' : 'keep running until its orders finish';
}

runCommand('deploy:status', async () => {
  parseOrExit(program);
  const opts = program.opts<{ deployment?: string; json?: boolean }>();
  const session = await connectTemporal();
  try {
    const deploymentName = deploymentNameOf(opts.deployment, session.config);
    const status = await deploymentStatus(session.client, session.namespace, deploymentName);
    if (!status)
      throw new UsageError(`Temporal knows no deployment "${deploymentName}" in namespace ${session.namespace}`);
    if (opts.json) {
      console.log(JSON.stringify(status, null, 2));
      return EXIT.ok;
    }
    console.log(
      `deployment ${deploymentName} (namespace ${session.namespace}); current build: ${status.current ?? 'none'}`,
    );
    const rows = status.builds.map((b) => [b.buildId, stateOf(b), String(b.openOrders), verdictOf(b)]);
    const header = ['build', 'state', 'open orders', ''];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows])
      console.log(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    return EXIT.ok;
  } finally {
    await session.connection.close();
  }
});
