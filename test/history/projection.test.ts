// The order history against real Kafka and a real PostgreSQL: what the projection keeps of each
// order, that a crash leaves it behind and never wrong, that reading a batch again changes nothing,
// and that a rebuild from the topics reaches the same rows.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaJSNonRetriableError, type Kafka, type Producer } from 'kafkajs';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { erasedAt, LocalKeyStore } from '../../common/codec';
import { customerRefOf, orderPlacedEvent, workflowIdFor, type Order } from '../../common/order';
import { STATUS_SCHEMA_VERSION, type OrderStatus } from '../../common/status';
import { startProjection, type Projection } from '../../history/consumer';
import { listOrders } from '../../history/list';
import { clearHistory, migrate, openHistoryDb, readOffsets, type HistoryDb } from '../../history/store';
import { createTopic, deleteTopics, testKafka } from '../helpers/kafka';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueId, waitUntil } from '../helpers/wait';

let kafka: Kafka;
let producer: Producer;
let database: TestDatabase;
let db: Kysely<HistoryDb>;
let placementTopic: string;
let statusTopic: string;
const running: Projection[] = [];

beforeAll(async () => {
  kafka = testKafka();
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
});

beforeEach(async () => {
  placementTopic = await createTopic(kafka, 'history-placement', 2);
  statusTopic = await createTopic(kafka, 'history-status', 2);
  // A producer per test: one made before the topics existed may hold metadata without them.
  producer = kafka.producer();
  await producer.connect();
  await clearHistory(db);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  await producer.disconnect();
  await deleteTopics(kafka, [placementTopic, statusTopic]);
});

afterAll(async () => {
  await db?.destroy();
  await database?.stop();
});

async function project(log?: (line: string) => void): Promise<Projection> {
  const p = await startProjection({ kafka, db, groupId: uniqueId('history'), placementTopic, statusTopic, log });
  running.push(p);
  return p;
}

function order(orderId: string, customerId: string, price = 10): Order {
  return { orderId, customerId, idScope: 'customer', item: `item ${orderId}`, price, quantity: 1 };
}

async function place(o: Order, at: number, partition?: number): Promise<void> {
  const workflowId = workflowIdFor(o);
  await producer.send({
    topic: placementTopic,
    messages: [{ key: workflowId, partition, value: JSON.stringify(orderPlacedEvent(o, uniqueId('ev'), at)) }],
  });
}

async function status(
  o: Order,
  s: OrderStatus,
  seq: number,
  at: number,
  values?: { item: string; price: number; quantity: number },
): Promise<void> {
  const workflowId = workflowIdFor(o);
  const event = {
    schemaVersion: STATUS_SCHEMA_VERSION,
    orderId: o.orderId,
    workflowId,
    status: s,
    seq,
    at,
    order: values,
  };
  await producer.send({ topic: statusTopic, messages: [{ key: workflowId, value: JSON.stringify(event) }] });
}

async function rows(): Promise<unknown[]> {
  return db.selectFrom('orders').selectAll().orderBy('workflow_id').execute();
}

test('each order is one row of its customer with the newest status; an older or repeated status event changes nothing', async () => {
  const alice101 = order('#101', 'alice', 150);
  const bob101 = order('#101', 'bob', 20);
  await place(alice101, 1_000);
  await place(bob101, 2_000);
  await status(alice101, 'ACCEPTED', 1, 1_100);
  await status(alice101, 'VALIDATING', 2, 1_200);
  await status(alice101, 'CHARGING', 4, 1_400);
  await status(alice101, 'VALIDATED', 3, 1_300); // late: seq 3 < 4
  await status(alice101, 'VALIDATING', 2, 1_200); // repeated
  const p = await project();
  await p.caughtUp();

  const alice = await listOrders(db, 'alice');
  expect(alice.orders).toEqual([
    {
      orderId: '#101',
      item: 'item #101',
      price: 150,
      quantity: 1,
      status: 'CHARGING',
      seq: 4,
      placedAt: 1_000,
      updatedAt: 1_400,
    },
  ]);
  const bob = await listOrders(db, 'bob');
  expect(bob.orders.map((o) => [o.orderId, o.price, o.status])).toEqual([['#101', 20, 'ACCEPTED']]);
  expect((await listOrders(db, 'carol')).orders).toEqual([]);
});

test('a status event read before its placement is kept, and the placement fills in the order without moving its status back', async () => {
  const o = order('#7', 'alice');
  await status(o, 'VALIDATING', 2, 5_100);
  let p = await project();
  await p.caughtUp();
  expect((await listOrders(db, 'alice')).orders).toEqual([]); // no customer known yet
  await p.stop();
  running.splice(0);

  await place(o, 5_000);
  p = await project();
  await p.caughtUp();
  expect((await listOrders(db, 'alice')).orders.map((r) => [r.orderId, r.status, r.seq, r.placedAt])).toEqual([
    ['#7', 'VALIDATING', 2, 5_000],
  ]);
});

test("an AMENDED event's values become the order's; an older amendment read late changes nothing", async () => {
  const o = order('#8', 'alice', 40);
  await place(o, 6_000);
  await status(o, 'VALIDATED', 3, 6_300);
  await status(o, 'AMENDED', 4, 6_400, { item: 'Desk', price: 300, quantity: 2 });
  await status(o, 'AMENDED', 5, 6_500, { item: 'Desk', price: 280, quantity: 2 });
  await status(o, 'AMENDED', 4, 6_400, { item: 'Desk', price: 300, quantity: 2 }); // repeated, older
  const p = await project();
  await p.caughtUp();
  expect((await listOrders(db, 'alice')).orders.map((r) => [r.item, r.price, r.quantity, r.status, r.seq])).toEqual([
    ['Desk', 280, 2, 'AMENDED', 5],
  ]);
});

test('a consumer kafkajs gives up on (a commit refused for good) is started again, and what it read again changes nothing', async () => {
  let refused = 0;
  const faulty = Object.create(kafka) as Kafka;
  faulty.consumer = (cfg) => {
    const consumer = kafka.consumer(cfg);
    const commit = consumer.commitOffsets.bind(consumer);
    consumer.commitOffsets = async (offsets) => {
      if (refused === 0) {
        refused += 1;
        throw new KafkaJSNonRetriableError('The coordinator is not aware of this member (injected by the test)');
      }
      return commit(offsets);
    };
    return consumer;
  };
  const lines: string[] = [];
  const p = await startProjection({
    kafka: faulty,
    db,
    groupId: uniqueId('history'),
    placementTopic,
    statusTopic,
    restartBackoff: { initialMs: 50, maxMs: 200 },
    log: (line) => lines.push(line),
  });
  running.push(p);
  const first = order('#20', 'alice');
  await place(first, 7_000);
  // The first batch is applied, then its Kafka commit is refused and the consumer crashes for good.
  await waitUntil(() => (p.restarts() >= 1 ? true : undefined), { what: 'the consumer to be started again' });
  const second = order('#21', 'alice');
  await place(second, 7_100);
  await status(first, 'VALIDATING', 2, 7_200);
  await p.caughtUp();
  expect(refused).toBe(1);
  expect((await listOrders(db, 'alice')).orders.map((r) => [r.orderId, r.status])).toEqual([
    ['#21', 'ACCEPTED'],
    ['#20', 'VALIDATING'],
  ]);
  expect(lines.some((l) => l.includes('started again after the crash'))).toBe(true);
});

test('a batch that fails half-way leaves neither its rows nor its offset; the next run applies it whole', async () => {
  const ok = order('#ok', 'alice');
  const boom = order('#boom', 'alice');
  await place(ok, 1_000, 0);
  await place(boom, 2_000, 0);
  // A crash inside the transaction after #ok's row was written: PostgreSQL refuses #boom's row.
  await sql`create function refuse_boom() returns trigger language plpgsql as $$
    begin if new.order_id = '#boom' then raise exception 'injected crash'; end if; return new; end $$`.execute(db);
  await sql`create trigger refuse_boom before insert on orders for each row execute function refuse_boom()`.execute(db);
  try {
    const failures: string[] = [];
    const p = await project((line) => failures.push(line));
    await waitUntil(() => failures.some((f) => f.includes('injected crash')), { timeoutMs: 30_000 });
    expect(await rows()).toEqual([]);
    expect((await readOffsets(db)).has(`${placementTopic}/0`)).toBe(false);
    await p.stop();
    running.splice(0);
  } finally {
    await sql`drop trigger refuse_boom on orders`.execute(db);
    await sql`drop function refuse_boom()`.execute(db);
  }
  const p = await project();
  await p.caughtUp();
  expect((await listOrders(db, 'alice')).orders.map((r) => r.orderId).sort()).toEqual(['#boom', '#ok']);
  expect((await readOffsets(db)).get(`${placementTopic}/0`)).toBe(2n);
});

test('reading the topics again (a rebuild from an empty history) reaches the same rows; a second pass changes nothing', async () => {
  for (let i = 0; i < 30; i++) {
    const o = order(`#${i}`, i % 2 ? 'alice' : 'bob', i + 1);
    await place(o, 10_000 + i);
    await status(o, 'ACCEPTED', 1, 10_100 + i);
    if (i % 3 === 0) await status(o, 'COMPLETED', 8, 10_200 + i);
  }
  let p = await project();
  await p.caughtUp();
  const first = await rows();
  expect(first).toHaveLength(30);
  await p.stop();
  running.splice(0);

  // The same messages applied again over the rows (offsets forgotten, rows kept): nothing changes.
  await db.deleteFrom('history_offsets').execute();
  p = await project();
  await p.caughtUp();
  expect(await rows()).toEqual(first);
  await p.stop();
  running.splice(0);

  await clearHistory(db);
  expect(await rows()).toEqual([]);
  p = await project();
  await p.caughtUp();
  expect(await rows()).toEqual(first);
});

test('pages: newest first, at most 50, a cursor to the next page, and open / finished filters', async () => {
  const values = Array.from({ length: 60 }, (_, i) => ({
    workflow_id: `order-#${i}@alice-x`,
    order_id: `#${i}`,
    customer_id: 'alice',
    item: 'x',
    price: 1,
    quantity: 1,
    status: (i % 4 === 0 ? 'COMPLETED' : 'CHARGING') as OrderStatus,
    seq: 4,
    placed_at: 1_000 + Math.floor(i / 2), // pairs share a time: the cursor must tell them apart
    updated_at: 2_000,
  }));
  await db.insertInto('orders').values(values).execute();
  const first = await listOrders(db, 'alice');
  expect(first.orders).toHaveLength(50);
  expect(first.cursor).toBeDefined();
  const second = await listOrders(db, 'alice', { cursor: first.cursor });
  expect(second.orders).toHaveLength(10);
  expect(second.cursor).toBeUndefined();
  const all = [...first.orders, ...second.orders];
  expect(new Set(all.map((o) => o.orderId)).size).toBe(60);
  const times = all.map((o) => o.placedAt);
  expect(times).toEqual([...times].sort((a, b) => b - a));
  expect((await listOrders(db, 'alice', { filter: 'finished' })).orders).toHaveLength(15);
  expect((await listOrders(db, 'alice', { filter: 'open' })).orders).toHaveLength(45);
  await expect(listOrders(db, 'alice', { cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
});

test("an erased customer's orders from before the erasure are not applied (a rebuild does not bring them back); theirs after it, and others', are", async () => {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
  try {
    const keys = new LocalKeyStore({ dir: keysDir, kek: crypto.randomBytes(32), cacheMs: 1_000 });
    const erasedId = uniqueId('erased');
    const before = order(uniqueId('o'), erasedId);
    const other = order(uniqueId('o'), uniqueId('kept'));
    await place(before, 1_000);
    await status(before, 'VALIDATED', 1, 1_100);
    await place(other, 1_000);
    await keys.destroy({ kind: 'customer', ref: customerRefOf(erasedId) }, 'test');
    const after = order(uniqueId('o'), erasedId);
    await place(after, Date.now() + 60_000);
    const p = await startProjection({
      kafka,
      db,
      groupId: uniqueId('history'),
      placementTopic,
      statusTopic,
      erasedAt: (ref) => erasedAt(keysDir, ref),
    });
    running.push(p);
    await p.caughtUp();
    const ids = (await db.selectFrom('orders').select('workflow_id').execute()).map((r) => r.workflow_id).sort();
    expect(ids).toEqual([workflowIdFor(other), workflowIdFor(after)].sort());
  } finally {
    fs.rmSync(keysDir, { recursive: true, force: true });
  }
});
