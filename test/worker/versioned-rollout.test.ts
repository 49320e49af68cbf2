// A rollout of an incompatible workflow change on the real dev server, with Worker Deployment
// Versioning: build A (today's workflows/) runs orders that wait in a durable timer; build B (a
// change whose first command differs, test/workflows/changed-order-workflow.ts) starts and is made
// current. A's worker is down while its orders' timers fire (a restart during the rollout), so any
// task of theirs Temporal offered to B would be replayed on B's code and fail with nondeterminism:
// pinned, they wait for A and finish there, new orders run on B, nothing fails, each order is
// charged once, and A is stopped only once no run is left pinned to it.
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { readLedgerLines } from '../../activities/ledger';
import { simulatedProviders } from '../../activities/simulated';
import { MemoryStatusPublisher } from '../../activities/status-publisher';
import { loadConfig } from '../../common/config';
import { workflowIdFor, type Order } from '../../common/order';
import type { OrderView } from '../../common/status';
import { startOrderWorkflow } from '../../bridge/starter';
import { deploymentStatus, openRunsOn, PromoteError, setCurrentBuild } from '../../tools/deploy/routing';
import { becomeCurrentIfNone, buildIdOf } from '../../worker/versioning';
import { createOrderWorker, WORKFLOWS_PATH } from '../../worker/worker';
import { eventTypeNames } from '../helpers/history';
import { simulation } from '../helpers/order-worker';
import { uniqueId, waitUntil, within } from '../helpers/wait';
import { appDataConverter } from '../helpers/codec';

const EventType = temporal.api.enums.v1.EventType;
const config = loadConfig();
const namespace = config.temporalNamespace;
/** Each order waits this long twice (before payment, before shipping): long enough to restart A in. */
const STEP_DELAY_MS = 4_000;
const ORDERS_PER_BUILD = 3;

const deploymentName = uniqueId('rollout');
const taskQueue = uniqueId('rollout-orders');
const settings = simulation();

let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
const builds: Record<'A' | 'B', { code: string; buildId: string }> = {} as never;

interface RunningWorker {
  worker: Worker;
  run: Promise<void>;
}
const running = new Set<RunningWorker>();

beforeAll(async () => {
  connection = await Connection.connect({ address: config.temporalAddress });
  client = new Client({ connection, namespace, dataConverter: appDataConverter() });
  nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
  const sources = { A: WORKFLOWS_PATH, B: path.join(__dirname, '..', 'workflows', 'changed-order-workflow.ts') };
  for (const build of ['A', 'B'] as const) {
    const { code } = await bundleWorkflowCode({ workflowsPath: sources[build], logger: Runtime.instance().logger });
    builds[build] = { code, buildId: buildIdOf(code) };
  }
});

afterAll(async () => {
  for (const w of running) if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
  await Promise.allSettled([...running].map((w) => w.run));
  await nativeConnection?.close();
  await connection?.close();
});

/** A worker of one build, versioned as that build of the test's deployment; its identity names the build. */
async function startWorker(build: 'A' | 'B'): Promise<RunningWorker> {
  const worker = await createOrderWorker({
    connection: nativeConnection,
    namespace,
    dataConverter: appDataConverter(),
    providers: simulatedProviders(settings),
    statusPublisher: new MemoryStatusPublisher(),
    taskQueue,
    workflowBundle: { code: builds[build].code },
    deployment: { deploymentName, buildId: builds[build].buildId },
    identity: `build-${build}`,
  });
  const w = { worker, run: worker.run() };
  running.add(w);
  return w;
}

async function stopWorker(w: RunningWorker): Promise<void> {
  w.worker.shutdown();
  await w.run;
  running.delete(w);
}

function order(label: string): Order {
  return { orderId: uniqueId(label), item: 'Mechanical Keyboard', price: 150, quantity: 1 };
}

async function history(workflowId: string): Promise<temporal.api.history.v1.IHistory> {
  return client.workflow.getHandle(workflowId).fetchHistory();
}

/** Which workers picked up the run's workflow tasks (their identities), and how many of those tasks failed. */
async function taskWorkers(workflowId: string): Promise<{ identities: string[]; failedTasks: number }> {
  const events = (await history(workflowId)).events ?? [];
  const identities = events.flatMap((e) =>
    e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
      ? [e.workflowTaskStartedEventAttributes?.identity ?? '']
      : [],
  );
  const failedTasks = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
  return { identities: [...new Set(identities)], failedTasks };
}

/**
 * The orders' final views, waited for at most `ms`; past it the error says where their workflow tasks
 * ran and how many failed (a run that left its build fails there instead of finishing).
 */
async function resultsWithin(workflowIds: string[], ms: number, what: string): Promise<OrderView[]> {
  const results = Promise.all(workflowIds.map((id) => client.workflow.getHandle(id).result() as Promise<OrderView>));
  try {
    return await within(results, ms, what);
  } catch (err) {
    const tasks = await Promise.all(workflowIds.map(taskWorkers));
    throw new Error(`${(err as Error).message}; their workflow tasks: ${JSON.stringify(tasks)}`);
  }
}

const timersFired = async (workflowId: string): Promise<number> =>
  eventTypeNames(await history(workflowId)).filter((t) => t === 'TIMER_FIRED').length;

/** B is current once its worker's first poll registered it in the deployment (Temporal refuses it before). */
async function promote(buildId: string): Promise<void> {
  const target = { service: connection.workflowService, namespace, deploymentName, identity: 'rollout-test' };
  await waitUntil(
    async () => {
      try {
        await setCurrentBuild(target, buildId);
        return true;
      } catch (err) {
        if (err instanceof PromoteError) return false;
        throw err;
      }
    },
    { timeoutMs: 30_000, what: `build ${buildId} registered and made current` },
  );
}

describe('worker versioning: an incompatible workflow change rolled out beside running orders', () => {
  test("build A's orders finish on A, new orders run on B, no nondeterminism, each charged once; A stops once it has no pinned runs", async () => {
    const { A, B } = builds;
    expect(A.buildId).not.toBe(B.buildId);

    // Build A alone: the deployment's first build makes itself current, as the worker process does.
    let workerA = await startWorker('A');
    const bootstrap = await becomeCurrentIfNone({
      service: nativeConnection.workflowService,
      namespace,
      version: { deploymentName, buildId: A.buildId },
      identity: 'rollout-test',
      // Bounded: a worker that does not poll as a version never registers one.
      signal: AbortSignal.timeout(30_000),
      log: () => undefined,
    });
    expect(bootstrap).toEqual({ outcome: 'made-current' });

    const ordersA = Array.from({ length: ORDERS_PER_BUILD }, () => order('on-a'));
    for (const o of ordersA) await startOrderWorkflow(client, o, STEP_DELAY_MS, taskQueue);
    const idsA = ordersA.map(workflowIdFor);
    await waitUntil(
      async () => {
        const types = await Promise.all(idsA.map(async (id) => eventTypeNames(await history(id))));
        return types.every((t) => t.includes('TIMER_STARTED'));
      },
      { what: "A's orders waiting in their first timer" },
    );
    for (const id of idsA) {
      const { raw } = await client.workflow.getHandle(id).describe();
      expect(raw.workflowExecutionInfo?.versioningInfo?.behavior).toBe(
        temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      );
      expect(raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(A.buildId);
    }
    await waitUntil(async () => (await openRunsOn(client, deploymentName, A.buildId)) === ORDERS_PER_BUILD, {
      what: `${ORDERS_PER_BUILD} runs open on build A in visibility`,
    });

    // A restarts during the rollout: it is down while its orders' timers fire.
    await stopWorker(workerA);

    // Build B starts; starting alone moves nothing (A stays current) until B is promoted.
    const workerB = await startWorker('B');
    const bootstrapB = await becomeCurrentIfNone({
      service: nativeConnection.workflowService,
      namespace,
      version: { deploymentName, buildId: B.buildId },
      identity: 'rollout-test',
      signal: AbortSignal.timeout(30_000),
      log: () => undefined,
    });
    expect(bootstrapB).toEqual({ outcome: 'other-current', current: A.buildId });
    await promote(B.buildId);
    const ordersB = Array.from({ length: ORDERS_PER_BUILD }, () => order('on-b'));
    for (const o of ordersB) await startOrderWorkflow(client, o, STEP_DELAY_MS, taskQueue);
    const idsB = ordersB.map(workflowIdFor);
    const viewsB = await resultsWithin(idsB, 90_000, "completion of B's orders");
    expect(viewsB.map((v) => v.status)).toEqual(idsB.map(() => 'COMPLETED'));

    // By now every timer of A's orders fired with only B polling; pinned, their tasks waited for A.
    for (const id of idsA) expect(await timersFired(id)).toBeGreaterThanOrEqual(1);
    expect(await openRunsOn(client, deploymentName, A.buildId)).toBe(ORDERS_PER_BUILD);

    workerA = await startWorker('A');
    const viewsA = await resultsWithin(idsA, 90_000, "completion of A's orders");
    expect(viewsA.map((v) => v.status)).toEqual(idsA.map(() => 'COMPLETED'));

    // Where each order's workflow tasks ran, and that none of them failed.
    expect(await Promise.all(idsA.map(taskWorkers))).toEqual(
      idsA.map(() => ({ identities: ['build-A'], failedTasks: 0 })),
    );
    expect(await Promise.all(idsB.map(taskWorkers))).toEqual(
      idsB.map(() => ({ identities: ['build-B'], failedTasks: 0 })),
    );

    // Each order charged exactly once, counted in the ledger's raw lines.
    const charges = readLedgerLines(settings.ledgerFile).filter((e) => e.kind === 'charge');
    const orderIds = [...ordersA, ...ordersB].map((o) => o.orderId);
    expect(orderIds.map((id) => charges.filter((c) => c.orderId === id).length)).toEqual(orderIds.map(() => 1));
    expect(charges).toHaveLength(orderIds.length);

    // A is drained: no run pinned to it is open any more (what deploy:status shows), and only then stopped.
    await waitUntil(async () => (await openRunsOn(client, deploymentName, A.buildId)) === 0, {
      what: 'no run left open on build A',
    });
    const status = await deploymentStatus(client, namespace, deploymentName);
    expect(status?.current).toBe(B.buildId);
    expect(status?.builds.find((b) => b.buildId === A.buildId)?.openOrders).toBe(0);
    await stopWorker(workerA);
    await stopWorker(workerB);
  }, 300_000);
});
