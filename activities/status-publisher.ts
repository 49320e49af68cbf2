/**
 * Publishes order status changes to Kafka (topic order-status, key = common/order kafkaKeyOf of the
 * run: the order id, or with a customer scope the workflow id, so one order's events stay in order;
 * each event names its run in `workflowId`). With partition routing (docs/SCALING.md) an order names its partition
 * (`statusPartition`, the home partition of the gateway that placed it) and all its events go there,
 * so they stay in order too; without one, the key's hash picks the partition. Called from activities, never from workflow code. Concurrent activities
 * share produce requests (common/batching-producer.ts); each call resolves once its events are
 * stored, so an activity that returns has published what it was handed. With tracing on, each call
 * is a producer span under the running activity's span, and the messages carry its context.
 */
import { Kafka } from 'kafkajs';
import { BatchingProducer } from '../common/batching-producer';
import { TOPICS } from '../common/names';
import { kafkaKeyOf, workflowIdFor } from '../common/order';
import { STATUS_SCHEMA_VERSION } from '../common/status';
import type { StatusEvent } from '../common/status';
import { activeContext, endSpan, kafkaAttributes, kafkaHeadersOf, SpanKind, startSpan } from '../common/tracing';

export interface StatusPublisher {
  /** Publishes the events (of one order) in the given order, to `partition` if given; resolves once all are stored. */
  publish(events: readonly StatusEvent[], partition?: number): Promise<void>;
}

export class KafkaStatusPublisher implements StatusPublisher {
  private readonly batcher: BatchingProducer;

  constructor(
    kafka: Kafka,
    private readonly topic: string = TOPICS.orderStatus,
  ) {
    // A batch not stored in 10 s fails the activities in it; their retries publish again.
    this.batcher = new BatchingProducer(kafka, { batchTimeoutMs: 10_000 });
  }

  async publish(events: readonly StatusEvent[], partition?: number): Promise<void> {
    if (!events.length) return;
    const span = startSpan(`${this.topic} publish`, SpanKind.PRODUCER, activeContext(), {
      ...kafkaAttributes(this.topic, 'publish', events[0].workflowId ?? workflowIdFor({ orderId: events[0].orderId })),
      'order.statuses': events.map((e) => e.status).join(','),
    });
    try {
      await this.batcher.send(
        this.topic,
        events.map((event) => ({
          key: kafkaKeyOf(event.workflowId ?? workflowIdFor({ orderId: event.orderId })),
          ...(partition === undefined ? {} : { partition }),
          value: JSON.stringify({ ...event, schemaVersion: STATUS_SCHEMA_VERSION }),
          ...(span ? { headers: kafkaHeadersOf(span) } : {}),
        })),
      );
      endSpan(span);
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  disconnect(): Promise<void> {
    return this.batcher.disconnect();
  }
}

/** A publisher that stamps each event with the workflow id of the run publishing it (`workflowIdOf`). */
export function stampedWith(publisher: StatusPublisher, workflowIdOf: () => string): StatusPublisher {
  return {
    publish: (events, partition) =>
      publisher.publish(
        events.map((event) => ({ ...event, workflowId: workflowIdOf() })),
        partition,
      ),
  };
}

/** Keeps events in memory: for tests, and for running the worker without status events. */
export class MemoryStatusPublisher implements StatusPublisher {
  readonly events: StatusEvent[] = [];
  /** The partition each event was published to (undefined: the key's hash). */
  readonly partitions: (number | undefined)[] = [];
  async publish(events: readonly StatusEvent[], partition?: number): Promise<void> {
    this.events.push(...events);
    this.partitions.push(...events.map(() => partition));
  }
}
