// Graceful shutdown of the real processes (gateway, bridge, worker as OS processes on the real
// servers): SIGTERM drains the work in flight, refuses new work without writing it, and exits 0.
// Work is held in flight by gates (a cancel waiting on a workflow no worker runs yet, provider
// latency), never by racing the signal against sleeps.
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { simulatedProviders } from '../../activities/simulated';
import { MemoryStatusPublisher } from '../../activities/status-publisher';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { TASK_QUEUE, TOPICS } from '../../common/names';
import { workflowIdFor } from '../../common/order';
import { processOrder } from '../../workflows';
import { createOrderWorker } from '../../worker/worker';
import { AppName, AppProcess, whenLogShows } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';
import { readAll, testKafka, withAdmin } from '../helpers/kafka';
import { simulation } from '../helpers/order-worker';
import { runsOf } from '../helpers/temporal';
import { uniqueId, waitUntil } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';
import { appDataConverter } from '../helpers/codec';

const config = loadConfig();
const kafka = testKafka('test-shutdown');
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: config.temporalAddress });
  client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
});

afterAll(async () => {
  await connection?.close();
});

/** Starts an app process; with `ready`, resolves once its output shows that line. */
async function start(app: AppName, env: Record<string, string>, ready?: RegExp): Promise<AppProcess> {
  const proc = new AppProcess({ app, env: { ...process.env, ...env }, ready: ready && whenLogShows(ready) });
  await proc.start(90_000);
  return proc;
}

/** The exit code of the process's SIGTERM drain, or 'timeout'. */
const exitCodeWithin = async (proc: AppProcess, ms: number): Promise<number | null | 'timeout'> => {
  const exit = await proc.exitWithin(ms);
  return exit === 'timeout' ? exit : exit.code;
};

describe('gateway process', () => {
  test('gateway: SIGTERM answers every order it read (stored, or refused as shutting down), closes clients with 1001, exits 0', async () => {
    // The gate: a cancel the gateway is waiting on, for an order whose workflow no worker runs yet.
    const gateQueue = uniqueId('shutdown-gate');
    const gateId = uniqueId('gate');
    await client.workflow.start(processOrder, {
      taskQueue: gateQueue,
      workflowId: workflowIdFor({ orderId: gateId }),
      args: [{ order: { orderId: gateId, item: 'Lamp', price: 5, quantity: 1 }, stepDelayMs: 0 }],
    });
    const nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
    const worker = await createOrderWorker({
      connection: nativeConnection,
      namespace: config.temporalNamespace,
      dataConverter: appDataConverter(),
      providers: simulatedProviders(simulation()),
      statusPublisher: new MemoryStatusPublisher(),
      taskQueue: gateQueue,
    });

    const port = await freePort();
    const gw = await start(
      'gateway',
      { GATEWAY_PORT: String(port), GATEWAY_HEALTH_PORT: String(await freePort()) },
      /ready: following order-status/,
    );
    let running: Promise<void> | undefined;
    try {
      const c = await TestClient.connect(`ws://127.0.0.1:${port}`);
      const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
      c.send({ event: 'cancelOrder', data: { orderId: gateId } }); // in flight until a worker runs the order
      const accepted = uniqueId('sigterm-stored');
      expect((await c.placeOrder({ orderId: accepted, item: 'Mouse', price: 10 })).event).toBe('orderAccepted');

      gw.child?.kill('SIGTERM');
      await waitUntil(() => gw.output().includes('SIGTERM: draining'), { what: 'the gateway to start draining' });
      const refused = uniqueId('sigterm-refused');
      const refusal = await c.placeOrder({ orderId: refused, item: 'Mouse', price: 10 });
      expect(refusal.data).toMatchObject({ code: 'SHUTTING_DOWN', orderId: refused });
      expect(c.closed).toBeUndefined(); // still draining: the cancel is in flight

      running = worker.run();
      expect((await c.waitFor((f) => f.data.orderId === gateId, 60_000)).event).toBe('orderCancelled');
      expect(await closed).toBe(1001);
      expect(await exitCodeWithin(gw, 30_000)).toBe(0);

      // The accepted order is in Kafka; the refused one is not.
      const keys = (await readAll(kafka, TOPICS.orderPlacement)).map((m) => m.key);
      expect(keys).toContain(accepted);
      expect(keys).not.toContain(refused);
    } finally {
      await gw.kill();
      if (running) {
        worker.shutdown();
        await running;
      }
      await nativeConnection.close();
    }
  });
});

describe('bridge process', () => {
  test('bridge: SIGTERM finishes the starts in flight, commits them, and exits 0', async () => {
    const groupId = uniqueId('bridge-sigterm');
    // The group starts at the topic's current end, so only this test's events are its work.
    await withAdmin(kafka, async (admin) => {
      const ends = await admin.fetchTopicOffsets(TOPICS.orderPlacement);
      await admin.setOffsets({
        groupId,
        topic: TOPICS.orderPlacement,
        partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
      });
    });
    const ids = Array.from({ length: 12 }, (_, i) => uniqueId(`bridge-sig${i}`));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: TOPICS.orderPlacement,
      messages: ids.map((orderId) => ({
        key: orderId,
        value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Pen', price: 2 } } }),
      })),
    });
    await producer.disconnect();
    const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(TOPICS.orderPlacement));

    const bridge = await start('bridge', {
      BRIDGE_GROUP_ID: groupId,
      BRIDGE_HEALTH_PORT: String(await freePort()),
      STEP_DELAY_MS: '600000',
    });
    try {
      // Runs are on the app's task queue, which no worker here polls: they simply wait.
      await waitUntil(
        async () =>
          (await Promise.all(ids.map((id) => runsOf(client, workflowIdFor({ orderId: id }), 0)))).every(
            (r) => r.length === 1,
          ),
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          what: 'every order to be started',
        },
      );
      bridge.child?.kill('SIGTERM');
      expect(await exitCodeWithin(bridge, 30_000)).toBe(0);
      expect(bridge.output()).toMatch(/SIGTERM: finishing in-flight starts and committing/);
      // Everything it started is committed: a successor in the group would not start them again.
      const [committed] = await withAdmin(kafka, (admin) =>
        admin.fetchOffsets({ groupId, topics: [TOPICS.orderPlacement] }),
      );
      expect(Object.fromEntries(committed.partitions.map((p) => [p.partition, p.offset]))).toEqual(
        Object.fromEntries(ends.map((p) => [p.partition, p.high])),
      );
      for (const id of ids) expect(await runsOf(client, workflowIdFor({ orderId: id }))).toHaveLength(1);
    } finally {
      await bridge.kill();
      for (const id of ids)
        await client.workflow
          .getHandle(workflowIdFor({ orderId: id }))
          .terminate('test over')
          .catch(() => undefined);
    }
  });
});

describe('worker process', () => {
  test('worker: SIGTERM stops polling, lets running tasks finish, exits 0', async () => {
    // Each provider call takes 4 s, so the validation activity is surely running when the signal comes.
    const worker = await start(
      'worker',
      {
        SIM_LEDGER_FILE: path.join(PROJECT_ROOT, '.data', 'ledger', `${uniqueId('shutdown')}.jsonl`),
        SIM_LATENCY_MS: '4000',
      },
      /polling task queue/,
    );
    const orderId = uniqueId('in-flight');
    try {
      const handle = await client.workflow.start(processOrder, {
        taskQueue: TASK_QUEUE,
        workflowId: workflowIdFor({ orderId: orderId }),
        args: [{ order: { orderId, item: 'Lamp', price: 5, quantity: 1 }, stepDelayMs: 600_000 }],
      });
      await waitUntil(
        async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          return pending.some(
            (a) =>
              a.activityType?.name === 'validateOrder' &&
              a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
          );
        },
        { intervalMs: 100, what: 'validateOrder to be running' },
      );
      worker.child?.kill('SIGTERM');
      expect(await exitCodeWithin(worker, 30_000)).toBe(0);
      // The running activity was allowed to finish: it completed on its first attempt, not failed or timed out.
      const history = await handle.fetchHistory();
      const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
      const failed = (history.events ?? []).filter(
        (e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes,
      );
      expect(completed).toHaveLength(1);
      expect(failed).toEqual([]);
    } finally {
      await worker.kill();
      await client.workflow
        .getHandle(workflowIdFor({ orderId: orderId }))
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});
