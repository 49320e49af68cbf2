/**
 * Writes ORDER_PLACED events to Kafka: key = the order's kafkaKeyOf (its id, or with a customer scope
 * its workflow id: one order's events stay on one partition, and two customers' same id are two orders),
 * idempotent producer, acks from all in-sync replicas. `publish` resolves only once Kafka has
 * stored the event, and rejects (never hangs) when Kafka does not confirm in time.
 *
 * Concurrent placements share produce requests (common/batching-producer.ts), and after any failed
 * send the producer is replaced, so a later event is never acknowledged as a "duplicate" of a
 * batch the broker may have stored.
 *
 * With `sealWith` (KAFKA_ENCRYPT_ORDER_FIELDS) the order's customer data is sealed under its
 * customer's data key before it is written (common/codec/order-fields.ts); a key store that cannot
 * be read fails the placement (nothing written, the client told to resend), never an order in clear.
 */
import * as crypto from 'node:crypto';
import { Kafka } from 'kafkajs';
import { BatchingProducer } from '../common/batching-producer';
import { sealOrderFields, type KeyStore } from '../common/codec';
import { TOPICS } from '../common/names';
import { kafkaKeyOf, Order, orderPlacedEvent, workflowIdFor } from '../common/order';
import { endSpan, kafkaAttributes, kafkaHeadersOf, SpanKind, startSpan, type Context } from '../common/tracing';

export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

/** How long the gateway waits for Kafka to confirm a placement. */
export const SEND_TIMEOUT_MS = 10_000;

export interface OrderProducerOptions {
  /** Seal each order's item, price, quantity and customer id with this key store (KAFKA_ENCRYPT_ORDER_FIELDS). */
  sealWith?: KeyStore;
}

export class OrderProducer {
  private readonly batcher: BatchingProducer;

  constructor(
    kafka: Kafka,
    private readonly sendTimeoutMs = SEND_TIMEOUT_MS,
    private readonly topic: string = TOPICS.orderPlacement,
    private readonly options: OrderProducerOptions = {},
  ) {
    this.batcher = new BatchingProducer(kafka, {
      // Bounded: a Kafka that stays down turns into an error for the client, not a hung request.
      producer: { retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } },
      batchTimeoutMs: sendTimeoutMs,
    });
  }

  /** Produce requests and messages sent so far (average batch size = messages / batches). */
  get stats(): BatchingProducer['stats'] {
    return this.batcher.stats;
  }

  connect(): Promise<void> {
    return this.batcher.connect();
  }

  disconnect(): Promise<void> {
    return this.batcher.disconnect();
  }

  /**
   * Resolves with the event id once Kafka acknowledged the write. With tracing on, the write is a
   * producer span under `trace` (the placeOrder span), and its context travels in the headers.
   */
  async publish(order: Order, trace?: Context): Promise<{ eventId: string }> {
    const eventId = crypto.randomUUID();
    const sealed = this.options.sealWith && (await sealOrderFields(this.options.sealWith, order));
    const event = orderPlacedEvent(order, eventId, Date.now(), sealed);
    const gaveUp = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new KafkaUnavailableError(`Kafka did not confirm the write within ${this.sendTimeoutMs} ms`);
        gaveUp.abort(err);
        reject(err);
      }, this.sendTimeoutMs);
    });
    const span =
      trace &&
      startSpan(
        `${this.topic} publish`,
        SpanKind.PRODUCER,
        trace,
        kafkaAttributes(this.topic, 'publish', workflowIdFor(order)),
      );
    try {
      const message = {
        key: kafkaKeyOf(workflowIdFor(order)),
        value: JSON.stringify(event),
        headers: span ? { eventId, ...kafkaHeadersOf(span) } : { eventId },
      };
      const send = this.batcher.send(this.topic, [message], gaveUp.signal);
      send.catch(() => undefined); // settled through the race below; a late rejection is expected
      await Promise.race([send, timeout]);
      endSpan(span);
      return { eventId };
    } catch (err) {
      endSpan(span, err);
      if (err instanceof KafkaUnavailableError) throw err;
      throw new KafkaUnavailableError(`Kafka refused the write: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
