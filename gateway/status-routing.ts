/**
 * Partition routing (docs/SCALING.md, GATEWAY_STATUS_PARTITION): which partitions of order-status this
 * gateway's feed fetches. Its home partition always: the orders placed here carry it
 * (`order.statusPartition`) and the worker publishes their status events there. Any other partition only
 * while a client here follows an order whose events go there: an order placed through another gateway
 * (its partition is read from the order the workflow was started with, via `lookup`), or one placed
 * without routing (the partition of its key's hash, as the producer's default partitioner picks it).
 *
 * A partition is fetched from its first such order on and paused again when the last one is no longer
 * followed; the feed rewinds a partition it resumes a little (./status-feed.ts), so events published
 * while the order's partition was being looked up are still read. An order whose workflow does not
 * exist yet is looked up again with backoff for as long as it is followed; each look-up is charged to
 * the `Charge` its first follower brought (./lookup-budget), and one it refuses is tried again later.
 */
import { Kafka, Partitioners } from 'kafkajs';
import { kafkaKeyOf } from '../common/order';
import type { Charge } from './lookup-budget';

/** What the order's workflow says: `exists: false` while there is none (yet). */
export type RoutedOrder = { exists: false } | { exists: true; statusPartition?: number };

export interface PartitionFetcher {
  /** Starts fetching the partition (it was paused). */
  fetchPartition(partition: number): void;
  /** Stops fetching it. */
  releasePartition(partition: number): void;
}

export interface StatusRoutingOptions {
  home: number;
  /** order-status's partition count (for orders placed without routing: their key's hash). */
  partitionCount: number;
  fetcher: PartitionFetcher;
  /** The order's partition from its workflow; `charge`: what the Temporal call is charged to (given at `follow`). */
  lookup: (orderId: string, charge?: Charge) => Promise<RoutedOrder>;
  /** First delay before asking again about an order that does not exist yet; doubles up to 5 s. */
  retryMs?: number;
  log?: (line: string) => void;
}

const MAX_RETRY_MS = 5_000;

const keyPartitioner = Partitioners.DefaultPartitioner();

/** The partition kafkajs's default partitioner (the producers' own) picks for a message keyed `orderId`. */
export function keyPartition(orderId: string, partitionCount: number): number {
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return keyPartitioner({ topic: '', partitionMetadata, message: { key: orderId, value: null } });
}

/**
 * order-status's partition count; throws a clear error when `home` is not one of its partitions (the
 * gateway refuses to start rather than route orders to a partition nobody can publish to).
 */
export async function checkStatusPartition(kafka: Kafka, topic: string, home: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics[0]?.partitions.length ?? 0;
    if (home >= count)
      throw new Error(
        `GATEWAY_STATUS_PARTITION=${home}: topic ${topic} has ${count} partition(s), so it must be 0 to ${count - 1}`,
      );
    return count;
  } finally {
    await admin.disconnect();
  }
}

export class StatusRouting {
  /** The orders followed here, with their partition once known. */
  private readonly partitionOf = new Map<string, number | undefined>();
  /** Followed orders per fetched partition other than home. */
  private readonly uses = new Map<number, number>();
  /** What each followed order's look-ups are charged to, while its partition is not known. */
  private readonly charges = new Map<string, Charge>();

  constructor(private readonly opts: StatusRoutingOptions) {}

  get home(): number {
    return this.opts.home;
  }

  /** The partitions fetched besides home (for tests and health output). */
  extraPartitions(): number[] {
    return [...this.uses.keys()].sort((a, b) => a - b);
  }

  /**
   * A client here started following `orderId`; `known`: its partition, when the caller knows it;
   * `charge`: what looking it up is charged to (the follower's share).
   */
  follow(orderId: string, known?: number, charge?: Charge): void {
    if (this.partitionOf.has(orderId)) return;
    this.partitionOf.set(orderId, undefined);
    if (known !== undefined) this.route(orderId, known);
    else {
      if (charge) this.charges.set(orderId, charge);
      void this.resolve(orderId, 0);
    }
  }

  /** No client here follows `orderId` any more. */
  unfollow(orderId: string): void {
    if (!this.partitionOf.has(orderId)) return;
    const partition = this.partitionOf.get(orderId);
    this.partitionOf.delete(orderId);
    this.charges.delete(orderId);
    if (partition !== undefined) this.release(partition);
  }

  private route(orderId: string, partition: number): void {
    if (!this.partitionOf.has(orderId) || this.partitionOf.get(orderId) !== undefined) return;
    if (partition >= this.opts.partitionCount) {
      this.opts.log?.(`order ${orderId}: status partition ${partition} does not exist; following its key's partition`);
      partition = keyPartition(kafkaKeyOf(orderId), this.opts.partitionCount);
    }
    this.partitionOf.set(orderId, partition);
    this.charges.delete(orderId);
    if (partition === this.opts.home) return;
    const n = this.uses.get(partition) ?? 0;
    this.uses.set(partition, n + 1);
    if (n === 0) this.opts.fetcher.fetchPartition(partition);
  }

  private release(partition: number): void {
    if (partition === this.opts.home) return;
    const n = (this.uses.get(partition) ?? 1) - 1;
    if (n > 0) {
      this.uses.set(partition, n);
      return;
    }
    this.uses.delete(partition);
    this.opts.fetcher.releasePartition(partition);
  }

  private async resolve(orderId: string, attempt: number): Promise<void> {
    let found: RoutedOrder | undefined;
    try {
      found = await this.opts.lookup(orderId, this.charges.get(orderId));
    } catch {
      found = undefined; // Temporal did not answer, or the budget refused the call: ask again below
    }
    if (!this.partitionOf.has(orderId) || this.partitionOf.get(orderId) !== undefined) return;
    if (found?.exists) {
      this.route(orderId, found.statusPartition ?? keyPartition(kafkaKeyOf(orderId), this.opts.partitionCount));
      return;
    }
    const delay = Math.min(MAX_RETRY_MS, (this.opts.retryMs ?? 250) * 2 ** Math.min(attempt, 5));
    setTimeout(() => void this.resolve(orderId, attempt + 1), delay).unref();
  }
}
