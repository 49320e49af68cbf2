// The worker process with WORKER_DEPLOYMENT_NAME, and the deploy commands as an operator runs them,
// on the real dev server in a namespace of its own (a versioned build made current on the `orders`
// queue takes every new order there, so it must not share the run's namespace with other suites):
//  - the first versioned worker of a deployment polls as the hash of its workflow bundle and makes
//    that build current; an order runs pinned to it; `deploy:status` shows it;
//  - once it is gone, an unversioned worker says the queue still sends new orders to that build,
//    and `deploy:promote -- --unversioned` hands them back to it.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Runtime } from '@temporalio/worker';
import { startOrderWorkflow } from '../../bridge/starter';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { workflowIdFor, type Order } from '../../common/order';
import type { OrderView } from '../../common/status';
import { AppProcess, whenLogShows } from '../../tools/infra/app-process';
import type { DeploymentStatus } from '../../tools/deploy/routing';
import { buildIdOf } from '../../worker/versioning';
import { workflowBundleOptions } from '../../worker/worker';
import { createNamespace } from '../helpers/namespace';
import { uniqueId, waitUntil, within } from '../helpers/wait';
import { appDataConverter } from '../helpers/codec';

const config = loadConfig();
const deploymentName = uniqueId('order-worker');
let namespace: string;
let connection: Connection;
let client: Client;
let expectedBuildId: string;
const processes: AppProcess[] = [];

/** Env of the worker and the deploy commands: this suite's namespace, and the deployment when versioned. */
function envOf(versioned: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_NAMESPACE: namespace, LOG_FORMAT: 'line' };
  if (versioned) env.WORKER_DEPLOYMENT_NAME = deploymentName;
  else delete env.WORKER_DEPLOYMENT_NAME;
  return env;
}

/** `npm run <script> -- <args>` as a process: its exit code and output. */
function npmScript(script: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'deploy', `${script}.ts`), ...args],
      { cwd: PROJECT_ROOT, env: envOf(true), timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

async function startWorker(versioned: boolean, ready: RegExp): Promise<AppProcess> {
  const worker = new AppProcess({
    app: 'worker',
    name: versioned ? 'worker-versioned' : 'worker-unversioned',
    env: envOf(versioned),
    ready: whenLogShows(ready),
  });
  processes.push(worker);
  await worker.start(120_000);
  return worker;
}

async function placeAndFinish(label: string): Promise<{ order: Order; view: OrderView }> {
  const order: Order = { orderId: uniqueId(label), item: 'Mechanical Keyboard', price: 150, quantity: 1 };
  await startOrderWorkflow(client, order, 0);
  const view = await within(
    client.workflow.getHandle(workflowIdFor(order)).result() as Promise<OrderView>,
    60_000,
    `result of ${order.orderId}`,
  );
  return { order, view };
}

beforeAll(async () => {
  namespace = await createNamespace(config.temporalAddress, 'versioned-worker');
  connection = await Connection.connect({ address: config.temporalAddress });
  client = new Client({ connection, namespace, dataConverter: appDataConverter() });
  // The worker from source bundles workflows/ exactly so; its build id is the hash of that bundle.
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: Runtime.instance().logger });
  expectedBuildId = buildIdOf(code);
}, 120_000);

afterAll(async () => {
  for (const p of processes) if (p.running()) await p.signal('SIGTERM');
  await connection?.close();
});

describe('a versioned worker process and the deploy commands', () => {
  test('the first build of a deployment makes itself current; its orders are pinned to it; deploy:status shows it', async () => {
    const worker = await startWorker(true, /made [0-9a-f]{16} current/);
    expect(worker.output()).toContain(`as build ${expectedBuildId} of deployment ${deploymentName}`);
    expect(worker.output()).toContain(`made ${expectedBuildId} current`);

    const { order, view } = await placeAndFinish('pinned');
    expect(view.status).toBe('COMPLETED');
    const { raw } = await client.workflow.getHandle(workflowIdFor(order)).describe();
    expect(raw.workflowExecutionInfo?.versioningInfo?.behavior).toBe(
      temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    );
    expect(raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion).toEqual(
      expect.objectContaining({ deploymentName, buildId: expectedBuildId }),
    );

    const status = await npmScript('status', ['--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out) as DeploymentStatus).toEqual({
      deploymentName,
      current: expectedBuildId,
      builds: [{ buildId: expectedBuildId, state: 'current', openOrders: 0 }],
    });

    await worker.signal('SIGTERM');
    expect(worker.exits.at(-1)?.code).toBe(0);
  });

  test('an unversioned worker on that queue warns that new orders go to the build; --unversioned hands them back', async () => {
    const worker = await startWorker(false, /polling task queue "orders"/);
    await waitUntil(() => worker.output().includes('not to this unversioned worker'), {
      timeoutMs: 30_000,
      what: 'the warning of the unversioned worker',
      context: () => worker.output(),
    });
    expect(worker.output()).toContain(
      `task queue "orders" sends new orders to build ${expectedBuildId} of deployment ${deploymentName}`,
    );

    const promote = await npmScript('promote', ['--unversioned']);
    expect(promote.out).toContain(`new orders go to unversioned workers (current build was ${expectedBuildId})`);
    expect(promote.code).toBe(0);

    const { view } = await placeAndFinish('unversioned');
    expect(view.status).toBe('COMPLETED');
    await worker.signal('SIGTERM');
    expect(worker.exits.at(-1)?.code).toBe(0);
  });

  test('a promotion Temporal cannot do is refused by name (exit 2)', async () => {
    const unknown = await npmScript('promote', ['0000000000000000']);
    expect(unknown.out).toContain(`build 0000000000000000 has never polled in deployment "${deploymentName}"`);
    expect(unknown.code).toBe(2);
    const bad = await npmScript('promote', [expectedBuildId, '--ramp', '101']);
    expect(bad.out).toContain("option '--ramp <percent>' argument '101' is invalid");
    expect(bad.code).toBe(2);
  });
});
