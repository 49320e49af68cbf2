// Payload encryption on the whole pipeline (JWT mode, real Kafka and Temporal): what Temporal stores
// holds no item, price or customer id in clear, and the app's codec reads it back; after
// `npm run customer:erase` that customer's orders no longer decode anywhere (client, codec, replay),
// their running order was cancelled and refunded, and another customer's orders are untouched.
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  createPayloadCodec,
  customerSearchValue,
  keyIdOf,
  keyStoreOfClient,
  type KeyStore,
} from '../../../common/codec';
import type { Kysely } from 'kysely';
import { loadConfig } from '../../../common/config';
import { CustomerIdKey, OrderItemKey } from '../../../common/names';
import { customerRefOf, orderIdOfWorkflowId, workflowIdFor } from '../../../common/order';
import { jwtAuth } from '../../../gateway/auth';
import { migrate, openHistoryDb, type HistoryDb } from '../../../history/store';
import { appDataConverter } from '../../helpers/codec';
import { testDatabase, type TestDatabase } from '../../helpers/postgres';
import { holdOrderAt, startStack, type Stack } from '../../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../../helpers/tokens';
import { TestClient, type Frame } from '../../helpers/ws-client';
import { uniqueId, waitUntil } from '../../helpers/wait';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Long enough between steps to erase a customer while their charged order waits to ship. */
const STEP_DELAY_MS = 3000;
let stack: Stack;
let keyStore: KeyStore;
/** The order history's database, for the rows erasure deletes. */
let database: TestDatabase;
let history: Kysely<HistoryDb>;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: STEP_DELAY_MS, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
  keyStore = keyStoreOfClient(stack.client)!;
  database = await testDatabase();
  history = openHistoryDb(database.url);
  await migrate(history);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.stop();
  await history?.destroy();
  await database?.stop();
});

/** A row of the order history (the test stack runs no history reader: written as it would be). */
async function historyRow(workflowId: string, orderId: string, customerId: string): Promise<void> {
  await history
    .insertInto('orders')
    .values({
      workflow_id: workflowId,
      order_id: orderId,
      customer_id: customerId,
      item: 'x',
      price: 1,
      quantity: 1,
      status: 'COMPLETED',
      seq: 9,
      placed_at: Date.now(),
      updated_at: Date.now(),
    })
    .execute();
}

/** A customer id longer than the readable part of a workflow id, so its whole never appears there. */
const newCustomer = (name: string): string => `${name}-${crypto.randomUUID()}`;

async function connectAs(customerId: string): Promise<TestClient> {
  const c = await TestClient.connect(stack.url, { token: await customerToken(customerId) });
  clients.push(c);
  return c;
}

const reach = (c: TestClient, orderId: string, status: string): Promise<Frame> =>
  c.waitFor((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === status, 90_000);

async function placeAndReach(customerId: string, item: string, status: string): Promise<string> {
  const c = await connectAs(customerId);
  const orderId = uniqueId('enc');
  expect((await c.placeOrder({ orderId, item, price: 149.5, quantity: 1 })).event).toBe('orderAccepted');
  await reach(c, orderId, status);
  return workflowIdFor({ orderId, customerId, idScope: 'customer' });
}

/** The run's history straight from the server, without any codec. */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.History> {
  const response = await stack.client.workflowService.getWorkflowExecutionHistory({
    namespace: stack.client.options.namespace,
    execution: { workflowId },
  });
  return temporal.api.history.v1.History.create(response.history ?? {});
}

/** Everything the server stores about the run, as bytes: its history, description and Visibility entry. */
async function storedBytes(workflowId: string): Promise<Buffer> {
  const namespace = stack.client.options.namespace;
  const described = await stack.client.workflowService.describeWorkflowExecution({
    namespace,
    execution: { workflowId },
  });
  const listed = await stack.client.workflowService.listWorkflowExecutions({
    namespace,
    query: `WorkflowId = '${workflowId}'`,
  });
  return Buffer.concat([
    temporal.api.history.v1.History.encode(await rawHistory(workflowId)).finish(),
    temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(described).finish(),
    temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse.encode(listed).finish(),
  ]);
}

/**
 * Every payload in a history (inputs, results, memo, summaries, failure details) with where it is,
 * except search attributes: Temporal indexes those, so they cannot be sealed (and hold no item or id).
 */
function payloadsOf(message: unknown, at = '', found: Array<{ at: string; payload: Payload }> = []) {
  if (message === null || typeof message !== 'object' || ArrayBuffer.isView(message)) return found;
  const m = message as Record<string, unknown>;
  if (m.metadata && typeof m.metadata === 'object' && 'data' in m) found.push({ at, payload: m as Payload });
  for (const [k, v] of Object.entries(m)) if (k !== 'searchAttributes') payloadsOf(v, `${at}.${k}`, found);
  return found;
}

describe('payload encryption (JWT mode)', () => {
  let aliceDone: string;
  /** Refused by the carrier: its failure message names the item. */
  let aliceFailed: string;
  let bobDone: string;
  let alice: string;
  let bob: string;
  const item = `Secret Lamp ${crypto.randomUUID()}`;

  beforeAll(async () => {
    alice = newCustomer('alice');
    bob = newCustomer('bob');
    [aliceDone, aliceFailed, bobDone] = await Promise.all([
      placeAndReach(alice, item, 'COMPLETED'),
      placeAndReach(alice, `${item} unshippable`, 'FAILED'),
      placeAndReach(bob, `${item} for Bob`, 'COMPLETED'),
    ]);
  });

  test('a completed order as Temporal stores it holds no item, price or customer id in clear, and the codec reads it back', async () => {
    // (The failed order's failure messages name the item: sealed too.)
    const stored = Buffer.concat([await storedBytes(aliceDone), await storedBytes(aliceFailed)]);
    for (const clear of [item, '149.5', alice])
      expect({ clear, found: stored.includes(clear) }).toEqual({ clear, found: false });
    // Every payload is sealed, with the customer's key.
    const payloads = payloadsOf(await rawHistory(aliceDone));
    expect(payloads.length).toBeGreaterThan(10);
    expect(payloads.filter((p) => keyIdOf(p.payload) !== `cust-${customerRefOf(alice)}.v1`).map((p) => p.at)).toEqual(
      [],
    );

    const description = await stack.client.workflow.getHandle(aliceDone).describe();
    expect(description.typedSearchAttributes.get(OrderItemKey)).toBeUndefined();
    expect(description.typedSearchAttributes.get(CustomerIdKey)).toBe(await customerSearchValue(keyStore, alice));
    expect((description.memo as { order: { item: string; customerId: string } }).order).toMatchObject({
      item,
      customerId: alice,
    });
    expect(await description.staticSummary()).toBe(`1 x ${item} at 149.50`);
    expect(await stack.client.workflow.getHandle(aliceDone).result()).toMatchObject({ status: 'COMPLETED' });
    // The sealed history replays against today's workflow code through the codec.
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../../workflows'), dataConverter: appDataConverter() },
      await rawHistory(aliceDone),
      aliceDone,
    );
  });

  test("after customer:erase the customer's orders fail to decode with 'key destroyed' everywhere; the running one was cancelled and refunded; another customer's decode", async () => {
    const c = await connectAs(alice);
    const orderId = uniqueId('erase');
    // Held at the payment provider, so it is surely running when the erasure looks (a step delay
    // alone can run out first on a loaded machine); let go once the erasure's cancel is in.
    const charging = holdOrderAt(stack, 'charge', orderId);
    expect((await c.placeOrder({ orderId, item, price: 149.5 })).event).toBe('orderAccepted');
    await charging.reached;
    const running = workflowIdFor({ orderId, customerId: alice, idScope: 'customer' });
    // Held before the erasure: a codec that already has the key cached.
    const codec = createPayloadCodec(keyStore);
    const sealed = payloadsOf(await rawHistory(aliceDone)).map((p) => p.payload);
    await codec.decode(sealed);

    await historyRow(aliceDone, 'a', alice);
    await historyRow(bobDone, 'b', bob);

    const erasing = run(
      process.execPath,
      ['--import', 'tsx', 'tools/customer/erase.ts', alice, '--wait', '60', '--by', 'payload-encryption.test'],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url } },
    );
    await waitUntil(
      async () =>
        (await rawHistory(running)).events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes) || undefined,
      { timeoutMs: 60_000, what: "the erasure's cancel to reach the running order" },
    );
    charging.open();
    const erased = await erasing;
    expect(erased.stdout).toMatch(new RegExp(`customer ${customerRefOf(alice)} erased: 3 order\\(s\\) \\(1 cancelled`));
    expect(erased.stderr).toContain(`order ${running}: cancelled, ended CANCELLED`);

    // The running order ended through the saga: cancelled, its charge refunded.
    const kinds = stack.ledgerLines(orderId).map((e) => e.kind);
    expect(kinds).toEqual(['charge', 'refund']);
    const { workflowExecutionInfo } = await stack.client.workflowService.describeWorkflowExecution({
      namespace: stack.client.options.namespace,
      execution: { workflowId: running },
    });
    // (The workflow ends with its CANCELLED view as its result: a completed run.)
    expect(workflowExecutionInfo?.status).toBe(
      temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
    );

    const destroyed = new RegExp(`^key destroyed for customer ${customerRefOf(alice)}`);
    await expect(codec.decode(sealed)).rejects.toThrow(destroyed);
    await expect(createPayloadCodec(keyStore).decode(sealed)).rejects.toThrow(destroyed);
    await expect(stack.client.workflow.getHandle(aliceDone).describe()).rejects.toThrow(destroyed);
    const replayed = Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../../workflows'), dataConverter: appDataConverter() },
      await rawHistory(aliceDone),
      aliceDone,
    );
    // (Replay wraps it in its own message: the workflow task failed on it.)
    await expect(replayed).rejects.toThrow(`key destroyed for customer ${customerRefOf(alice)}`);

    // Through the gateway her erased order is gone: answered like an id she never used, not as an
    // internal error; Bob's order still reads.
    const getOrder = async (client: TestClient, orderId: string): Promise<Frame> => {
      const before = client.received.length;
      client.send({ event: 'getOrder', data: { orderId } });
      return client.waitFor(
        (f) =>
          client.received.indexOf(f) >= before &&
          (f.event === 'order' || f.event === 'error') &&
          f.data.orderId === orderId,
        30_000,
      );
    };
    const gone = await getOrder(c, orderIdOfWorkflowId(aliceDone));
    const neverUsed = await getOrder(c, uniqueId('never'));
    expect(gone.data.code).toBe('NOT_FOUND');
    expect(JSON.stringify(gone).split(orderIdOfWorkflowId(aliceDone)).join('<id>')).toBe(
      JSON.stringify(neverUsed).split(String(neverUsed.data.orderId)).join('<id>'),
    );
    expect((await getOrder(await connectAs(bob), orderIdOfWorkflowId(bobDone))).event).toBe('order');

    // Alice's history rows are gone; Bob's order and row are untouched.
    expect(erased.stdout).toContain('1 order history row(s) deleted');
    const left = await history.selectFrom('orders').select('customer_id').execute();
    expect(left.map((r) => r.customer_id)).toEqual([bob]);
    expect(await stack.client.workflow.getHandle(bobDone).result()).toMatchObject({ status: 'COMPLETED' });
    // The audit record names who and how many, and the customer only by reference.
    const audit = fs.readFileSync(path.join(loadConfig().dataDir, 'audit', 'erasures.jsonl'), 'utf8');
    const record = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.customerRef === customerRefOf(alice));
    expect(record).toMatchObject({ event: 'customer-erased', by: 'payload-encryption.test', orders: 3, cancelled: 1 });
    expect(audit).not.toContain(alice);
  });
});
