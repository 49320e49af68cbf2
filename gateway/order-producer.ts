/**
 * Writes ORDER_PLACED events to Kafka: key = orderId (so one order's events stay on one partition),
 * idempotent producer, acks from all in-sync replicas. `publish` resolves only once Kafka has
 * stored the event, and rejects (never hangs) when Kafka does not confirm in time.
 */
import * as crypto from 'node:crypto';
import { Kafka, Producer } from 'kafkajs';
import { TOPICS } from '../common/config';
import { Order, orderPlacedEvent } from '../common/order';

export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

export class OrderProducer {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly sendTimeoutMs = 10_000,
    private readonly topic: string = TOPICS.orderPlacement,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Bounded: a Kafka that stays down turns into an error for the client, not a hung request.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Resolves with the event id once Kafka acknowledged the write. */
  async publish(order: Order): Promise<{ eventId: string; partition: number; offset: string }> {
    const eventId = crypto.randomUUID();
    const event = orderPlacedEvent(order, eventId, Date.now());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not confirm the write within ${this.sendTimeoutMs} ms`)),
        this.sendTimeoutMs,
      );
    });
    try {
      const [meta] = await Promise.race([
        this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: [{ key: order.orderId, value: JSON.stringify(event), headers: { eventId } }],
        }),
        timeout,
      ]);
      return { eventId, partition: meta.partition, offset: meta.baseOffset ?? meta.offset ?? '' };
    } catch (err) {
      if (err instanceof KafkaUnavailableError) throw err;
      throw new KafkaUnavailableError(`Kafka refused the write: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
