// End to end on real servers: a ws client -> gateway -> Kafka -> bridge -> Temporal dev server -> worker.
import * as crypto from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { workflowIdFor } from '../../common/order';
import type { OrderView } from '../../common/status';
import { eventTypeNames } from '../helpers/history';
import { startStack, Stack } from '../helpers/stack';
import { TestClient } from '../helpers/ws-client';

let stack: Stack;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: 200 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.stop();
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(stack.url);
  clients.push(c);
  return c;
}

const uniqueId = (prefix: string): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** Lists every run (open or closed) on this stack's task queue, retrying until the count is reached. */
async function runsOnQueue(expected: number, timeoutMs = 30_000): Promise<Array<{ workflowId: string; runId: string }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs: Array<{ workflowId: string; runId: string }> = [];
    for await (const wf of stack.client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` })) {
      runs.push({ workflowId: wf.workflowId, runId: wf.runId });
    }
    if (runs.length >= expected || Date.now() > deadline) return runs;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("the seed's Postman payload is accepted and runs validate, timer, charge, timer, ship", async () => {
  const client = await connect();
  const answer = await client.placeOrder({ orderId: '#101', item: 'Mechanical Keyboard', price: 150 });
  expect(answer).toEqual({ event: 'orderAccepted', data: { orderId: '#101', workflowId: 'order-#101' } });

  const handle = stack.client.workflow.getHandle(workflowIdFor('#101'));
  const view = await waitForResult(handle.workflowId);
  expect(view.status).toBe('COMPLETED');

  const history = await handle.fetchHistory();
  const steps: string[] = [];
  for (const e of history.events ?? []) {
    const type = temporal.api.enums.v1.EventType[e.eventType ?? 0];
    if (type === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') steps.push(e.activityTaskScheduledEventAttributes!.activityType!.name!);
    if (type === 'EVENT_TYPE_TIMER_FIRED') steps.push('timer');
  }
  expect(steps).toEqual(['validateOrder', 'timer', 'chargePayment', 'timer', 'shipOrder']);
  expect(eventTypeNames(history).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  expect(stack.ledger.entries().filter((e) => e.orderId === '#101' && e.kind === 'charge')).toHaveLength(1);
});

async function waitForResult(workflowId: string, timeoutMs = 60_000): Promise<OrderView> {
  // The bridge starts the workflow asynchronously: wait for it to exist, then for its result.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await stack.client.workflow.getHandle(workflowId).result()) as OrderView;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw err;
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('50 orders placed concurrently over 5 connections all complete, one workflow and one charge each', async () => {
  const conns = await Promise.all([0, 1, 2, 3, 4].map(() => connect()));
  const ids = Array.from({ length: 50 }, (_, i) => uniqueId(`bulk${i}`));
  const answers = await Promise.all(ids.map((orderId, i) => conns[i % 5].placeOrder({ orderId, item: 'USB cable', price: 9.5, quantity: 2 })));
  expect(answers.every((a) => a.event === 'orderAccepted')).toBe(true);

  const views = await Promise.all(ids.map((id) => waitForResult(workflowIdFor(id))));
  expect(views.map((v) => v.status)).toEqual(ids.map(() => 'COMPLETED'));

  const runs = (await runsOnQueue(ids.length + 1)).filter((r) => r.workflowId.startsWith('order-bulk'));
  expect(runs.map((r) => r.workflowId).sort()).toEqual(ids.map(workflowIdFor).sort());
  const charges = stack.ledger.entries().filter((e) => e.kind === 'charge' && ids.includes(e.orderId));
  expect(charges.map((c) => c.orderId).sort()).toEqual([...ids].sort());
  expect(charges.every((c) => c.amount === 19)).toBe(true);
});

test("an event in the seed producer's shape (no key, no eventId, no quantity) is processed", async () => {
  const producer = stack.kafka.producer();
  await producer.connect();
  const orderId = uniqueId('seed');
  await producer.send({
    topic: stack.topic,
    messages: [{ value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Mouse', price: 25 }, timestamp: Date.now() } }) }],
  });
  await producer.disconnect();
  const view = await waitForResult(workflowIdFor(orderId));
  expect(view.status).toBe('COMPLETED');
  expect(stack.ledger.entries().find((e) => e.orderId === orderId)?.amount).toBe(25);
});

test('the same event delivered twice starts one workflow and charges once', async () => {
  const producer = stack.kafka.producer();
  await producer.connect();
  const orderId = uniqueId('dup');
  const event = JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Monitor', price: 199, quantity: 1 }, timestamp: Date.now() }, eventId: crypto.randomUUID(), schemaVersion: 1 });
  const duplicatesBefore = stack.bridge.stats.duplicates;
  await producer.send({ topic: stack.topic, messages: [{ key: orderId, value: event }, { key: orderId, value: event }] });
  await producer.disconnect();
  const view = await waitForResult(workflowIdFor(orderId));
  expect(view.status).toBe('COMPLETED');
  const deadline = Date.now() + 10_000;
  while (stack.bridge.stats.duplicates === duplicatesBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(stack.bridge.stats.duplicates).toBe(duplicatesBefore + 1);
  const runs = (await runsOnQueue(1)).filter((r) => r.workflowId === workflowIdFor(orderId));
  expect(runs).toHaveLength(1);
  expect(stack.ledger.entries().filter((e) => e.orderId === orderId && e.kind === 'charge')).toHaveLength(1);
});

test('a malformed event, or one of an unknown schemaVersion, goes to the DLQ with its reason and origin, and the bridge keeps consuming', async () => {
  const producer = stack.kafka.producer();
  await producer.connect();
  const orderId = uniqueId('after-poison');
  const futureId = uniqueId('v2');
  const future = { type: 'ORDER_PLACED', payload: { order: { orderId: futureId, item: 'Desk', price: 300 } }, schemaVersion: 2 };
  await producer.send({ topic: stack.topic, messages: [{ key: futureId, value: JSON.stringify(future) }] });
  await producer.send({ topic: stack.topic, messages: [{ key: 'poison', value: 'this is not json' }] });
  const meta = await producer.send({
    topic: stack.topic,
    messages: [{ key: 'poison', value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId: 'p1', item: 'x', price: -5 } } }) }],
  });
  await producer.send({ topic: stack.topic, messages: [{ key: 'poison', value: JSON.stringify({ type: 'ORDER_PLACED', payload: { order: { orderId, item: 'Desk', price: 300 } } }) }] });
  await producer.disconnect();

  expect((await waitForResult(workflowIdFor(orderId))).status).toBe('COMPLETED');

  const consumer = stack.kafka.consumer({ groupId: uniqueId('dlq-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: stack.dlqTopic, fromBeginning: true });
  const dead: Array<{ value: string; headers: Record<string, string> }> = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        dead.push({ value: message.value!.toString(), headers });
        if (dead.length === 3) resolve();
      },
    });
  });
  await consumer.disconnect();
  // Starts within a batch run concurrently, so the two dead letters may arrive in either order.
  const notJson = dead.find((d) => d.value === 'this is not json');
  const badSchema = dead.find((d) => d.value !== 'this is not json' && d.value !== JSON.stringify(future));
  const unknownVersion = dead.find((d) => d.value === JSON.stringify(future));
  expect(unknownVersion?.headers['dlq-reason']).toBe('unknown schemaVersion 2 (this bridge reads 1)');
  await expect(stack.client.workflow.getHandle(workflowIdFor(futureId)).describe()).rejects.toThrow();
  expect(notJson?.headers['dlq-reason']).toBe('not JSON');
  expect(badSchema?.headers['dlq-reason']).toMatch(/^schema: payload\.order\.price/);
  expect(badSchema?.headers['dlq-original-partition']).toBe(String(meta[0].partition));
  expect(badSchema?.headers['dlq-original-offset']).toBe(meta[0].baseOffset);
  expect(badSchema?.headers['dlq-original-topic']).toBe(stack.topic);
});

test('the same orderId placed 20 times at once from 20 connections: one workflow, one charge', async () => {
  const conns = await Promise.all(Array.from({ length: 20 }, () => connect()));
  const orderId = uniqueId('same');
  const answers = await Promise.all(conns.map((c) => c.placeOrder({ orderId, item: 'Lamp', price: 40 })));
  // Each placement is acknowledged with the one workflow id the order will ever have.
  expect(answers.map((a) => a.event)).toEqual(conns.map(() => 'orderAccepted'));
  expect(new Set(answers.map((a) => a.data.workflowId))).toEqual(new Set([workflowIdFor(orderId)]));
  expect((await waitForResult(workflowIdFor(orderId))).status).toBe('COMPLETED');
  const deadline = Date.now() + 15_000;
  while (stack.bridge.stats.duplicates < 19 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const runs = (await runsOnQueue(1)).filter((r) => r.workflowId === workflowIdFor(orderId));
  expect(runs).toHaveLength(1);
  expect(stack.ledger.entries().filter((e) => e.orderId === orderId && e.kind === 'charge')).toHaveLength(1);
});

test("a finished order's id is never reused: placing it again starts no second run and charges nothing", async () => {
  const client = await connect();
  const orderId = uniqueId('again');
  await client.placeOrder({ orderId, item: 'Pen', price: 2 });
  expect((await waitForResult(workflowIdFor(orderId))).status).toBe('COMPLETED');
  const duplicatesBefore = stack.bridge.stats.duplicates;
  expect((await client.placeOrder({ orderId, item: 'Pen', price: 2 })).event).toBe('orderAccepted');
  const deadline = Date.now() + 15_000;
  while (stack.bridge.stats.duplicates === duplicatesBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(stack.bridge.stats.duplicates).toBe(duplicatesBefore + 1);
  const runs = (await runsOnQueue(1)).filter((r) => r.workflowId === workflowIdFor(orderId));
  expect(runs).toHaveLength(1);
  expect(stack.ledger.entries().filter((e) => e.orderId === orderId && e.kind === 'charge')).toHaveLength(1);
});
