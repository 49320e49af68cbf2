/**
 * Publishes order status changes to Kafka (topic order-status, key = orderId, so one order's
 * events stay in order). Called from an activity, never from workflow code.
 */
import { Kafka, Producer } from 'kafkajs';
import { TOPICS } from '../common/config';
import type { StatusEvent } from '../common/status';

export interface StatusPublisher {
  publish(event: StatusEvent): Promise<void>;
}

export class KafkaStatusPublisher implements StatusPublisher {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly topic: string = TOPICS.orderStatus,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async publish(event: StatusEvent): Promise<void> {
    // A failed connect is forgotten, so the next attempt (the activity's retry) connects afresh.
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: event.orderId, value: JSON.stringify(event) }] });
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}

/** Keeps events in memory: for tests, and for running the worker without status events. */
export class MemoryStatusPublisher implements StatusPublisher {
  readonly events: StatusEvent[] = [];
  async publish(event: StatusEvent): Promise<void> {
    this.events.push(event);
  }
}
