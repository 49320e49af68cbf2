/**
 * Writes ORDER_PLACED events to Kafka: key = orderId (so one order's events stay on one partition),
 * idempotent producer, acks from all in-sync replicas. `publish` resolves only once Kafka has
 * stored the event, and rejects (never hangs) when Kafka does not confirm in time.
 *
 * After any failed send the producer is replaced by a fresh one (a new producer id). With bounded
 * retries, a failed batch may still have been written; reusing the old producer could then send a
 * *different* event under the same sequence number, which the broker would answer "duplicate,
 * already stored" — an acceptance of an event that is not in Kafka. A new producer id makes that
 * impossible. (Found by the crash matrix's broker-kill scenario.)
 */
import * as crypto from 'node:crypto';
import { Kafka, Producer } from 'kafkajs';
import { TOPICS } from '../common/config';
import { Order, orderPlacedEvent } from '../common/order';

export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

interface Generation {
  producer: Producer;
  ready?: Promise<void>;
}

export class OrderProducer {
  private current: Generation;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly sendTimeoutMs = 10_000,
    private readonly topic: string = TOPICS.orderPlacement,
  ) {
    this.current = this.fresh();
  }

  private fresh(): Generation {
    return {
      producer: this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // Bounded: a Kafka that stays down turns into an error for the client, not a hung request.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      }),
    };
  }

  private ready(gen: Generation): Promise<void> {
    gen.ready ??= gen.producer.connect();
    return gen.ready;
  }

  /** Replaces the producer after a failure of `failed` (once per generation). */
  private retire(failed: Generation): void {
    if (this.current !== failed || this.closed) return;
    this.current = this.fresh();
    failed.producer.disconnect().catch(() => undefined);
  }

  connect(): Promise<void> {
    return this.ready(this.current);
  }

  disconnect(): Promise<void> {
    this.closed = true;
    return this.current.producer.disconnect();
  }

  /** Resolves with the event id once Kafka acknowledged the write. */
  async publish(order: Order): Promise<{ eventId: string; partition: number; offset: string }> {
    const gen = this.current;
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
      const send = this.ready(gen).then(() =>
        gen.producer.send({
          topic: this.topic,
          acks: -1,
          messages: [{ key: order.orderId, value: JSON.stringify(event), headers: { eventId } }],
        }),
      );
      const [meta] = await Promise.race([send, timeout]);
      return { eventId, partition: meta.partition, offset: meta.baseOffset ?? meta.offset ?? '' };
    } catch (err) {
      this.retire(gen);
      if (err instanceof KafkaUnavailableError) throw err;
      throw new KafkaUnavailableError(`Kafka refused the write: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
