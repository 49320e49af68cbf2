/** Kafka helpers for the bench: fresh topics, consumer-group lag and membership, order events. */
import * as crypto from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { orderPlacedEvent } from '../../common/order';
import type { BenchOrder } from './ws-load';
import { sleep } from '../infra/proc';

export function benchKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  });
}

export async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the bench's own topics (best effort: a failure is reported, not thrown). */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<string | undefined> {
  if (!topics.length) return undefined;
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Messages on the topic that the group has not committed yet. */
export async function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
    let lag = 0;
    for (const p of ends) {
      const c = done.get(p.partition) ?? -1;
      lag += Number(p.high) - (c >= 0 ? c : Number(p.low));
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

export async function groupMembers(kafka: Kafka, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has no lag on the topic; returns the lag seen first. */
export async function waitForNoLag(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<{ initial: number; final: number }> {
  const initial = await groupLag(kafka, groupId, topic);
  let lag = initial;
  const deadline = Date.now() + timeoutMs;
  while (lag > 0 && Date.now() < deadline) {
    await sleep(500);
    lag = await groupLag(kafka, groupId, topic);
  }
  return { initial, final: lag };
}

/** An ORDER_PLACED event as the gateway writes it (key, value, eventId header). */
export function eventMessage(order: BenchOrder): { key: string; value: string; headers: Record<string, string> } {
  const eventId = crypto.randomUUID();
  return {
    key: order.orderId,
    value: JSON.stringify(orderPlacedEvent(order, eventId, Date.now())),
    headers: { eventId },
  };
}
