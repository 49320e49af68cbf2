// Crypto-shredding of the Kafka copies, on real Kafka, PostgreSQL and the Temporal dev server: with
// the order fields sealed on order-placement (KAFKA_ENCRYPT_ORDER_FIELDS), the order history opens
// them with the key store; after `customer:erase` (its function, eraseCustomer) destroyed a
// customer's key, a rebuild from the topics brings back another customer's rows and none of theirs,
// and a reader that does not even know of the erasure finds nothing of theirs it can read.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { Kysely } from 'kysely';
import { erasedAt, LocalKeyStore } from '../../common/codec';
import { loadConfig } from '../../common/config';
import { workflowIdFor, type Order } from '../../common/order';
import { STATUS_SCHEMA_VERSION } from '../../common/status';
import { OrderProducer } from '../../gateway/order-producer';
import { startProjection, type ProjectionOptions } from '../../history/consumer';
import { clearHistory, migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { eraseCustomer } from '../../tools/customer/erasure';
import { appDataConverter } from '../helpers/codec';
import { createTopic, deleteTopics, readAll, testKafka } from '../helpers/kafka';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueId } from '../helpers/wait';

let kafka: Kafka;
let database: TestDatabase;
let db: Kysely<HistoryDb>;
let connection: Connection;
let client: Client;
let keysDir: string;

beforeAll(async () => {
  kafka = testKafka();
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
  const config = loadConfig();
  connection = await Connection.connect({ address: config.temporalAddress });
  client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
  keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-history-'));
});

afterAll(async () => {
  await db?.destroy();
  await database?.stop();
  await connection?.close();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

test("after customer:erase a rebuild from the sealed topics brings back another customer's rows and none of the erased customer's", async () => {
  const placementTopic = await createTopic(kafka, 'sealed-placement', 2);
  const statusTopic = await createTopic(kafka, 'sealed-status', 2);
  const keys = new LocalKeyStore({ dir: path.join(keysDir, 'keys'), kek: crypto.randomBytes(32), cacheMs: 1_000 });
  const producer = new OrderProducer(kafka, 5_000, placementTopic, { sealWith: keys });
  const statuses = kafka.producer();
  await producer.connect();
  await statuses.connect();
  try {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const ordersOf = (customerId: string): Order[] =>
      [1, 2].map((i) => ({
        orderId: uniqueId('o'),
        customerId,
        idScope: 'customer',
        item: `${customerId} item ${i}`,
        price: 10 * i,
        quantity: i,
      }));
    const aliceOrders = ordersOf(alice);
    const bobOrders = ordersOf(bob);
    // As the gateway places them (JWT mode), and as the worker reports a status of each.
    for (const o of [...aliceOrders, ...bobOrders]) {
      await producer.publish(o);
      const workflowId = workflowIdFor(o);
      const event = {
        schemaVersion: STATUS_SCHEMA_VERSION,
        orderId: o.orderId,
        workflowId,
        status: 'CHARGED',
        seq: 4,
        at: Date.now(),
      };
      await statuses.send({ topic: statusTopic, messages: [{ key: workflowId, value: JSON.stringify(event) }] });
    }
    const stored = await readAll(kafka, placementTopic);
    expect(stored).toHaveLength(4);
    for (const m of stored)
      for (const secret of [alice, bob, 'item 1', 'item 2']) expect(m.value).not.toContain(secret);

    const project = async (options: Partial<ProjectionOptions>): Promise<number> => {
      const p = await startProjection({
        kafka,
        db,
        groupId: uniqueId('history'),
        placementTopic,
        statusTopic,
        ...options,
      });
      try {
        await p.caughtUp();
        return p.erasedSkipped();
      } finally {
        await p.stop();
      }
    };
    const rows = () => db.selectFrom('orders').selectAll().orderBy('item').execute();
    const rowOf = (o: Order) => ({
      workflow_id: workflowIdFor(o),
      customer_id: o.customerId,
      item: o.item,
      status: 'CHARGED',
    });
    const tombstones = { erasedAt: (ref: string) => erasedAt(path.join(keysDir, 'keys'), ref) };

    // Live: the history opens every order with the key store.
    await clearHistory(db);
    expect(await project({ keyStore: () => keys, ...tombstones })).toBe(0);
    expect(await rows()).toEqual([...aliceOrders, ...bobOrders].map(rowOf).map((r) => expect.objectContaining(r)));

    const report = await eraseCustomer({
      client,
      keyStore: keys,
      customerId: alice,
      by: 'test',
      waitMs: 10_000,
      history: { db },
      auditFile: path.join(keysDir, 'audit.jsonl'),
      progress: () => undefined,
    });
    expect(report).toMatchObject({ historyRows: 2, tombstone: expect.objectContaining({ destroyedThrough: 1 }) });

    // The rebuild (history:rebuild's options): bob's rows come back whole, alice's placements cannot be opened.
    await clearHistory(db);
    expect(await project({ keyStore: () => keys, ...tombstones })).toBe(2);
    expect(await rows()).toEqual(bobOrders.map(rowOf).map((r) => expect.objectContaining(r)));

    // A reader of the topics that does not know of the erasure (no tombstones) reads nothing of alice's
    // but the clear status events: no item, price or customer of hers.
    await clearHistory(db);
    expect(await project({ keyStore: () => keys })).toBe(2);
    const aliceIds = new Set(aliceOrders.map((o) => workflowIdFor(o)));
    for (const r of (await rows()).filter((row) => aliceIds.has(row.workflow_id)))
      expect(r).toMatchObject({ customer_id: null, item: null, price: null, quantity: null });
    expect((await rows()).filter((r) => r.customer_id === bob)).toHaveLength(2);
  } finally {
    await producer.disconnect();
    await statuses.disconnect();
    await deleteTopics(kafka, [placementTopic, statusTopic]);
  }
});

test('a history whose key store cannot be read retries the batch and applies the sealed order once it can: never skipped', async () => {
  const placementTopic = await createTopic(kafka, 'sealed-retry', 1);
  const statusTopic = await createTopic(kafka, 'sealed-retry-status', 1);
  const keys = new LocalKeyStore({ dir: path.join(keysDir, 'retry'), kek: crypto.randomBytes(32), cacheMs: 1_000 });
  const producer = new OrderProducer(kafka, 5_000, placementTopic, { sealWith: keys });
  await producer.connect();
  try {
    const o: Order = {
      orderId: uniqueId('o'),
      customerId: uniqueId('cy'),
      idScope: 'customer',
      item: 'Tea',
      price: 4,
      quantity: 1,
    };
    await producer.publish(o);
    let unreadable = 2;
    const lines: string[] = [];
    await clearHistory(db);
    const p = await startProjection({
      kafka,
      db,
      groupId: uniqueId('history'),
      placementTopic,
      statusTopic,
      log: (line) => lines.push(line),
      keyStore: () => {
        if (unreadable > 0) {
          unreadable -= 1;
          throw new Error('key store unreachable (test)');
        }
        return keys;
      },
    });
    try {
      await p.caughtUp();
    } finally {
      await p.stop();
    }
    expect(unreadable).toBe(0);
    expect(lines.filter((l) => l.includes('sealed order not opened, batch to be retried'))).toHaveLength(2);
    expect(await db.selectFrom('orders').select(['workflow_id', 'item', 'customer_id']).execute()).toEqual([
      { workflow_id: workflowIdFor(o), item: 'Tea', customer_id: o.customerId },
    ]);
    expect(p.erasedSkipped()).toBe(0);
  } finally {
    await producer.disconnect();
    await deleteTopics(kafka, [placementTopic, statusTopic]);
  }
});
