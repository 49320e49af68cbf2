// The gateway's order-status reader on real Kafka: events of the current schemaVersion (or of none,
// written before versions existed) are passed on without the version; an unknown version is skipped.
// With `follows`, events keyed by an order nobody follows are dropped before they are parsed. With
// `partitions`, the other partitions of the topic are never fetched.
import * as crypto from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { STATUS_SCHEMA_VERSION, StatusEvent } from '../../common/status';
import { StatusFeed } from '../../gateway/status-feed';
import { waitUntil } from '../helpers/wait';

const config = loadConfig();
const kafka = new Kafka({ clientId: 'test-status-feed', brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });
const topic = `order-status-feed-${crypto.randomUUID().slice(0, 8)}`;
const filteredTopic = `${topic}-filtered`;
const routedTopic = `${topic}-routed`;

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, filteredTopic, routedTopic] }).catch(() => undefined);
  await admin.disconnect();
});

/** Sends a warm-up event until the feed has seen one: everything sent after that reaches it. */
async function warmUp(t: string, seen: () => boolean, partition?: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await waitUntil(
      async () => {
        await producer.send({
          topic: t,
          messages: [
            {
              key: 'sf-warm-up',
              value: JSON.stringify({ orderId: 'sf-warm-up', status: 'ACCEPTED', seq: 1, at: 1 }),
              partition,
            },
          ],
        });
        await new Promise((r) => setTimeout(r, 200));
        return seen() || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 0, what: 'the status feed reading the topic' },
    );
  } finally {
    await producer.disconnect();
  }
}

describe('gateway status feed', () => {
  test('an event of an unknown schemaVersion is skipped and logged; known and unversioned ones pass, without the version', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();

    const got: StatusEvent[] = [];
    const logs: string[] = [];
    let seenThird: () => void = () => undefined;
    const third = new Promise<void>((r) => (seenThird = r));
    let warmedUp = false;
    const feed = new StatusFeed(kafka, { topic, log: (line) => logs.push(line) });
    await feed.start({
      deliverStatus: (e) => {
        if (e.orderId === 'sf-warm-up') {
          warmedUp = true;
          return;
        }
        got.push(e);
        if (e.seq === 3) seenThird();
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    // The feed reads from the end of the topic (it follows live events); on a topic created a moment
    // ago its first fetch can come after a send, which would then be before its starting offset. So
    // send a warm-up event until the feed sees one: everything sent after that reaches it.
    await waitUntil(
      async () => {
        await producer.send({
          topic,
          messages: [
            { key: 'sf-warm-up', value: JSON.stringify({ orderId: 'sf-warm-up', status: 'ACCEPTED', seq: 1, at: 1 }) },
          ],
        });
        await new Promise((r) => setTimeout(r, 200));
        return warmedUp || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 0, what: 'the status feed reading the topic' },
    );
    const base = { orderId: 'sf-1', status: 'VALIDATING', at: 1 };
    await producer.send({
      topic,
      messages: [
        { key: 'sf-1', value: JSON.stringify({ ...base, seq: 1, schemaVersion: STATUS_SCHEMA_VERSION }) },
        {
          key: 'sf-1',
          value: JSON.stringify({ ...base, seq: 2, schemaVersion: STATUS_SCHEMA_VERSION + 1, renamedField: 'x' }),
        },
        { key: 'sf-1', value: JSON.stringify({ ...base, seq: 3 }) },
      ],
    });
    await producer.disconnect();
    await third;
    await feed.stop();
    expect(got).toEqual([
      { ...base, seq: 1 },
      { ...base, seq: 3 },
    ]);
    expect(logs.some((l) => l.includes(`unknown schemaVersion ${STATUS_SCHEMA_VERSION + 1}`))).toBe(true);
  });

  test('with follows: events keyed by an order nobody here follows are dropped unparsed; followed ones pass', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: filteredTopic, numPartitions: 1, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const followed = new Set(['sf-warm-up', 'sf-mine']);
    const got: StatusEvent[] = [];
    const logs: string[] = [];
    const feed = new StatusFeed(kafka, { topic: filteredTopic, log: (line) => logs.push(line) });
    await feed.start({ deliverStatus: (e) => got.push(e), followsOrder: (id) => followed.has(id) });
    try {
      await warmUp(filteredTopic, () => got.some((e) => e.orderId === 'sf-warm-up'));
      const before = { ...feed.stats };
      const producer = kafka.producer();
      await producer.connect();
      // A value that is not JSON: parsing it would log "malformed". Keyed by an order nobody follows,
      // it must never be parsed; the same bytes keyed by a followed order are.
      await producer.send({
        topic: filteredTopic,
        messages: [
          ...Array.from({ length: 5 }, () => ({ key: 'sf-theirs', value: 'not json' })),
          { key: 'sf-theirs', value: JSON.stringify({ orderId: 'sf-theirs', status: 'VALIDATING', seq: 2, at: 1 }) },
          { key: 'sf-mine', value: 'not json' },
          { key: 'sf-mine', value: JSON.stringify({ orderId: 'sf-mine', status: 'VALIDATING', seq: 2, at: 1 }) },
        ],
      });
      await producer.disconnect();
      await waitUntil(() => got.some((e) => e.orderId === 'sf-mine') || undefined, { what: 'the followed event' });
      expect(got.filter((e) => e.orderId !== 'sf-warm-up')).toEqual([
        { orderId: 'sf-mine', status: 'VALIDATING', seq: 2, at: 1 },
      ]);
      expect(feed.stats.read - before.read).toBe(8);
      expect(feed.stats.skippedByKey - before.skippedByKey).toBe(6);
      // Only the followed order's malformed event was parsed (and logged).
      expect(logs.filter((l) => l.includes('malformed'))).toHaveLength(1);
    } finally {
      await feed.stop();
    }
  });

  test('with partitions: events on the other partitions are never fetched; those on its own pass', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: routedTopic, numPartitions: 2, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const got: StatusEvent[] = [];
    const feed = new StatusFeed(kafka, { topic: routedTopic, log: () => undefined, partitions: [0] });
    await feed.start({ deliverStatus: (e) => got.push(e) });
    try {
      await warmUp(routedTopic, () => got.some((e) => e.orderId === 'sf-warm-up'), 0);
      const before = { ...feed.stats };
      const producer = kafka.producer();
      await producer.connect();
      const event = (orderId: string, partition: number) => ({
        key: orderId,
        partition,
        value: JSON.stringify({ orderId, status: 'VALIDATING', seq: 2, at: 1 }),
      });
      // Partition 1 first: had the feed fetched it, these would arrive before the last of partition 0.
      await producer.send({ topic: routedTopic, messages: [1, 2, 3].map((i) => event(`sf-other-${i}`, 1)) });
      await producer.send({ topic: routedTopic, messages: [event('sf-own-1', 0), event('sf-own-2', 0)] });
      await producer.disconnect();
      await waitUntil(() => got.some((e) => e.orderId === 'sf-own-2') || undefined, { what: 'the own partition' });
      // A further fetch cycle, for events of partition 1 to show up if they were fetched.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(got.filter((e) => e.orderId !== 'sf-warm-up').map((e) => e.orderId)).toEqual(['sf-own-1', 'sf-own-2']);
      expect(feed.stats.read - before.read).toBe(2);
    } finally {
      await feed.stop();
    }
  });
});
