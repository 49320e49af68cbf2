/**
 * The order history's tables in PostgreSQL (docs/DESIGN.md "Order history"): one row per order, and
 * the Kafka offsets the rows were built up to. Rows and offsets change in one transaction, so after a
 * crash at any point the history is behind the topics, never ahead of them and never wrong.
 *
 * Queries go through Kysely (typed SQL) over node-postgres; the schema is Kysely migrations, applied
 * in order and recorded in the database by Kysely's Migrator.
 */
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type Transaction } from 'kysely';
import { Pool, types } from 'pg';
import type { OrderStatus } from '../common/status';

export interface OrdersTable {
  /** The order's identity: its Temporal workflow id (common/order workflowIdFor), unique across customers. */
  workflow_id: string;
  order_id: string;
  /** Null until the order's ORDER_PLACED event is applied (a status event may be read first). */
  customer_id: string | null;
  item: string | null;
  price: number | null;
  quantity: number | null;
  status: OrderStatus;
  /** The status event the row reflects (0: only the ORDER_PLACED event). Older events are ignored. */
  seq: number;
  /** Epoch ms from the ORDER_PLACED event; null until it is applied. */
  placed_at: number | null;
  /** Epoch ms of the newest event applied. */
  updated_at: number;
}

export interface OffsetsTable {
  topic: string;
  partition: number;
  /** The next offset to read: every message below it is in the rows. */
  next_offset: string;
}

export interface HistoryDb {
  orders: OrdersTable;
  history_offsets: OffsetsTable;
}

/** The schema, oldest first; a released migration is never edited, only followed by another. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-orders': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('orders')
        .addColumn('workflow_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('item', 'text')
        .addColumn('price', 'double precision')
        .addColumn('quantity', 'integer')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('placed_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // listOrders: one customer's orders, newest first, keyset-paged on (placed_at, workflow_id).
      await db.schema
        .createIndex('orders_by_customer')
        .on('orders')
        .columns(['customer_id', 'placed_at desc', 'workflow_id desc'])
        .execute();
      await db.schema
        .createTable('history_offsets')
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('partition', 'integer', (c) => c.notNull())
        // numeric, read back as text: Kafka offsets are 64-bit and may pass 2^53.
        .addColumn('next_offset', sql`numeric(20)`, (c) => c.notNull())
        .addPrimaryKeyConstraint('history_offsets_pk', ['topic', 'partition'])
        .execute();
    },
  },
};

/** Reads bigint columns (epoch ms, well below 2^53) as numbers; every other type as node-postgres does. */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8
      ? (value: string) => Number(value)
      : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/**
 * A connection pool to the history database. A pooled connection the server drops while idle (a
 * restart, a failover) is discarded by the pool and the next query opens a new one; `onIdleError`
 * hears of it (without a listener, node-postgres would end the process).
 */
export function openHistoryDb(
  databaseUrl: string,
  maxConnections = 5,
  onIdleError: (err: Error) => void = () => {},
): Kysely<HistoryDb> {
  const pool = new Pool({ connectionString: databaseUrl, max: maxConnections, types: typeParsers });
  pool.on('error', onIdleError);
  return new Kysely<HistoryDb>({ dialect: new PostgresDialect({ pool }) });
}

/** Does the database at `url` take a connection and a query within a second or two? */
export async function databaseAnswers(url: string): Promise<boolean> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 2_000 });
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** Brings the schema up to date; refuses to run against a database migrated by a newer release. */
export async function migrate(db: Kysely<HistoryDb>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableName: 'history_migrations',
    migrationLockTableName: 'history_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `order history schema migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Where the history stands on each partition it has read (a missing partition: nothing read yet). */
export async function readOffsets(db: Kysely<HistoryDb> | Transaction<HistoryDb>): Promise<Map<string, bigint>> {
  const rows = await db.selectFrom('history_offsets').selectAll().execute();
  return new Map(rows.map((r) => [offsetKey(r.topic, r.partition), BigInt(r.next_offset)]));
}

export const offsetKey = (topic: string, partition: number): string => `${topic}/${partition}`;

export async function saveOffset(
  tx: Transaction<HistoryDb>,
  topic: string,
  partition: number,
  nextOffset: bigint,
): Promise<void> {
  await tx
    .insertInto('history_offsets')
    .values({ topic, partition, next_offset: nextOffset.toString() })
    .onConflict((oc) =>
      oc.columns(['topic', 'partition']).doUpdateSet({
        // Never backwards: a late batch of an older generation cannot rewind the history.
        next_offset: sql`greatest(history_offsets.next_offset, excluded.next_offset)`,
      }),
    )
    .execute();
}

/** Empties the history (rows and offsets) in one transaction: the next run reads the topics from their start. */
export async function clearHistory(db: Kysely<HistoryDb>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('orders').execute();
    await tx.deleteFrom('history_offsets').execute();
  });
}
