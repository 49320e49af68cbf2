/**
 * The bridge: a Kafka consumer group on order-placement that starts one Temporal workflow per order.
 *
 * Delivery: at least once from Kafka, exactly once into Temporal (the workflow id dedupes).
 * An offset is committed only after every message before it in its partition has been started
 * (or found already started) or parked in the DLQ. While Temporal is unreachable the handler
 * retries with capped exponential backoff, heart-beating the group so it keeps its partitions,
 * and commits nothing; it gives up only when the consumer is stopping (the messages are then
 * redelivered to whoever owns the partition next).
 *
 * A sealed order (KAFKA_ENCRYPT_ORDER_FIELDS) is opened with the key store first: an erased
 * customer's order (key destroyed) is skipped, logged and counted as `erased`, neither started nor
 * parked (it can never be opened, and parking it would keep a copy of it); one that cannot be opened
 * here for good goes to the DLQ; a key store that cannot be read is retried like Temporal (./open-sealed).
 */
import { Client } from '@temporalio/client';
import { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { KeyStore } from '../common/codec';
import { CONSUMER_GROUPS, TOPICS } from '../common/names';
import { CONSUMER_FETCH_WAIT_MS } from '../common/connections';
import { workflowIdFor, type Order } from '../common/order';
import { contextFromKafka, endSpan, kafkaAttributes, SpanKind, startSpan, withSpan } from '../common/tracing';
import { DeadLetters } from './dead-letter';
import type { BridgeEvents } from './metrics';
import { BatchOptions, handleBatch } from './partition-batch';
import { parseOrderEvent } from './parse-event';
import { openWithRetry } from './open-sealed';
import { PermanentStartError } from './starter';
import { restartOnCrash } from '../common/consumer-restart';
import { startWithRetry, StartRetryOptions } from './start-retry';

export { MAX_EVENT_BYTES, parseOrderEvent } from './parse-event';

export interface BridgeOptions {
  kafka: Kafka;
  client: Client;
  stepDelayMs: number;
  groupId?: string;
  topic?: string;
  dlqTopic?: string;
  taskQueue?: string;
  /** How many workflow starts run at once within one partition's batch. */
  startConcurrency?: number;
  partitionsConsumedConcurrently?: number;
  /** Backoff while Temporal is unreachable. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Deadline of one start call (default 5 s). Without one, the Temporal client retries an
   * unreachable server for about 20 s inside a single call, hiding the outage from the backoff
   * (and so from /healthz). A start that timed out but did happen is found as a duplicate next time.
   */
  startDeadlineMs?: number;
  /** Counts starts, duplicates, DLQ, retries and lag (bridge/metrics.ts). */
  metrics?: BridgeEvents;
  /**
   * The key store sealed orders are opened with (common/codec keyStoreOpener: opened on first use).
   * Absent: a sealed order is retried with a log line until a bridge with a key store takes it.
   */
  keyStore?: () => KeyStore;
  /** Log sink; fields name the order (orderId, workflowId) and where its event was. */
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface BridgeStats {
  started: number;
  duplicates: number;
  deadLettered: number;
  startRetries: number;
  committedBatches: number;
  /** Sealed orders of erased customers (key destroyed): skipped, neither started nor dead-lettered. */
  erased: number;
  /** Times the key store could not be read and an open was retried. */
  keyRetries: number;
  /** Times the bridge started its consumer again after kafkajs gave up on it (common/consumer-restart). */
  consumerRestarts: number;
}

export interface Bridge {
  stats: BridgeStats;
  /** True while the consumer is in the group and not backing off. */
  healthy(): boolean;
  stop(): Promise<void>;
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const log = opts.log ?? ((line: string) => console.log(`[bridge] ${line}`));
  const topic = opts.topic ?? TOPICS.orderPlacement;
  const dlqTopic = opts.dlqTopic ?? TOPICS.orderPlacementDlq;
  const groupId = opts.groupId ?? CONSUMER_GROUPS.bridge;
  const backoff = opts.backoff ?? { initialMs: 200, maxMs: 10_000 };
  const stats: BridgeStats = {
    started: 0,
    duplicates: 0,
    deadLettered: 0,
    startRetries: 0,
    committedBatches: 0,
    erased: 0,
    keyRetries: 0,
    consumerRestarts: 0,
  };
  const keyStore =
    opts.keyStore ??
    ((): KeyStore => {
      throw new Error('this bridge has no key store for sealed orders (PAYLOAD_ENCRYPTION and PAYLOAD_KEK)');
    });
  let backingOff = 0;
  let inGroup = false;

  const consumer: Consumer = opts.kafka.consumer({
    groupId,
    // A killed bridge's partitions move to the others once its session expires: 6 s, the broker's
    // minimum (kafkajs's default is 30 s). Safe because eachBatch heart-beats every second on a
    // timer, however long a start or its retries take.
    sessionTimeout: 6_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: CONSUMER_FETCH_WAIT_MS,
    // Never give up on the group: a broker outage must not kill the bridge.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const deadLetters = new DeadLetters(producer, dlqTopic, topic);
  consumer.on(consumer.events.GROUP_JOIN, () => (inGroup = true));
  consumer.on(consumer.events.STOP, () => (inGroup = false));
  consumer.on(consumer.events.CRASH, () => (inGroup = false));

  const deadLetter = async (partition: number, message: KafkaMessage, reason: string): Promise<void> => {
    await deadLetters.send(partition, message, reason);
    stats.deadLettered += 1;
    opts.metrics?.deadLettered(reason);
    log(`partition ${partition} offset ${message.offset}: to ${dlqTopic} (${reason})`, {
      partition,
      offset: message.offset,
      reason,
    });
  };

  const handle = async (
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    alive: () => boolean,
  ): Promise<void> => {
    const parsed = parseOrderEvent(message);
    if (!parsed.ok) return deadLetter(partition, message, parsed.reason);
    const where = { partition, offset: message.offset };
    let order: Order;
    if ('sealed' in parsed) {
      const orderId = parsed.sealed.payload.order.orderId;
      const opened = await openWithRetry(
        {
          keyStore,
          backoff,
          onBackoff: (active) => (backingOff += active ? 1 : -1),
          onRetry: (err, wait) => {
            stats.keyRetries += 1;
            log(`order ${orderId}: its sealed fields cannot be opened now (${err.message}); retrying in ${wait} ms`, {
              orderId,
              ...where,
              retryInMs: wait,
            });
          },
        },
        parsed.sealed,
        heartbeat,
        alive,
      );
      if ('poison' in opened) return deadLetter(partition, message, opened.poison);
      if ('erased' in opened) {
        stats.erased += 1;
        opts.metrics?.erased();
        log(`order ${orderId}: not started, its customer was erased (${opened.erased})`, { orderId, ...where });
        return;
      }
      order = opened.order;
    } else {
      order = parsed.order;
    }
    // With tracing on: the order's trace continues here (from the gateway's context in the headers),
    // and the Temporal client's start span (its OpenTelemetry interceptor) is a child of this one.
    const trace = contextFromKafka(message.headers);
    const span =
      trace &&
      startSpan(`${topic} process`, SpanKind.CONSUMER, trace, {
        ...kafkaAttributes(topic, 'process', workflowIdFor(order)),
        'messaging.kafka.destination.partition': partition,
        'messaging.kafka.message.offset': message.offset,
      });
    const fields = {
      orderId: order.orderId,
      workflowId: workflowIdFor(order),
      partition,
      offset: message.offset,
    };
    const retry: StartRetryOptions = {
      client: opts.client,
      stepDelayMs: opts.stepDelayMs,
      taskQueue: opts.taskQueue,
      backoff,
      startDeadlineMs: opts.startDeadlineMs ?? 5_000,
      onBackoff: (active) => (backingOff += active ? 1 : -1),
      onRetry: (err, wait) => {
        stats.startRetries += 1;
        opts.metrics?.startRetried();
        const reason = err.message.split('\n')[0];
        log(`order ${order.orderId}: Temporal start failed (${reason}); retrying in ${wait} ms`, {
          ...fields,
          retryInMs: wait,
        });
      },
    };
    try {
      const startedAt = process.hrtime.bigint();
      const outcome = await withSpan(span, () => startWithRetry(retry, order, heartbeat, alive));
      span?.setAttribute('order.start', outcome);
      endSpan(span);
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const where = `partition ${partition} offset ${message.offset}`;
      if (outcome === 'started') {
        stats.started += 1;
        opts.metrics?.started(seconds);
        log(`order ${order.orderId}: workflow started (${where})`, fields);
      } else {
        stats.duplicates += 1;
        opts.metrics?.duplicate(seconds);
        log(`order ${order.orderId}: duplicate event, workflow already exists (${where})`, fields);
      }
    } catch (err) {
      endSpan(span, err);
      if (err instanceof PermanentStartError)
        return deadLetter(partition, message, `temporal rejected the start: ${err.message}`);
      throw err;
    }
  };

  const batches: BatchOptions = {
    consumer,
    concurrency: opts.startConcurrency ?? 16,
    handle,
    committed: (batchTopic, partition, lag) => {
      stats.committedBatches += 1;
      opts.metrics?.lag(batchTopic, partition, lag);
    },
  };

  const consume = async (): Promise<void> => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 6,
      eachBatch: (payload) => handleBatch(batches, payload),
    });
  };

  // After a crash kafkajs does not restart from, the consumer is started again: it reads from the
  // last committed offset, and a start that already happened is found as a duplicate.
  const restarter = restartOnCrash(consumer, consume, {
    backoff,
    log,
    onRestarted: () => (stats.consumerRestarts += 1),
  });

  await producer.connect();
  await consume();
  log(`consuming ${topic} as group ${groupId}; step delay ${opts.stepDelayMs} ms`);

  return {
    stats,
    healthy: () => inGroup && backingOff === 0,
    async stop() {
      restarter.stop();
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
