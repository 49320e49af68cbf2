/**
 * One partition's batch: its messages are handled in chunks of `concurrency` at a time, and after
 * each whole chunk the offset after its last message is committed. So an offset is committed only
 * once every message before it in its partition was started, found already started, or parked in
 * the DLQ. The group is heart-beaten on a timer meanwhile, so a slow start (or Temporal retries)
 * never outlasts the session timeout.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';

/** The offset to commit once the message at `last` is done: the next one to read. */
export function commitOffsetAfter(last: string): string {
  return (BigInt(last) + 1n).toString();
}

/** Messages left in the partition once everything up to `last` is done. */
export function lagAfter(highWatermark: string, last: string): number {
  return Math.max(0, Number(BigInt(highWatermark) - BigInt(commitOffsetAfter(last))));
}

export interface BatchOptions {
  consumer: Consumer;
  concurrency: number;
  handle(partition: number, message: KafkaMessage, heartbeat: () => Promise<void>, alive: () => boolean): Promise<void>;
  /** After each committed chunk, with the partition's remaining lag. */
  committed(topic: string, partition: number, lag: number): void;
}

export async function handleBatch(opts: BatchOptions, payload: EachBatchPayload): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
  const { consumer, concurrency, handle } = opts;
  const alive = (): boolean => isRunning() && !isStale();
  const messages = batch.messages;
  const ticker = setInterval(() => void heartbeat().catch(() => undefined), 1_000);
  try {
    for (let i = 0; i < messages.length && alive(); i += concurrency) {
      const chunk = messages.slice(i, i + concurrency);
      await Promise.all(chunk.map((m) => handle(batch.partition, m, heartbeat, alive)));
      // The whole chunk is done: everything up to its last offset is safe to commit.
      const last = chunk[chunk.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: commitOffsetAfter(last) },
      ]);
      opts.committed(batch.topic, batch.partition, lagAfter(batch.highWatermark, last));
      await heartbeat();
    }
  } finally {
    clearInterval(ticker);
  }
}
