// A customer's orders from placement to "my orders", on the whole pipeline (real Kafka, Temporal dev
// server, worker, the history's projection on a real PostgreSQL), JWT mode: three orders placed over
// raw WebSocket and two over Socket.IO, one amended before payment and one cancelled while it is
// charged; listOrders on another gateway shows exactly those five with their final states and the
// amended values, the payment ledger holds the amended amount charged once and the cancelled order
// refunded once, and another customer's list is empty on both transports.
import type { Kysely } from 'kysely';
import { io, type Socket } from 'socket.io-client';
import { workflowIdFor } from '../../common/order';
import { FINAL_STATUSES } from '../../common/status';
import { jwtAuth } from '../../gateway/auth';
import type { OrderHistory } from '../../gateway/list-orders';
import { startGateway, type Gateway } from '../../gateway/server';
import { startProjection, type Projection } from '../../history/consumer';
import { listOrders } from '../../history/list';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { holdOrderAt, startStack, type Stack } from '../helpers/in-process-pipeline';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId, waitUntil } from '../helpers/wait';
import { type Frame, TestClient } from '../helpers/ws-client';

let database: TestDatabase;
let db: Kysely<HistoryDb>;
let projection: Projection;
let stack: Stack;
let otherGateway: Gateway;
const closers: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
  const history: OrderHistory = { list: (customerId, options) => listOrders(db, customerId, options) };
  const auth = jwtAuth({ secret: TEST_JWT_SECRET });
  stack = await startStack({ stepDelayMs: 300, gateway: { auth, history } });
  projection = await startProjection({
    kafka: stack.kafka,
    db,
    groupId: uniqueId('history'),
    placementTopic: stack.topic,
    statusTopic: stack.statusTopic,
  });
  // A second gateway that only reads: it places nothing, so its producer is never asked.
  otherGateway = await startGateway({
    port: 0,
    producer: { publish: () => Promise.reject(new Error('this gateway places no order')) },
    auth,
    history,
    log: () => undefined,
  });
});

afterAll(async () => {
  for (const close of closers) await close();
  await otherGateway?.close();
  await projection?.stop();
  await stack?.stop();
  await db?.destroy();
  await database?.stop();
});

async function wsAs(port: number, customerId: string): Promise<TestClient> {
  const c = await TestClient.connect(`ws://127.0.0.1:${port}`, { token: await customerToken(customerId) });
  closers.push(() => c.close());
  return c;
}

async function socketAs(port: number, customerId: string): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: await customerToken(customerId) },
  });
  closers.push(() => void socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends a request over raw WebSocket and waits for its answer (one of `answers`, or an error) about `orderId`. */
async function wsAsk(c: TestClient, event: string, data: Record<string, unknown>, answers: string[]): Promise<Frame> {
  const before = c.received.length;
  c.send({ event, data });
  return c.waitFor(
    (f) =>
      c.received.indexOf(f) >= before &&
      (answers.includes(f.event) || f.event === 'error') &&
      f.data.orderId === data.orderId,
    60_000,
  );
}

const sioAsk = async (s: Socket, event: string, data: Record<string, unknown>): Promise<Frame> =>
  (await s.timeout(60_000).emitWithAck(event, data)) as Frame;

async function wsList(c: TestClient): Promise<Frame> {
  const before = c.received.length;
  c.send({ event: 'listOrders', data: {} });
  return c.waitFor((f) => c.received.indexOf(f) >= before && (f.event === 'orders' || f.event === 'error'));
}

/** Resolves once the workflow has accepted `count` updates (read from its history). */
async function updatesAccepted(workflowId: string, count: number): Promise<void> {
  await waitUntil(
    async () => {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length >= count;
    },
    { timeoutMs: 30_000, what: `${count} update(s) of ${workflowId} to be accepted` },
  );
}

interface Row {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
  status: string;
}

const ledger = (orderId: string): Array<[string, number]> => stack.ledgerLines(orderId).map((e) => [e.kind, e.amount]);

test('five orders over both transports, one amended and one cancelled: another gateway lists exactly those five, final; the ledger agrees; another customer sees none', async () => {
  const port = stack.gateway.port;
  const ws = await wsAs(port, 'alice');
  const sio = await socketAs(port, 'alice');
  const [w1, w2, w3, s1, s2] = ['w1', 'w2', 'w3', 's1', 's2'].map((tag) => uniqueId(`life-${tag}`));
  const amendedHeld = holdOrderAt(stack, 'validate', w2);
  const cancelHeld = holdOrderAt(stack, 'charge', s2);

  for (const [orderId, item, price] of [
    [w1, 'Keyboard', 150],
    [w2, 'Mouse', 20],
    [w3, 'Cable', 5],
  ] as const) {
    expect((await wsAsk(ws, 'placeOrder', { orderId, item, price }, ['orderAccepted'])).event).toBe('orderAccepted');
  }
  for (const [orderId, item, price] of [
    [s1, 'Desk', 300],
    [s2, 'Lamp', 40],
  ] as const) {
    expect((await sioAsk(sio, 'placeOrder', { orderId, item, price })).event).toBe('orderAccepted');
  }

  // Amended while it is being validated (the amendment waits for the validation), before payment.
  await amendedHeld.reached;
  const amendment = wsAsk(ws, 'amendOrder', { orderId: w2, amendmentId: 'two-mice', quantity: 2, price: 22 }, [
    'orderAmended',
  ]);
  await updatesAccepted(workflowIdFor({ orderId: w2, customerId: 'alice', idScope: 'customer' }), 1);
  amendedHeld.open();
  expect(await amendment).toEqual({
    event: 'orderAmended',
    data: { orderId: w2, amendmentId: 'two-mice', item: 'Mouse', price: 22, quantity: 2 },
  });

  // Cancelled over Socket.IO while its charge is held at the payment provider.
  await cancelHeld.reached;
  const cancelled = sioAsk(sio, 'cancelOrder', { orderId: s2 });
  await updatesAccepted(workflowIdFor({ orderId: s2, customerId: 'alice', idScope: 'customer' }), 1);
  cancelHeld.open();
  expect(await cancelled).toEqual({ event: 'orderCancelled', data: { orderId: s2 } });

  // On the other gateway, once every row is final: exactly the five, with their final values (their
  // order, newest first, is list-orders.test.ts's; orders placed within one millisecond may tie here).
  const reader = await wsAs(otherGateway.port, 'alice');
  const page = await waitUntil(
    async () => {
      const frame = await wsList(reader);
      const rows = frame.data.orders as Row[] | undefined;
      const done = rows?.length === 5 && rows.every((r) => (FINAL_STATUSES as readonly string[]).includes(r.status));
      return done ? frame : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "alice's five orders to be final in her list" },
  );
  const rows = page.data.orders as Row[];
  const byId = (a: unknown[], b: unknown[]): number => String(a[0]).localeCompare(String(b[0]));
  expect(rows.map((r) => [r.orderId, r.item, r.price, r.quantity, r.status]).sort(byId)).toEqual(
    [
      [s2, 'Lamp', 40, 1, 'CANCELLED'],
      [s1, 'Desk', 300, 1, 'COMPLETED'],
      [w3, 'Cable', 5, 1, 'COMPLETED'],
      [w2, 'Mouse', 22, 2, 'COMPLETED'],
      [w1, 'Keyboard', 150, 1, 'COMPLETED'],
    ].sort(byId),
  );
  expect(page.data.cursor).toBeUndefined();

  // The ledger: the amended amount charged once; the cancelled order charged and refunded once.
  expect(ledger(w2)).toEqual([['charge', 44]]);
  expect(ledger(s2)).toEqual([
    ['charge', 40],
    ['refund', 40],
  ]);
  expect(ledger(w1)).toEqual([['charge', 150]]);

  // Another customer's list is an empty page on both transports.
  const empty = { event: 'orders', data: { orders: [] } };
  expect(await wsList(await wsAs(otherGateway.port, 'bob'))).toEqual(empty);
  expect(await sioAsk(await socketAs(otherGateway.port, 'bob'), 'listOrders', {})).toEqual(empty);
});
