/** Kafka helpers for tests: fresh topics (so no file sees another's messages), counting and reading them. */
import { Admin, IHeaders, Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { uniqueId } from './wait';

export function testKafka(clientId = uniqueId('test')): Kafka {
  return new Kafka({ clientId, brokers: loadConfig().kafkaBrokers, logLevel: logLevel.ERROR });
}

/** Creates a topic with a fresh name (waiting for its leaders) and returns the name. */
export async function createTopic(kafka: Kafka, prefix: string, numPartitions = 1): Promise<string> {
  const topic = uniqueId(prefix);
  await withAdmin(kafka, (admin) =>
    admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions, replicationFactor: 1 }] }),
  );
  return topic;
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics }).catch(() => undefined));
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Messages stored in a topic right now (sum over partitions of high - low watermarks). */
export async function messagesIn(kafka: Kafka, topic: string): Promise<number> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

export interface StoredMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

const headerText = (v: IHeaders[string]): string =>
  v === undefined ? '' : Array.isArray(v) ? v.map(String).join(',') : String(v);

/** Everything a topic holds right now, read from the beginning up to the current high watermarks. */
export async function readAll(kafka: Kafka, topic: string): Promise<StoredMessage[]> {
  const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  const remaining = ends.filter((p) => BigInt(p.high) > BigInt(p.low)).length;
  if (remaining === 0) return [];
  const consumer = kafka.consumer({ groupId: uniqueId('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: StoredMessage[] = [];
  const highOf = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
  let done = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, headerText(v)])),
          partition,
          offset: message.offset,
        });
        if (BigInt(message.offset) + 1n === highOf.get(partition)) {
          done += 1;
          if (done === remaining) resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

/** Waits until a topic holds at least `count` messages, then returns all of them. */
export async function readAtLeast(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<StoredMessage[]> {
  const deadline = Date.now() + timeoutMs;
  while ((await messagesIn(kafka, topic)) < count) {
    if (Date.now() > deadline)
      throw new Error(`topic ${topic} holds fewer than ${count} messages after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return readAll(kafka, topic);
}
