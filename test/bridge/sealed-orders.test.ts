// Orders sealed on order-placement (KAFKA_ENCRYPT_ORDER_FIELDS), through the whole pipeline on real
// Kafka and the real Temporal dev server: the gateway seals what a client placed over either
// transport, the bridge opens it and starts the order with its own fields; a recorded clear event
// still starts; an erased customer's order is skipped and counted (not started, not parked); a key
// store that cannot be read is retried, never skipped; a ciphertext moved to another order is parked.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { io } from 'socket.io-client';
import { LocalKeyStore, sealOrderFields, type KeyStore } from '../../common/codec';
import { customerRefOf, orderPlacedEvent, workflowIdFor, type Order } from '../../common/order';
import { useStack } from '../helpers/in-process-pipeline';
import { readAll } from '../helpers/kafka';
import { waitForResult } from '../helpers/temporal';
import { uniqueId, waitUntil } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-orders-keys-'));
const keys = new LocalKeyStore({ dir: keysDir, kek: crypto.randomBytes(32), cacheMs: 1_000 });
/** How many of the bridge's next key store opens fail, as a key store that cannot be read does. */
let unreadable = 0;
const bridgeKeys = (): KeyStore => {
  if (unreadable > 0) {
    unreadable -= 1;
    throw new Error('key store unreachable (test)');
  }
  return keys;
};
const stack = useStack({ stepDelayMs: 0, sealWith: keys, bridgeKeyStore: bridgeKeys });

afterAll(() => fs.rmSync(keysDir, { recursive: true, force: true }));

/** The order-placement event of `orderId` as Kafka stores it. */
async function storedEvent(orderId: string): Promise<string> {
  const message = (await readAll(stack().kafka, stack().topic)).find((m) => m.value?.includes(`"${orderId}"`));
  if (!message?.value) throw new Error(`no event of ${orderId} on ${stack().topic}`);
  return message.value;
}

/** The order the bridge started a workflow with (its memo, decoded with the app's codec). */
async function startedOrder(workflowId: string): Promise<Order> {
  const { memo } = await stack().client.workflow.getHandle(workflowId).describe();
  return memo?.order as Order;
}

/** Sends a raw event to the stack's topic, keyed as the gateway keys it. */
async function sendRaw(order: Order, value: string): Promise<void> {
  const producer = stack().kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: stack().topic, acks: -1, messages: [{ key: order.orderId, value }] });
  } finally {
    await producer.disconnect();
  }
}

test("the order's item, price, quantity and customer id are sealed on order-placement, over raw WebSocket and Socket.IO, and the bridge starts each order with its own fields", async () => {
  const viaWs = { orderId: uniqueId('sealed-ws'), item: `Walnut desk ${uniqueId('i')}`, price: 123.45, quantity: 2 };
  const viaSio = { orderId: uniqueId('sealed-sio'), item: `Brass lamp ${uniqueId('i')}`, price: 67.8, quantity: 3 };
  const customer = uniqueId('carol');
  const ws = await TestClient.connect(stack().url);
  const socket = io(`http://127.0.0.1:${stack().gateway.port}`, { transports: ['websocket'], reconnection: false });
  try {
    expect(await ws.placeOrder({ ...viaWs, customerId: customer })).toMatchObject({ event: 'orderAccepted' });
    expect(await socket.timeout(30_000).emitWithAck('placeOrder', { ...viaSio, customerId: customer })).toMatchObject({
      event: 'orderAccepted',
    });
  } finally {
    ws.ws.close();
    socket.close();
  }
  // Without a token the customer id is recorded as unverified:<id> (gateway/place-order.ts), and its key is that id's.
  const customerId = `unverified:${customer}`;
  for (const placed of [viaWs, viaSio]) {
    const value = await storedEvent(placed.orderId);
    expect(value).not.toContain(placed.item);
    expect(value).not.toContain(customer);
    expect(value).not.toContain(String(placed.price));
    const event = JSON.parse(value) as { payload: { order: Record<string, unknown> } };
    expect(Object.keys(event.payload.order).sort()).toEqual(['orderId', 'sealed']);
    expect(event.payload.order.sealed).toMatchObject({ keyId: `cust-${customerRefOf(customerId)}.v1` });

    const workflowId = workflowIdFor({ orderId: placed.orderId });
    expect(await waitForResult(stack().client, workflowId)).toMatchObject({ status: 'COMPLETED' });
    expect(await startedOrder(workflowId)).toEqual({ ...placed, customerId });
    expect(
      stack()
        .ledgerLines(placed.orderId)
        .map((e) => e.amount),
    ).toEqual([Math.round(placed.price * placed.quantity * 100) / 100]);
  }
});

test('a recorded clear ORDER_PLACED (written before sealing) and a sealed one on the same topic both start', async () => {
  const recorded = fs.readFileSync(path.join(__dirname, '../fixtures/kafka/order-placed-clear.json'), 'utf8').trim();
  const clearOrder = (JSON.parse(recorded) as { payload: { order: Order } }).payload.order;
  // The recorded order id, made this stack's own (the namespace is the run's, the ids the file's).
  const orderId = uniqueId('recorded-clear');
  await sendRaw({ ...clearOrder, orderId }, recorded.replace(clearOrder.orderId, orderId));
  const sealedOrder: Order = { orderId: uniqueId('sealed-next'), item: 'Oak shelf', price: 40, quantity: 1 };
  const sealed = await sealOrderFields(keys, sealedOrder);
  await sendRaw(sealedOrder, JSON.stringify(orderPlacedEvent(sealedOrder, uniqueId('ev'), Date.now(), sealed)));

  const clearId = workflowIdFor({ orderId });
  expect(await waitForResult(stack().client, clearId)).toMatchObject({ status: 'COMPLETED' });
  expect(await startedOrder(clearId)).toEqual({ ...clearOrder, orderId });
  const sealedId = workflowIdFor(sealedOrder);
  expect(await waitForResult(stack().client, sealedId)).toMatchObject({ status: 'COMPLETED' });
  expect(await startedOrder(sealedId)).toEqual(sealedOrder);
});

test("an erased customer's sealed order is skipped and counted as erased: not started, not dead-lettered, and the bridge goes on", async () => {
  const erasedCustomer = uniqueId('erin');
  const erased: Order = {
    orderId: uniqueId('erased'),
    item: 'Rug',
    price: 90,
    quantity: 1,
    customerId: erasedCustomer,
  };
  // Sealed while the customer's key lived, then the key destroyed (customer:erase), then read by the bridge.
  const sealed = await sealOrderFields(keys, erased);
  await keys.destroy({ kind: 'customer', ref: customerRefOf(erasedCustomer) }, 'test');
  const before = stack().bridge.stats.erased;
  await sendRaw(erased, JSON.stringify(orderPlacedEvent(erased, uniqueId('ev'), Date.now(), sealed)));
  // Another order after it, on the same partition (same key): the bridge passed the erased one.
  const next: Order = { orderId: erased.orderId.replace('erased', 'after-erased'), item: 'Mat', price: 9, quantity: 1 };
  const nextSealed = await sealOrderFields(keys, next);
  const producer = stack().kafka.producer();
  await producer.connect();
  await producer.send({
    topic: stack().topic,
    acks: -1,
    messages: [
      { key: erased.orderId, value: JSON.stringify(orderPlacedEvent(next, uniqueId('ev'), Date.now(), nextSealed)) },
    ],
  });
  await producer.disconnect();

  expect(await waitForResult(stack().client, workflowIdFor(next))).toMatchObject({ status: 'COMPLETED' });
  expect(stack().bridge.stats.erased - before).toBe(1);
  await expect(stack().client.workflow.getHandle(workflowIdFor(erased)).describe()).rejects.toThrow(/not found/i);
  const parked = await readAll(stack().kafka, stack().dlqTopic);
  expect(parked.filter((m) => m.value?.includes(erased.orderId))).toEqual([]);
});

test('a key store that cannot be read is retried with backoff until it answers: the sealed order starts, nothing is skipped', async () => {
  const order: Order = { orderId: uniqueId('unreadable'), item: 'Chair', price: 55, quantity: 1 };
  const retriesBefore = stack().bridge.stats.keyRetries;
  const erasedBefore = stack().bridge.stats.erased;
  unreadable = 3;
  const sealed = await sealOrderFields(keys, order);
  await sendRaw(order, JSON.stringify(orderPlacedEvent(order, uniqueId('ev'), Date.now(), sealed)));
  expect(await waitForResult(stack().client, workflowIdFor(order))).toMatchObject({ status: 'COMPLETED' });
  expect(await startedOrder(workflowIdFor(order))).toEqual(order);
  expect(stack().bridge.stats.keyRetries - retriesBefore).toBe(3);
  expect(stack().bridge.stats.erased).toBe(erasedBefore);
  expect(unreadable).toBe(0);
});

test("sealed fields moved into another order's event fail authentication and are dead-lettered, not started", async () => {
  const victim: Order = { orderId: uniqueId('victim'), item: 'Piano', price: 9_000, quantity: 1, customerId: 'vic' };
  const sealed = await sealOrderFields(keys, victim);
  const forged: Order = { ...victim, orderId: uniqueId('forged') };
  await sendRaw(
    forged,
    JSON.stringify(orderPlacedEvent(forged, uniqueId('ev'), Date.now(), { ...sealed, orderId: forged.orderId })),
  );
  const parked = await waitUntil(
    async () => (await readAll(stack().kafka, stack().dlqTopic)).find((m) => m.value?.includes(forged.orderId)),
    { timeoutMs: 30_000, what: 'the forged event in the DLQ' },
  );
  expect(parked.headers['dlq-reason']).toMatch(/^sealed order fields: .*fail authentication/);
  await expect(stack().client.workflow.getHandle(workflowIdFor(forged)).describe()).rejects.toThrow(/not found/i);
});
