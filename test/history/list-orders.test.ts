// listOrders over both transports on real Kafka and a real PostgreSQL, with no bridge and no
// Temporal at all: an order the gateway accepted is in its customer's list as soon as the history
// read it from Kafka, on another gateway too; another customer's orders never appear; the CLI's
// `list` prints the same page.
import type { Kysely } from 'kysely';
import { io, type Socket } from 'socket.io-client';
import { runCli } from '../../cli/flags';
import type { Output } from '../../cli/format';
import { jwtAuth } from '../../gateway/auth';
import type { OrderHistory } from '../../gateway/list-orders';
import type { Gateway } from '../../gateway/server';
import { startProjection, type Projection } from '../../history/consumer';
import { listOrders } from '../../history/list';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { useGatewayFixture } from '../helpers/gateway';
import { createTopic, deleteTopics } from '../helpers/kafka';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId, waitUntil } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';

const fixture = useGatewayFixture('list-orders');
let database: TestDatabase;
let db: Kysely<HistoryDb>;
let statusTopic: string;
let projection: Projection;
let history: OrderHistory;
let gatewayA: Gateway;
let gatewayB: Gateway;
const clients: TestClient[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
  statusTopic = await createTopic(fixture.kafka, 'list-orders-status');
  projection = await startProjection({
    kafka: fixture.kafka,
    db,
    groupId: uniqueId('history'),
    placementTopic: fixture.topic(),
    statusTopic,
  });
  history = { list: (customerId, options) => listOrders(db, customerId, options) };
  const auth = jwtAuth({ secret: TEST_JWT_SECRET });
  gatewayA = await fixture.start({ auth, history });
  gatewayB = await fixture.start({ auth, history });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of sockets) s.disconnect();
  await projection?.stop();
  await deleteTopics(fixture.kafka, [statusTopic]);
  await db?.destroy();
  await database?.stop();
});

async function wsAs(gateway: Gateway, customerId: string): Promise<TestClient> {
  const c = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`, { token: await customerToken(customerId) });
  clients.push(c);
  return c;
}

async function socketAs(gateway: Gateway, customerId: string): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${gateway.port}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: await customerToken(customerId) },
  });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** listOrders over raw WebSocket: the next `orders` or `error` frame. */
async function wsList(c: TestClient, data: Record<string, unknown> = {}): Promise<Frame> {
  const before = c.received.length;
  c.send({ event: 'listOrders', data });
  return c.waitFor((f) => c.received.indexOf(f) >= before && (f.event === 'orders' || f.event === 'error'));
}

const socketList = (s: Socket, data: Record<string, unknown> = {}): Promise<Frame> =>
  s.timeout(10_000).emitWithAck('listOrders', data) as Promise<Frame>;

const idsOf = (frame: Frame): string[] => (frame.data.orders as Array<{ orderId: string }>).map((o) => o.orderId);

test("a customer's orders placed over both transports are listed on another gateway, newest first; another customer sees an empty page", async () => {
  const aliceWs = await wsAs(gatewayA, 'alice');
  const aliceIo = await socketAs(gatewayA, 'alice');
  const ids = [uniqueId('ws'), uniqueId('ws'), uniqueId('io')];
  expect((await aliceWs.placeOrder({ orderId: ids[0], item: 'Keyboard', price: 150 })).event).toBe('orderAccepted');
  expect((await aliceWs.placeOrder({ orderId: ids[1], item: 'Mouse', price: 20, quantity: 2 })).event).toBe(
    'orderAccepted',
  );
  const ack = (await aliceIo
    .timeout(10_000)
    .emitWithAck('placeOrder', { orderId: ids[2], item: 'Desk', price: 300 })) as Frame;
  expect(ack.event).toBe('orderAccepted');

  // Read on the other gateway, over each transport: the three orders, newest first, ACCEPTED (no bridge runs).
  const onB = await wsAs(gatewayB, 'alice');
  const listed = await waitUntil(async () => {
    const page = await wsList(onB);
    return idsOf(page).length === 3 ? page : undefined;
  });
  expect(idsOf(listed)).toEqual([...ids].reverse());
  expect(listed.data.orders).toContainEqual(
    expect.objectContaining({ orderId: ids[1], item: 'Mouse', price: 20, quantity: 2, status: 'ACCEPTED', seq: 0 }),
  );
  const overIo = await socketList(await socketAs(gatewayB, 'alice'));
  expect(overIo).toEqual(listed);

  // bob placed nothing; alice's ids are not his. His page looks like any empty page, on both transports.
  const bobEmpty = { event: 'orders', data: { orders: [] } };
  expect(await wsList(await wsAs(gatewayB, 'bob'))).toEqual(bobEmpty);
  expect(await socketList(await socketAs(gatewayA, 'bob'))).toEqual(bobEmpty);

  // Filters and pages: open holds all three (nothing finished), finished none, limit 2 gives a cursor to the third.
  expect(idsOf(await wsList(onB, { status: 'finished' }))).toEqual([]);
  expect(idsOf(await wsList(onB, { status: 'open' }))).toHaveLength(3);
  const first = await wsList(onB, { limit: 2 });
  expect(idsOf(first)).toEqual([ids[2], ids[1]]);
  const second = await wsList(onB, { limit: 2, cursor: first.data.cursor });
  expect(idsOf(second)).toEqual([ids[0]]);
  expect(second.data.cursor).toBeUndefined();
});

test('in JWT mode a customerId in listOrders is refused (the token names the customer), on both transports; a bad cursor is a clear error', async () => {
  const c = await wsAs(gatewayA, 'carol');
  const refused = await wsList(c, { customerId: 'alice' });
  expect(refused.data).toMatchObject({ code: 'CUSTOMER_ID_NOT_ALLOWED', field: 'customerId' });
  const s = await socketAs(gatewayA, 'carol');
  expect((await socketList(s, { customerId: 'alice' })).data).toMatchObject({ code: 'CUSTOMER_ID_NOT_ALLOWED' });
  expect((await wsList(c, { cursor: 'not-one-of-ours' })).data).toMatchObject({
    code: 'INVALID_REQUEST',
    field: 'cursor',
  });
  expect((await socketList(s, { limit: 51 })).data).toMatchObject({ code: 'INVALID_REQUEST', field: 'limit' });
});

test('a history database that does not answer: listOrders answers HISTORY_UNAVAILABLE (retryable) and placing orders still works', async () => {
  const down = openHistoryDb('postgresql://nobody@127.0.0.1:1/none');
  const gateway = await fixture.start({
    auth: jwtAuth({ secret: TEST_JWT_SECRET }),
    history: { list: (customerId, options) => listOrders(down, customerId, options) },
  });
  try {
    const c = await wsAs(gateway, 'dave');
    expect((await wsList(c)).data).toMatchObject({ code: 'HISTORY_UNAVAILABLE' });
    expect((await c.placeOrder({ orderId: uniqueId('dave'), item: 'Lamp', price: 30 })).event).toBe('orderAccepted');
  } finally {
    await down.destroy();
  }
});

test("the CLI's list prints the caller's page, and its JSON", async () => {
  const lines: string[] = [];
  const output: Output = { out: (l) => lines.push(l), err: (l) => lines.push(l) };
  const url = `ws://127.0.0.1:${gatewayA.port}`;
  const token = await customerToken('alice');
  expect(await runCli(['list', '--url', url, '--token', token, '--limit', '2'], output)).toBe(0);
  expect(lines[0]).toMatch(/^ORDER\s+STATUS\s+ITEM/);
  expect(lines).toHaveLength(4); // header, two orders, the next page
  expect(lines[3]).toMatch(/^next page: npm run order -- list --cursor \S+$/);
  lines.length = 0;
  expect(await runCli(['list', '--url', url, '--token', token, '--json'], output)).toBe(0);
  const page = JSON.parse(lines.join('\n')) as { orders: Array<{ status: string }> };
  expect(page.orders).toHaveLength(3);
  lines.length = 0;
  expect(await runCli(['list', '--url', url, '--token', token, '--limit', '99'], output)).toBe(2);
  expect(lines.join('\n')).toMatch(/--limit.*from 1 to 50/);
});
