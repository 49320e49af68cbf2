/**
 * Reads order-status with a consumer group of its own (one per gateway instance), so every
 * gateway sees every status event; hands each valid event to `onEvent`. It commits nothing:
 * a restarted gateway starts at the end, and clients catch up through the workflow's status query.
 * Events of a schemaVersion it does not know are skipped with a log line (events written before
 * versions existed carry none and are read as version 1).
 *
 * Every gateway reads every status event, but follows only its own clients' orders. With `follows`,
 * an event whose Kafka key (common/order kafkaKeyOf: the order id, or a scoped order's workflow id) names an order
 * nobody here follows is dropped before its JSON is parsed or validated; that is what makes an event
 * for another gateway's client nearly free (measured in docs/BENCHMARKS.md, "Status fan-out").
 * Events without a key (older producers) are parsed as before. With `partitions`, the feed fetches only
 * those partitions: a gateway pays nothing for status events routed to other partitions (partition
 * routing, ./status-routing.ts; the fan-out bench's `partition-routed` mode; docs/SCALING.md).
 * `fetchPartition` adds one while needed, rewound to REWIND_MS ago: its offset was resolved when the feed
 * joined, and what was published since then is only of interest for that short while (a subscription
 * catches up through the status query; the rewind covers the events published while the order's
 * partition was being looked up). `releasePartition` pauses it again.
 *
 * With tracing on, handing an event to the subscribed clients is a span of the order's trace: a child
 * of the worker's publish, whose context the message headers carry.
 */
import * as crypto from 'node:crypto';
import { Admin, Consumer, Kafka } from 'kafkajs';
import { CONSUMER_GROUPS, TOPICS } from '../common/names';
import { CONSUMER_FETCH_WAIT_MS } from '../common/connections';
import { workflowIdFor } from '../common/order';
import { STATUS_SCHEMA_VERSION, StatusEvent } from '../common/status';
import { StatusEventSchema } from '../common/status-schemas';
import { contextFromKafka, endSpan, kafkaAttributes, SpanKind, startSpan } from '../common/tracing';

/** What this gateway reads: the current version, or no version (events from before versions existed). */
const ReadableStatusEvent = StatusEventSchema.partial({ schemaVersion: true });

/** How far back a partition resumed by `fetchPartition` is read. */
export const REWIND_MS = 10_000;

export interface StatusFeedOptions {
  /** Default: order-status. */
  topic?: string;
  /** Where warnings go (default: stdout, prefixed [gateway]). */
  log?: (line: string) => void;
  /**
   * Only these partitions of the topic are fetched (the others are paused as soon as they are
   * assigned): for status events routed to the partition of the gateway whose clients follow them.
   * Absent: every partition.
   */
  partitions?: readonly number[];
}

/** Where the feed delivers: the gateway (./server), or a test's list. */
export interface StatusSink {
  deliverStatus(event: StatusEvent): void;
  /** Does any client of this gateway follow the order an event's Kafka key names? Absent: every event is parsed. */
  followsOrder?(kafkaKey: string): boolean;
}

export class StatusFeed {
  private readonly consumer: Consumer;
  /** The partitions fetched (undefined: all); with `partitions`, for `fetchPartition`'s rewind. */
  private readonly fetched?: Set<number>;
  private readonly admin?: Admin;
  /** Events read, how many of them were dropped by key without parsing, and by partition. */
  readonly stats = { read: 0, skippedByKey: 0, skippedByPartition: 0 };

  private readonly topic: string;
  private readonly log: (line: string) => void;

  constructor(kafka: Kafka, options: StatusFeedOptions = {}) {
    this.topic = options.topic ?? TOPICS.orderStatus;
    this.log = options.log ?? ((l) => console.log(`[gateway] ${l}`));
    if (options.partitions) {
      this.fetched = new Set(options.partitions);
      this.admin = kafka.admin();
    }
    this.consumer = kafka.consumer({
      groupId: `${CONSUMER_GROUPS.gatewayStatusPrefix}${crypto.randomUUID()}`,
      maxWaitTimeInMs: CONSUMER_FETCH_WAIT_MS,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }

  /**
   * Starts delivering into `sink`; resolves once the consumer joined its group, so no event
   * published after that is missed.
   */
  async start(sink: StatusSink, joinTimeoutMs = 30_000): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`status feed did not join its group within ${joinTimeoutMs} ms`)),
        joinTimeoutMs,
      );
      this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
        this.pauseOthers(payload.memberAssignment[this.topic] ?? []);
        clearTimeout(timer);
        resolve();
      });
    });
    await this.consumer.connect();
    await this.admin?.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        this.stats.read += 1;
        // A fetch that raced the pause on joining: not ours, and never fetched again.
        if (this.fetched && !this.fetched.has(partition)) {
          this.stats.skippedByPartition += 1;
          this.pauseOthers([partition]);
          return;
        }
        if (sink.followsOrder && message.key && !sink.followsOrder(message.key.toString())) {
          this.stats.skippedByKey += 1;
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(message.value?.toString() ?? '');
        } catch {
          json = undefined;
        }
        const version = (json as { schemaVersion?: unknown } | undefined)?.schemaVersion;
        if (version !== undefined && version !== STATUS_SCHEMA_VERSION) {
          this.log(
            `ignored a status event of unknown schemaVersion ${JSON.stringify(version)} at offset ${message.offset}`,
          );
          return;
        }
        const parsed = ReadableStatusEvent.safeParse(json);
        if (!parsed.success) {
          this.log(`ignored a malformed status event at offset ${message.offset}`);
          return;
        }
        // Clients get the change itself; the version belongs to the topic.
        const event: StatusEvent = { ...parsed.data };
        delete event.schemaVersion;
        const trace = contextFromKafka(message.headers);
        const span =
          trace &&
          startSpan('orderStatus push', SpanKind.CONSUMER, trace, {
            ...kafkaAttributes(this.topic, 'process', event.workflowId ?? workflowIdFor({ orderId: event.orderId })),
            'order.status': event.status,
            'order.seq': event.seq,
          });
        try {
          sink.deliverStatus(event);
        } finally {
          endSpan(span);
        }
      },
    });
    await joined;
  }

  /** Pauses the assigned partitions this feed does not read; a paused partition is not fetched at all. */
  private pauseOthers(assigned: readonly number[]): void {
    if (!this.fetched) return;
    const others = assigned.filter((p) => !this.fetched!.has(p));
    if (others.length) this.consumer.pause([{ topic: this.topic, partitions: others }]);
  }

  /** Starts fetching `partition` as of REWIND_MS ago (only a feed given `partitions` pauses any). */
  fetchPartition(partition: number): void {
    if (!this.fetched || this.fetched.has(partition)) return;
    this.fetched.add(partition);
    void this.rewindAndResume(partition);
  }

  /** Stops fetching `partition` again. */
  releasePartition(partition: number): void {
    if (!this.fetched?.delete(partition)) return;
    this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
  }

  private async rewindAndResume(partition: number): Promise<void> {
    try {
      const offsets = await this.admin!.fetchTopicOffsetsByTimestamp(this.topic, Date.now() - REWIND_MS);
      const at = offsets.find((o) => o.partition === partition);
      if (at && this.fetched!.has(partition)) this.consumer.seek({ topic: this.topic, partition, offset: at.offset });
    } catch (err) {
      // Read on from where the partition stood; subscriptions still catch up through the status query.
      this.log(`could not rewind order-status partition ${partition}: ${(err as Error).message}`);
    }
    if (this.fetched!.has(partition)) this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.admin?.disconnect()]);
    await this.consumer.disconnect();
  }
}
