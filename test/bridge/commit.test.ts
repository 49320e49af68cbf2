// The bridge's commit rule on real Kafka and the real Temporal dev server: an order whose start has
// not succeeded is never committed, so a bridge stopped while Temporal is unreachable loses nothing:
// the next bridge in the group reads the order again and starts it. And a consumer that kafkajs
// gives up on (a commit refused as from a member the broker forgot) is started again by the bridge.
import * as crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Kafka, KafkaJSNonRetriableError, logLevel } from 'kafkajs';
import { Bridge, startBridge } from '../../bridge/bridge';
import { loadConfig } from '../../common/config';
import { orderPlacedEvent, workflowIdFor } from '../../common/order';
import { createTopic, deleteTopics } from '../helpers/kafka';
import { waitUntil } from '../helpers/wait';
import { appDataConverter } from '../helpers/codec';

const config = loadConfig();
const id = crypto.randomUUID().slice(0, 8);
const topic = `order-placement-commit-${id}`;
const dlqTopic = `${topic}.dlq`;
const groupId = `bridge-commit-${id}`;
const kafka = new Kafka({ clientId: `test-commit-${id}`, brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });
const bridges: Bridge[] = [];
/** The bridges' log lines, shown when a wait times out. */
const lines: string[] = [];
const connections: Connection[] = [];

/** Waits for `check`, showing the bridges' log (retry lines left out) if it times out. */
const waitFor = (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<boolean> =>
  waitUntil(check, {
    timeoutMs,
    what,
    context: () => `bridge log:\n${lines.filter((l) => !l.includes('retrying in')).join('\n')}`,
  });

/** Writes one ORDER_PLACED event for `orderId` to `toTopic`, as the gateway would (acks=all). */
async function placeOrderEvent(toTopic: string, orderId: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const order = { orderId, item: 'Keyboard', price: 150, quantity: 1 };
    await producer.send({
      topic: toTopic,
      acks: -1,
      messages: [{ key: orderId, value: JSON.stringify(orderPlacedEvent(order, crypto.randomUUID(), Date.now())) }],
    });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 1, replicationFactor: 1 },
      { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  await admin.disconnect();
});

afterAll(async () => {
  for (const b of bridges) await b.stop().catch(() => undefined);
  for (const c of connections) await c.close().catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('bridge offset commits', () => {
  test('a bridge stopped while Temporal is unreachable commits nothing, and the next bridge starts the order', async () => {
    const taskQueue = `orders-commit-${id}`;
    const orderId = `commit-${id}`;
    // A Temporal address that refuses connections: every start fails as transient and the bridge
    // retries it (no gRPC-level retries here, so each attempt fails at once).
    const deadConnection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200, interceptors: [] });
    connections.push(deadConnection);
    const first = await startBridge({
      kafka,
      client: new Client({
        connection: deadConnection,
        namespace: config.temporalNamespace,
        dataConverter: appDataConverter(),
      }),
      stepDelayMs: 0,
      groupId,
      topic,
      dlqTopic,
      taskQueue,
      backoff: { initialMs: 50, maxMs: 200 },
      log: (l) => void lines.push(`[first] ${l.slice(0, 200)}`),
    });
    bridges.push(first);

    await placeOrderEvent(topic, orderId);

    // The first bridge read the order and is retrying its start.
    await waitFor(() => first.stats.startRetries >= 2, 60_000, 'the first bridge to retry the start');
    expect(first.stats.started).toBe(0);
    expect(first.healthy()).toBe(false);
    await first.stop();

    // Nothing was committed for the group: the order is still to be read.
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    expect(committed.partitions.map((p) => p.offset)).toEqual(['-1']);

    // The next bridge in the group (Temporal reachable now) starts it.
    const connection = await Connection.connect({ address: config.temporalAddress });
    connections.push(connection);
    const client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
    const second = await startBridge({
      kafka,
      client,
      stepDelayMs: 0,
      groupId,
      topic,
      dlqTopic,
      taskQueue,
      log: (l) => void lines.push(`[second] ${l.slice(0, 200)}`),
    });
    bridges.push(second);
    // Bounded above the group's rebalance timeout (kafkajs default 60 s): seen under heavy load, a
    // join that waits for a departed member (under investigation; see docs/TESTING.md).
    await waitFor(() => second.stats.started === 1, 90_000, 'the second bridge to start the order');
    const handle = client.workflow.getHandle(workflowIdFor({ orderId: orderId }));
    const description = await handle.describe();
    expect(description.taskQueue).toBe(taskQueue);
    // No worker polls this task queue: the run is ended here, its start was the point.
    await handle.terminate('test done');
  });

  test('a consumer crash kafkajs does not restart (a commit refused: unknown member) is started again, and the order committed', async () => {
    const ownTopic = await createTopic(kafka, `order-placement-crash-${id}`);
    const ownGroup = `bridge-crash-${id}`;
    const taskQueue = `orders-crash-${id}`;
    const orderId = `crash-${id}`;
    // Real Kafka, with one fault injected at the client: the first commit is refused with the
    // non-retriable error kafkajs raises when the coordinator no longer knows the member (what a
    // broker restart that outlasts the session leads to). kafkajs then stops the consumer for good.
    let refused = 0;
    const faulty = Object.create(kafka) as Kafka;
    faulty.consumer = (cfg) => {
      const consumer = kafka.consumer(cfg);
      const commit = consumer.commitOffsets;
      consumer.commitOffsets = async (offsets) => {
        if (refused === 0) {
          refused += 1;
          throw new KafkaJSNonRetriableError('The coordinator is not aware of this member (injected by the test)');
        }
        return commit(offsets);
      };
      return consumer;
    };
    const connection = await Connection.connect({ address: config.temporalAddress });
    connections.push(connection);
    const client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
    const bridge = await startBridge({
      kafka: faulty,
      client,
      stepDelayMs: 0,
      groupId: ownGroup,
      topic: ownTopic,
      dlqTopic,
      taskQueue,
      backoff: { initialMs: 50, maxMs: 200 },
      log: (l) => void lines.push(`[crash] ${l.slice(0, 200)}`),
    });
    bridges.push(bridge);
    try {
      await placeOrderEvent(ownTopic, orderId);

      // Started, commit refused, consumer crashed and started again: the order is read again (a
      // duplicate start) and this time committed.
      await waitFor(() => bridge.stats.committedBatches >= 1, 60_000, 'the order to be committed after the restart');
      expect(refused).toBe(1);
      expect(bridge.stats.consumerRestarts).toBe(1);
      expect(bridge.stats.started).toBe(1);
      expect(bridge.stats.duplicates).toBe(1);
      const admin = kafka.admin();
      await admin.connect();
      const [committed] = await admin.fetchOffsets({ groupId: ownGroup, topics: [ownTopic] });
      await admin.disconnect();
      expect(committed.partitions.map((p) => p.offset)).toEqual(['1']);
      await client.workflow.getHandle(workflowIdFor({ orderId: orderId })).terminate('test done');
    } finally {
      await deleteTopics(kafka, [ownTopic]);
    }
  });
});
