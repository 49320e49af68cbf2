// `npm run deploy:check` against the real dev server: the histories of a running order (waiting in
// a durable timer) and a completed one replay against this checkout's workflows/ and fail against a
// deliberately incompatible change (test/workflows/changed-order-workflow.ts), each failure naming
// the workflow id and the first diverging event. The command runs as an operator runs it (its own
// process, exit code and output); the bounds are checked on the function behind it.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startOrderWorkflow } from '../../bridge/starter';
import { simulatedProviders } from '../../activities/simulated';
import { MemoryStatusPublisher } from '../../activities/status-publisher';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { workflowIdFor, type Order } from '../../common/order';
import { runsToCheck } from '../../tools/deploy/replay-gate';
import { createOrderWorker } from '../../worker/worker';
import { eventTypeNames } from '../helpers/history';
import { simulation } from '../helpers/order-worker';
import { uniqueId, waitUntil } from '../helpers/wait';
import { appDataConverter } from '../helpers/codec';

const config = loadConfig();
const taskQueue = uniqueId('deploy-check');
const completed: Order = { orderId: uniqueId('done'), item: 'Desk', price: 300, quantity: 1 };
const waiting: Order = { orderId: uniqueId('waiting'), item: 'Lamp', price: 40, quantity: 1 };

let connection: Connection;
let client: Client;

/** Runs `npm run deploy:check -- <args>` as a process; its exit code and output. */
function deployCheck(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'deploy', 'check.ts'), ...args],
      { cwd: PROJECT_ROOT, env: process.env, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

beforeAll(async () => {
  connection = await Connection.connect({ address: config.temporalAddress });
  client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
  // Today's code runs one order to its end and leaves the other waiting in its first timer (10 min).
  const nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
  let worker: Worker | undefined;
  try {
    worker = await createOrderWorker({
      connection: nativeConnection,
      namespace: config.temporalNamespace,
      dataConverter: appDataConverter(),
      providers: simulatedProviders(simulation()),
      statusPublisher: new MemoryStatusPublisher(),
      taskQueue,
    });
    const w = worker;
    await w.runUntil(async () => {
      await startOrderWorkflow(client, completed, 0, taskQueue);
      await startOrderWorkflow(client, waiting, 600_000, taskQueue);
      await client.workflow.getHandle(workflowIdFor(completed)).result();
      await waitUntil(
        async () =>
          eventTypeNames(await client.workflow.getHandle(workflowIdFor(waiting)).fetchHistory()).includes(
            'TIMER_STARTED',
          ),
        { what: 'the waiting order in its timer' },
      );
    });
  } finally {
    await nativeConnection.close();
  }
  // Both listed in visibility before the checks list them.
  await waitUntil(
    async () =>
      (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`)).count === 1 &&
      (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`)).count === 1,
    { what: 'both orders in visibility' },
  );
}, 180_000);

afterAll(async () => {
  await client?.workflow
    .getHandle(workflowIdFor(waiting))
    .terminate('test over')
    .catch(() => undefined);
  await connection?.close();
});

describe('npm run deploy:check', () => {
  test("passes on this checkout's workflow code: the running and the completed order both replay", async () => {
    const { code, out } = await deployCheck(['--task-queue', taskQueue]);
    expect(out).toContain('replayed 2 processOrder histories (1 running, 1 closed within 24h');
    expect(out).toContain('every history replays');
    expect(out).not.toContain('FAIL');
    expect(code).toBe(0);
  });

  test('fails on an incompatible change, naming each workflow id and its first diverging event', async () => {
    const changed = path.join('test', 'workflows', 'changed-order-workflow.ts');
    const { code, out } = await deployCheck(['--task-queue', taskQueue, '--workflows', changed]);
    const failures = out.split('\n').filter((line) => line.startsWith('FAIL '));
    expect(failures.map((line) => line.replace(/\(run [^,]+,/, '(run …,')).sort()).toEqual(
      [
        `FAIL ${workflowIdFor(completed)} (run …, closed): nondeterminism, first diverging event 5 UpsertWorkflowSearchAttributes: ` +
          'Timer machine does not handle this event: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)',
        `FAIL ${workflowIdFor(waiting)} (run …, running): nondeterminism, first diverging event 5 UpsertWorkflowSearchAttributes: ` +
          'Timer machine does not handle this event: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)',
      ].sort(),
    );
    expect(out).toContain('2 of 2 histories do not replay');
    expect(code).toBe(1);
  });

  test('a bad bound is refused before anything is fetched (exit 2)', async () => {
    const { code, out } = await deployCheck(['--task-queue', taskQueue, '--max-age', 'soon']);
    expect(out).toContain("option '--max-age <duration>' argument 'soon' is invalid");
    expect(code).toBe(2);
  });
});

describe('the runs deploy:check replays', () => {
  const scope = { taskQueue, workflowType: 'processOrder' };

  test('running orders first, then closed ones, up to --max-count', async () => {
    expect(await runsToCheck({ client, ...scope, maxCount: 1, maxAgeMs: 86_400_000 })).toEqual([
      { workflowId: workflowIdFor(waiting), runId: expect.any(String), running: true },
    ]);
  });

  test('closed orders only when they closed within --max-age; running ones whatever their age', async () => {
    const { closeTime } = await client.workflow.getHandle(workflowIdFor(completed)).describe();
    const later = new Date(closeTime!.getTime() + 120_000);
    const runs = await runsToCheck({ client, ...scope, maxCount: 10, maxAgeMs: 60_000, now: later });
    expect(runs.map((r) => r.workflowId)).toEqual([workflowIdFor(waiting)]);
    const within = await runsToCheck({ client, ...scope, maxCount: 10, maxAgeMs: 180_000, now: later });
    expect(within.map((r) => r.workflowId).sort()).toEqual([workflowIdFor(completed), workflowIdFor(waiting)].sort());
  });
});
