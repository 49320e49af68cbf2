/**
 * The order history's reader: consumes order-placement and order-status and applies each batch to
 * PostgreSQL in one transaction together with the offset it reached (history/store.ts). The offsets in
 * the database are the truth: on each assignment the consumer seeks to them, and a message below them
 * (read again after a crash between the database commit and Kafka's) is skipped. Kafka's own group
 * offsets are committed after the database's, only so that lag shows in Kafka's tools.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Kysely } from 'kysely';
import type { Backoff } from '../common/backoff';
import { restartOnCrash } from '../common/consumer-restart';
import type { KeyStore } from '../common/codec';
import { customerRefOf, customerRefOfWorkflowId } from '../common/order';
import { TOPICS } from '../common/names';
import { applyFact, placedFactOf, statusFactOf, type Fact } from './projection';
import { offsetKey, readOffsets, saveOffset, type HistoryDb } from './store';

export interface ProjectionOptions {
  kafka: Kafka;
  db: Kysely<HistoryDb>;
  groupId: string;
  /** The topics read; the defaults are the app's. */
  placementTopic?: string;
  statusTopic?: string;
  log?: (message: string) => void;
  /** Waits between attempts to start the consumer again after a crash kafkajs does not recover from. */
  restartBackoff?: Backoff;
  /**
   * When the customer a reference names was erased (`customer:erase`), epoch ms; undefined if never.
   * Facts of an erased customer from before the erasure are not applied, so a rebuild from the
   * topics, which still carry their orders, does not bring their rows back.
   */
  erasedAt?: (customerRef: string) => Promise<number | undefined>;
  /**
   * The key store sealed orders (KAFKA_ENCRYPT_ORDER_FIELDS) are opened with (common/codec
   * keyStoreOpener). Absent, or unreadable: the batch holding a sealed order is retried, never skipped.
   */
  keyStore?: () => KeyStore;
}

export interface Projection {
  /** True from the consumer's joining its group until it stops or crashes (a restart joins again): its readiness. */
  inGroup(): boolean;
  /** Times the consumer was started again after kafkajs gave up on it. */
  restarts(): number;
  /** Resolves once every partition is applied up to the high watermarks seen when called. */
  caughtUp(): Promise<void>;
  /** Sealed orders not applied because their customer was erased (key destroyed), since start. */
  erasedSkipped(): number;
  stop(): Promise<void>;
}

/** Starts the reader; it runs until stop(). */
export async function startProjection(options: ProjectionOptions): Promise<Projection> {
  const placementTopic = options.placementTopic ?? TOPICS.orderPlacement;
  const statusTopic = options.statusTopic ?? TOPICS.orderStatus;
  const log = options.log ?? (() => {});
  const { kafka, db } = options;
  const keyStore =
    options.keyStore ??
    ((): KeyStore => {
      throw new Error('the order history has no key store for sealed orders (PAYLOAD_ENCRYPTION and PAYLOAD_KEK)');
    });
  let erasedSkipped = 0;
  const reached = await readOffsets(db);
  const backoff = options.restartBackoff ?? { initialMs: 200, maxMs: 10_000 };
  const consumer: Consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 200 });

  const admin = kafka.admin();
  await admin.connect();
  const earliest = async (topic: string): Promise<Map<number, string>> =>
    new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.low]));

  let inGroup = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (inGroup = true));
  consumer.on(consumer.events.STOP, () => (inGroup = false));
  consumer.on(consumer.events.CRASH, () => (inGroup = false));
  consumer.on(consumer.events.DISCONNECT, () => (inGroup = false));

  // Each assignment starts where the database says, whatever Kafka's group offsets say.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    void (async () => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        const low = await earliest(topic);
        for (const partition of partitions) {
          const next = reached.get(offsetKey(topic, partition));
          consumer.seek({ topic, partition, offset: (next ?? BigInt(low.get(partition) ?? '0')).toString() });
        }
      }
    })().catch((err: unknown) => log(`seeking to the history's offsets failed: ${String(err)}`));
  });

  /** Whether the fact is about an erased customer, stated before their erasure. */
  const ofErasedCustomer = async (fact: Fact): Promise<boolean> => {
    if (!options.erasedAt) return false;
    const ref =
      fact.kind === 'placed'
        ? fact.order.customerId === undefined
          ? undefined
          : customerRefOf(fact.order.customerId)
        : customerRefOfWorkflowId(fact.workflowId);
    if (ref === undefined) return false;
    const erased = await options.erasedAt(ref);
    return erased !== undefined && (fact.kind === 'placed' ? fact.placedAt : fact.at) <= erased;
  };

  const eachBatch = async ({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    if (!isRunning() || isStale()) return;
    const key = offsetKey(batch.topic, batch.partition);
    const from = reached.get(key) ?? -1n;
    const facts: Fact[] = [];
    let next: bigint | undefined;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < from) continue;
      next = offset + 1n;
      let fact: Awaited<ReturnType<typeof placedFactOf>> | ReturnType<typeof statusFactOf>;
      try {
        fact = batch.topic === placementTopic ? await placedFactOf(message, keyStore) : statusFactOf(message);
      } catch (err) {
        // The key store cannot be read: nothing of the batch is applied; kafkajs retries it with backoff.
        log(
          `${batch.topic}/${batch.partition}@${message.offset}: sealed order not opened, batch to be retried: ${err instanceof Error ? err.message : String(err)}`,
        );
        throw err;
      }
      if ('skip' in fact) log(`${batch.topic}/${batch.partition}@${message.offset} not applied: ${fact.skip}`);
      else if ('erased' in fact) {
        erasedSkipped += 1;
        log(`${batch.topic}/${batch.partition}@${message.offset} not applied: erased customer (${fact.erased})`);
      } else if (await ofErasedCustomer(fact))
        log(`${batch.topic}/${batch.partition}@${message.offset} not applied: erased customer`);
      else facts.push(fact);
    }
    if (next === undefined) return;
    const upTo = next;
    try {
      await db.transaction().execute(async (tx) => {
        for (const fact of facts) await applyFact(tx, fact);
        await saveOffset(tx, batch.topic, batch.partition, upTo);
      });
    } catch (err) {
      // Nothing of the batch is recorded; kafkajs retries it with backoff (a database that is down
      // holds the history back, it does not lose events).
      log(
        `${batch.topic}/${batch.partition}: batch up to ${upTo} not applied, to be retried: ${err instanceof Error ? err.message : String(err)}`,
      );
      throw err;
    }
    if ((reached.get(key) ?? -1n) < upTo) reached.set(key, upTo);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: upTo.toString() }]);
    await heartbeat();
  };
  const consume = async (): Promise<void> => {
    await consumer.connect();
    await consumer.subscribe({ topics: [placementTopic, statusTopic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch });
  };

  // After a crash kafkajs does not restart from, the consumer is started again: each assignment
  // seeks to the database's offsets, so nothing is applied twice.
  let restarts = 0;
  const restarter = restartOnCrash(consumer, consume, { backoff, log, onRestarted: () => (restarts += 1) });

  await consume();

  return {
    inGroup: () => inGroup,
    restarts: () => restarts,
    async caughtUp() {
      const targets: Array<[string, bigint]> = [];
      for (const topic of [placementTopic, statusTopic])
        for (const p of await admin.fetchTopicOffsets(topic))
          if (BigInt(p.high) > BigInt(p.low)) targets.push([offsetKey(topic, p.partition), BigInt(p.high)]);
      for (;;) {
        if (targets.every(([k, high]) => (reached.get(k) ?? -1n) >= high)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    erasedSkipped: () => erasedSkipped,
    async stop() {
      restarter.stop();
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
