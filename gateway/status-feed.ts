/**
 * Reads order-status with a consumer group of its own (one per gateway instance), so every
 * gateway sees every status event; hands each valid event to `onEvent`. It commits nothing:
 * a restarted gateway starts at the end, and clients catch up through the workflow's status query.
 */
import * as crypto from 'node:crypto';
import { Consumer, Kafka } from 'kafkajs';
import { z } from 'zod';
import { TOPICS } from '../common/config';
import { ORDER_STATUSES, StatusEvent } from '../common/status';

const StatusEventSchema = z.object({
  orderId: z.string().min(1).max(64),
  status: z.enum(ORDER_STATUSES),
  seq: z.number().int().positive(),
  at: z.number(),
  detail: z.string().optional(),
});

export class StatusFeed {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly onEvent: (event: StatusEvent) => void,
    private readonly topic: string = TOPICS.orderStatus,
    private readonly log: (line: string) => void = (l) => console.log(`[gateway] ${l}`),
  ) {
    this.consumer = kafka.consumer({
      groupId: `gateway-status-${crypto.randomUUID()}`,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }

  /** Resolves once the consumer joined its group, so no event published after that is missed. */
  async start(joinTimeoutMs = 30_000): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`status feed did not join its group within ${joinTimeoutMs} ms`)), joinTimeoutMs);
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        let parsed;
        try {
          parsed = StatusEventSchema.safeParse(JSON.parse(message.value?.toString() ?? ''));
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) {
          this.log(`ignored a malformed status event at offset ${message.offset}`);
          return;
        }
        this.onEvent(parsed.data as StatusEvent);
      },
    });
    await joined;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
