// End to end on real servers: a ws client -> gateway -> Kafka -> bridge -> Temporal dev server -> worker.
// Runs are counted by WorkflowId in visibility, charges by raw ledger lines.
import * as crypto from 'node:crypto';
import { Connection, Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startBridge } from '../../bridge/bridge';
import { loadConfig } from '../../common/config';
import { workflowIdFor } from '../../common/order';
import { statusQuery } from '../../common/workflow-api';
import { replayDlq } from '../../bridge/dlq-replay';
import { eventTypeNames } from '../helpers/history';
import { createTopic, deleteTopics, readAtLeast, StoredMessage } from '../helpers/kafka';
import { useStack } from '../helpers/in-process-pipeline';
import { runsOf, waitForResult } from '../helpers/temporal';
import { uniqueId, waitUntil } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';
import { appDataConverter } from '../helpers/codec';

const stack = useStack({ stepDelayMs: 200 });
const clients: TestClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(stack().url);
  clients.push(c);
  return c;
}

const result = (orderId: string) => waitForResult(stack().client, workflowIdFor({ orderId: orderId }));
const charges = (orderId: string) =>
  stack()
    .ledgerLines(orderId)
    .filter((e) => e.kind === 'charge');

async function send(messages: Array<{ key?: string; value: string | null }>, topic = stack().topic) {
  const producer = stack().kafka.producer();
  await producer.connect();
  try {
    return await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Waits until the bridge has counted `n` more duplicates than `before`, then checks it counted exactly that many. */
async function expectDuplicates(before: number, n: number): Promise<void> {
  await waitUntil(() => stack().bridge.stats.duplicates >= before + n, { timeoutMs: 20_000, what: `${n} duplicates` });
  expect(stack().bridge.stats.duplicates).toBe(before + n);
}

describe('pipeline: gateway -> Kafka -> bridge -> Temporal -> worker', () => {
  test("the seed's Postman payload is accepted and runs validate, timer, charge, timer, ship", async () => {
    const client = await connect();
    const answer = await client.placeOrder({ orderId: '#101', item: 'Mechanical Keyboard', price: 150 });
    expect(answer).toEqual({ event: 'orderAccepted', data: { orderId: '#101', workflowId: 'order-#101' } });

    const view = await result('#101');
    expect(view.status).toBe('COMPLETED');

    const history = await stack()
      .client.workflow.getHandle(workflowIdFor({ orderId: '#101' }))
      .fetchHistory();
    const steps: string[] = [];
    for (const e of history.events ?? []) {
      const type = temporal.api.enums.v1.EventType[e.eventType ?? 0];
      if (type === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
        steps.push(e.activityTaskScheduledEventAttributes!.activityType!.name!);
      if (type === 'EVENT_TYPE_TIMER_FIRED') steps.push('timer');
    }
    expect(steps).toEqual(['validateOrder', 'timer', 'chargePayment', 'timer', 'shipOrder']);
    expect(eventTypeNames(history).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
    expect(charges('#101')).toHaveLength(1);
  });

  test('50 orders placed concurrently over 5 connections all complete, one workflow and one charge each', async () => {
    const conns = await Promise.all([0, 1, 2, 3, 4].map(() => connect()));
    const ids = Array.from({ length: 50 }, (_, i) => uniqueId(`bulk${i}`));
    const answers = await Promise.all(
      ids.map((orderId, i) => conns[i % 5].placeOrder({ orderId, item: 'USB cable', price: 9.5, quantity: 2 })),
    );
    expect(answers.every((a) => a.event === 'orderAccepted')).toBe(true);

    const views = await Promise.all(ids.map((id) => result(id)));
    expect(views.map((v) => v.status)).toEqual(ids.map(() => 'COMPLETED'));
    for (const id of ids) {
      expect((await runsOf(stack().client, workflowIdFor({ orderId: id }))).length).toBe(1);
      expect(charges(id).map((c) => c.amount)).toEqual([19]);
    }
  });

  test("an event in the seed producer's shape (no key, no eventId, no quantity) is processed", async () => {
    const orderId = uniqueId('seed');
    await send([
      {
        value: JSON.stringify({
          type: 'ORDER_PLACED',
          payload: { order: { orderId, item: 'Mouse', price: 25 }, timestamp: Date.now() },
        }),
      },
    ]);
    expect((await result(orderId)).status).toBe('COMPLETED');
    expect(charges(orderId).map((c) => c.amount)).toEqual([25]);
  });

  test('the same event delivered twice starts one workflow and charges once', async () => {
    const orderId = uniqueId('dup');
    const event = JSON.stringify({
      type: 'ORDER_PLACED',
      payload: { order: { orderId, item: 'Monitor', price: 199, quantity: 1 }, timestamp: Date.now() },
      eventId: crypto.randomUUID(),
      schemaVersion: 1,
    });
    const duplicatesBefore = stack().bridge.stats.duplicates;
    await send([
      { key: orderId, value: event },
      { key: orderId, value: event },
    ]);
    expect((await result(orderId)).status).toBe('COMPLETED');
    await expectDuplicates(duplicatesBefore, 1);
    expect(await runsOf(stack().client, workflowIdFor({ orderId: orderId }))).toHaveLength(1);
    expect(charges(orderId)).toHaveLength(1);
  });

  test('the same orderId placed 20 times at once from 20 connections: one workflow, one charge', async () => {
    const conns = await Promise.all(Array.from({ length: 20 }, () => connect()));
    const orderId = uniqueId('same');
    const duplicatesBefore = stack().bridge.stats.duplicates;
    const answers = await Promise.all(conns.map((c) => c.placeOrder({ orderId, item: 'Lamp', price: 40 })));
    // Each placement is acknowledged with the one workflow id the order will ever have.
    expect(answers.map((a) => a.event)).toEqual(conns.map(() => 'orderAccepted'));
    expect(new Set(answers.map((a) => a.data.workflowId))).toEqual(new Set([workflowIdFor({ orderId: orderId })]));
    expect((await result(orderId)).status).toBe('COMPLETED');
    // 20 events in Kafka: one start, 19 duplicates absorbed by the bridge.
    await expectDuplicates(duplicatesBefore, 19);
    expect(await runsOf(stack().client, workflowIdFor({ orderId: orderId }))).toHaveLength(1);
    expect(charges(orderId)).toHaveLength(1);
  });

  test("a finished order's id is never reused: placing it again starts no second run and charges nothing", async () => {
    const client = await connect();
    const orderId = uniqueId('again');
    await client.placeOrder({ orderId, item: 'Pen', price: 2 });
    expect((await result(orderId)).status).toBe('COMPLETED');
    const duplicatesBefore = stack().bridge.stats.duplicates;
    expect((await client.placeOrder({ orderId, item: 'Pen', price: 2 })).event).toBe('orderAccepted');
    await expectDuplicates(duplicatesBefore, 1);
    expect(await runsOf(stack().client, workflowIdFor({ orderId: orderId }))).toHaveLength(1);
    expect(charges(orderId)).toHaveLength(1);
  });
});

describe('an order that ended without completing keeps its id', () => {
  /** Waits for the order's run to close and returns its final status (a failed run answers the status query too). */
  async function finalStatus(orderId: string): Promise<string> {
    const handle = stack().client.workflow.getHandle(workflowIdFor({ orderId }));
    await waitForResult(stack().client, workflowIdFor({ orderId })).catch(() => undefined);
    return (await handle.query(statusQuery)).status;
  }

  test.each([
    { outcome: 'REJECTED', item: 'Lamp (out of stock)', price: 10, ledger: [] },
    { outcome: 'PAYMENT_DECLINED', item: 'Lamp', price: 9_000, ledger: [] },
    { outcome: 'FAILED', item: 'Lamp (unshippable)', price: 10, ledger: ['charge', 'refund'] },
  ])(
    'its event delivered again after the run ended $outcome starts no second run',
    async ({ outcome, item, price, ledger }) => {
      const client = await connect();
      const orderId = uniqueId(outcome.toLowerCase());
      await client.placeOrder({ orderId, item, price });
      expect(await finalStatus(orderId)).toBe(outcome);
      const duplicatesBefore = stack().bridge.stats.duplicates;
      expect((await client.placeOrder({ orderId, item, price })).event).toBe('orderAccepted');
      await expectDuplicates(duplicatesBefore, 1);
      expect(await runsOf(stack().client, workflowIdFor({ orderId }))).toHaveLength(1);
      expect(
        stack()
          .ledgerLines(orderId)
          .map((e) => e.kind),
      ).toEqual(ledger);
    },
  );
});

describe('bridge dead-letter queue', () => {
  const dlqOf = async (count: number): Promise<StoredMessage[]> => readAtLeast(stack().kafka, stack().dlqTopic, count);

  test('a malformed event goes to the DLQ with its reason and origin, and the bridge keeps consuming', async () => {
    const orderId = uniqueId('after-poison');
    const before = stack().bridge.stats.deadLettered;
    await send([{ key: 'poison-1', value: 'this is not json' }]);
    const meta = await send([
      {
        key: 'poison-2',
        value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId: 'p1', item: 'x', price: -5 } } }),
      },
    ]);
    await send([
      {
        key: orderId,
        value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Desk', price: 300 } } }),
      },
    ]);
    expect((await result(orderId)).status).toBe('COMPLETED');

    const dead = await dlqOf(before + 2);
    const notJson = dead.find((d) => d.key === 'poison-1');
    const badSchema = dead.find((d) => d.key === 'poison-2');
    expect(notJson?.value).toBe('this is not json');
    expect(notJson?.headers['dlq-reason']).toBe('not JSON');
    expect(badSchema?.headers['dlq-reason']).toMatch(/^schema: payload\.order\.price/);
    expect(badSchema?.headers['dlq-original-partition']).toBe(String(meta[0].partition));
    expect(badSchema?.headers['dlq-original-offset']).toBe(meta[0].baseOffset);
    expect(badSchema?.headers['dlq-original-topic']).toBe(stack().topic);
  });

  test('an event over 256 KiB, a wrong type, an unknown schemaVersion, an empty value and a tombstone each go to the DLQ with their reason', async () => {
    const orderId = uniqueId('after-bad');
    const ok = { type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Desk', price: 300 } } };
    const keys = {
      big: uniqueId('big'),
      type: uniqueId('type'),
      version: uniqueId('v2'),
      empty: uniqueId('empty'),
      tomb: uniqueId('tomb'),
    };
    const big = JSON.stringify({
      ...ok,
      payload: { order: { ...ok.payload.order, orderId: keys.big } },
      pad: 'x'.repeat(300 * 1024),
    });
    const before = stack().bridge.stats.deadLettered;
    await send([
      { key: keys.big, value: big },
      { key: keys.type, value: JSON.stringify({ ...ok, type: 'ORDER_SHIPPED' }) },
      {
        key: keys.version,
        value: JSON.stringify({
          ...ok,
          payload: { order: { ...ok.payload.order, orderId: keys.version } },
          schemaVersion: 2,
        }),
      },
      { key: keys.empty, value: '' },
      { key: keys.tomb, value: null },
      { key: orderId, value: JSON.stringify(ok) },
    ]);
    expect((await result(orderId)).status).toBe('COMPLETED');
    const dead = await dlqOf(before + 5);
    const reason = (key: string) => dead.find((d) => d.key === key)?.headers['dlq-reason'];
    expect(reason(keys.big)).toBe(`oversized: ${Buffer.byteLength(big)} bytes > ${256 * 1024}`);
    expect(dead.find((d) => d.key === keys.big)?.value).toBe(big);
    expect(reason(keys.type)).toMatch(/^schema: type/);
    expect(reason(keys.version)).toBe('unknown schemaVersion 2 (this bridge reads 1)');
    expect(reason(keys.empty)).toBe('not JSON');
    expect(reason(keys.tomb)).toBe('empty message');
    // None of them started anything.
    expect(await runsOf(stack().client, workflowIdFor({ orderId: keys.big }), 0)).toEqual([]);
    expect(await runsOf(stack().client, workflowIdFor({ orderId: keys.version }), 0)).toEqual([]);
  });

  test('a start Temporal refuses goes to the DLQ; dlq:replay brings the real order back to a completed run', async () => {
    // A bridge whose starts Temporal refuses as invalid (a task queue name above the server's limit).
    const kafka = stack().kafka;
    const topic = await createTopic(kafka, 'order-placement-refused');
    const dlqTopic = `${topic}.dlq`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: dlqTopic, numPartitions: 1, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const connection = await Connection.connect({ address: loadConfig().temporalAddress });
    const client = new Client({
      connection,
      namespace: loadConfig().temporalNamespace,
      dataConverter: appDataConverter(),
    });
    const refusing = await startBridge({
      kafka,
      client,
      stepDelayMs: 200,
      groupId: uniqueId('refusing'),
      topic,
      dlqTopic,
      taskQueue: 'q'.repeat(2000),
      log: () => undefined,
    });
    try {
      const orderId = uniqueId('refused');
      const next = uniqueId('refused-next');
      const event = (id: string) =>
        JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId: id, item: 'Chair', price: 120 } } });
      await send([{ key: orderId, value: event(orderId) }], topic);
      await send([{ key: next, value: event(next) }], topic);
      const [dead, deadNext] = await readAtLeast(kafka, dlqTopic, 2);
      expect(dead.key).toBe(orderId);
      expect(dead.headers['dlq-reason']).toMatch(/^temporal rejected the start/);
      expect(deadNext.key).toBe(next); // it kept consuming after the refusal
      expect(refusing.stats).toMatchObject({ started: 0, deadLettered: 2 });
      expect(await runsOf(stack().client, workflowIdFor({ orderId: orderId }), 0)).toEqual([]);

      // After the fix: replay the DLQ into the pipeline's topic; the healthy bridge runs the order.
      const replayed = await replayDlq({
        brokers: loadConfig().kafkaBrokers,
        dlqTopic,
        targetTopic: stack().topic,
        groupId: uniqueId('replay'),
        timeoutMs: 30_000,
        log: () => undefined,
      });
      expect(replayed).toMatchObject({ examined: 2, replayed: 2, caughtUp: true });
      expect((await result(orderId)).status).toBe('COMPLETED');
      expect(await runsOf(stack().client, workflowIdFor({ orderId: orderId }))).toHaveLength(1);
      expect(charges(orderId)).toHaveLength(1);
    } finally {
      await refusing.stop();
      await connection.close();
      await deleteTopics(kafka, [topic, dlqTopic]);
    }
  });
});
