// Kafka is real: produce keyed messages to a fresh topic and consume every one of them back.
import * as crypto from 'node:crypto';
import { Admin, Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { groupAtTopicEnd } from '../../tools/infra/app-resources';

const config = loadConfig();
const kafka = new Kafka({ clientId: 'test-roundtrip', brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });

describe('Kafka round trip', () => {
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;
  const topic = `test-roundtrip-${crypto.randomUUID()}`;

  beforeEach(async () => {
    admin = kafka.admin();
    producer = kafka.producer();
    consumer = kafka.consumer({ groupId: `test-roundtrip-${crypto.randomUUID()}` });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  });

  afterEach(async () => {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  test('every keyed message produced is consumed once, on one partition per key', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const sent = keys.flatMap((key) => [0, 1, 2, 3, 4].map((n) => ({ key, value: `${key}:${n}` })));
    await producer.send({ topic, acks: -1, messages: sent });

    const received: Array<{ key: string; value: string; partition: number }> = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ key: message.key!.toString(), value: message.value!.toString(), partition });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await done;

    expect(received.map((r) => r.value).sort()).toEqual(sent.map((s) => s.value).sort());
    for (const key of keys) {
      const partitions = new Set(received.filter((r) => r.key === key).map((r) => r.partition));
      expect(partitions.size).toBe(1);
      // Within one key, order is preserved.
      expect(received.filter((r) => r.key === key).map((r) => r.value)).toEqual(
        [0, 1, 2, 3, 4].map((n) => `${key}:${n}`),
      );
    }
  });

  test('a group placed at the topic end reads only what is produced afterwards, even from the beginning', async () => {
    const old = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `old-${i}` }));
    await producer.send({ topic, acks: -1, messages: old });
    const groupId = `test-at-end-${crypto.randomUUID()}`;
    await groupAtTopicEnd(kafka, groupId, topic);
    const late = kafka.consumer({ groupId });
    await late.connect();
    try {
      const received: string[] = [];
      await late.subscribe({ topic, fromBeginning: true });
      const joined = new Promise<void>((resolve) => late.on(late.events.GROUP_JOIN, () => resolve()));
      const newOne = new Promise<void>((resolve) => {
        void late.run({
          eachMessage: async ({ message }) => {
            received.push(message.value!.toString());
            if (message.value!.toString() === 'new') resolve();
          },
        });
      });
      // Produced once the group has its partitions, so "new" is the first thing it may read.
      await joined;
      await producer.send({ topic, acks: -1, messages: [{ key: 'k0', value: 'new' }] });
      await newOne;
      expect(received).toEqual(['new']);
    } finally {
      await late.disconnect();
    }
  });
});
