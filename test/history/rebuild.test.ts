// The order history's defaults and its rebuild, on real servers: the launcher's PostgreSQL from the
// pinned npm package (what `npm start` runs when DATABASE_URL is unset) takes the schema, and
// `npm run history:rebuild` (a child process, as a developer runs it) empties the history and
// reads the app's topics again to the same rows the live reader made.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { keyStoreOpener } from '../../common/codec';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { orderPlacedEvent, workflowIdFor, kafkaKeyOf, type Order } from '../../common/order';
import { TOPICS } from '../../common/names';
import { STATUS_SCHEMA_VERSION } from '../../common/status';
import { startProjection } from '../../history/consumer';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { historyDbUrlOf, startHistoryDb } from '../../tools/infra/history-db-server';
import { freePort } from '../../tools/infra/proc';
import { ownedPid, stopServer } from '../../tools/infra/server-process';
import { stackOptions } from '../../tools/infra/stack-options';
import { testKafka } from '../helpers/kafka';
import { testDatabase } from '../helpers/postgres';
import { uniqueId } from '../helpers/wait';

const run = promisify(execFile);

test("the launcher's own PostgreSQL (the pinned npm package) starts on a fresh data directory (a mkdtemp one, mode 700), takes the history's schema, and stops", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-history-db-'));
  const stack = stackOptions({ dataDir: dir, ports: { historyDb: await freePort() } });
  try {
    const pid = await startHistoryDb(stack, () => undefined);
    expect(ownedPid('history-db', stack)).toBe(pid);
    const db = openHistoryDb(historyDbUrlOf(stack));
    try {
      await migrate(db);
      await migrate(db); // a second run finds nothing to do
      const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
      expect(rows[0].server_version).toMatch(/^17\./);
      expect(await db.selectFrom('orders').selectAll().execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
  } finally {
    await stopServer('history-db', stack, { log: () => undefined });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(ownedPid('history-db', stack)).toBeUndefined();
});

test('history:rebuild empties the history and reads the topics again to the same rows', async () => {
  const kafka = testKafka();
  const producer = kafka.producer();
  await producer.connect();
  const database = await testDatabase();
  const db: Kysely<HistoryDb> = openHistoryDb(database.url);
  try {
    await migrate(db);
    // A few orders of this test on the app's topics (beside whatever earlier tests of this lane left there).
    const ours = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const order: Order = {
        orderId: uniqueId('rebuild'),
        customerId: 'rita',
        idScope: 'customer',
        item: 'Cable',
        price: 5 + i,
        quantity: 1,
      };
      const workflowId = workflowIdFor(order);
      ours.add(workflowId);
      const key = kafkaKeyOf(workflowId);
      await producer.send({
        topic: TOPICS.orderPlacement,
        messages: [{ key, value: JSON.stringify(orderPlacedEvent(order, uniqueId('ev'), Date.now())) }],
      });
      const status = {
        schemaVersion: STATUS_SCHEMA_VERSION,
        orderId: order.orderId,
        workflowId,
        status: 'REJECTED',
        seq: 2,
        at: Date.now(),
      };
      await producer.send({ topic: TOPICS.orderStatus, messages: [{ key, value: JSON.stringify(status) }] });
    }
    // Configured as history/main.ts configures it: the app's topics may hold sealed orders (a bench
    // run with KAFKA_ENCRYPT_ORDER_FIELDS), which it opens with the same key store.
    const live = await startProjection({
      kafka,
      db,
      groupId: uniqueId('order-history-test'),
      keyStore: keyStoreOpener(loadConfig().payloadEncryption),
    });
    await live.caughtUp();
    await live.stop();
    const rowsOf = () => db.selectFrom('orders').selectAll().orderBy('workflow_id').execute();
    const before = await rowsOf();
    // This test's five (the app's topics keep earlier runs' orders of the same customer when the servers are reused).
    expect(before.filter((r) => ours.has(r.workflow_id) && r.customer_id === 'rita')).toHaveLength(5);
    // Something the topics do not say: the rebuild must drop it.
    await db.updateTable('orders').set({ status: 'COMPLETED' }).where('customer_id', '=', 'rita').execute();

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'history/rebuild.ts', '--timeout', '120'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: database.url },
    });
    expect(stdout).toMatch(/order history rebuilt: \d+ orders/);
    expect(await rowsOf()).toEqual(before);
  } finally {
    await producer.disconnect();
    await db.destroy();
    await database.stop();
  }
});
