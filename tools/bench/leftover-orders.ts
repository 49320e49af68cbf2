/**
 * Leaves none of the bench's orders for a consumer group that did not consume them. Configurations
 * whose bridge runs in a group of its own (the bench's Temporal on PostgreSQL, the tracing pair) place
 * their orders on the shared order-placement topic, where the production group `order-bridge` still
 * has them ahead of its committed offsets: the next dev bridge would start them all on the dev server.
 * `advanceGroupPastOwnOrders` moves such a group over the leading run of the bench's own orders on
 * each partition and stops at the first message that is not one of them, so no real order is skipped.
 */
import * as crypto from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { kafkaKeyOf, OrderPlacedEvent, orderOfEvent, workflowIdFor } from '../../common/order';

export interface GroupAdvanceOptions {
  groupId: string;
  topic: string;
  /** What every order id of the bench run starts with (e.g. `${runId}-`); must not be empty. */
  orderIdPrefix: string;
  /** Longest the scan may read; what it verified by then is still committed. */
  timeoutMs?: number;
}

export interface GroupAdvance {
  /** Members the group had: when above 0 nothing was read or committed. */
  activeMembers: number;
  /** Partitions whose committed offset moved, from -> to: every message in between was a bench order. */
  advanced: Array<{ partition: number; from: number; to: number }>;
  /** Partitions where a message that is not a bench order stopped the advance: its offset, and the messages from it to the end. */
  stopped: Array<{ partition: number; offset: number; left: number }>;
  /** Why the advance did not complete (the scan timed out, the group became busy, Kafka refused). */
  problem?: string;
}

/** Where a partition's scan starts and ends (the end as the topic stood when the advance began). */
interface Range {
  partition: number;
  committed: number;
  start: number;
  end: number;
}

/** What the scan learnt about one partition: the bench's orders run from `start` up to `reach`. */
interface Scanned {
  reach: number;
  foreign?: number;
}

/**
 * True for an ORDER_PLACED event as the gateway writes it, whose order id carries the prefix: keyed
 * by the order's kafkaKeyOf, i.e. the order id, or for an order of a JWT customer (id scope
 * `customer`) its scoped workflow id. Anything else, including a malformed event or one whose key is
 * not its order's, is someone else's.
 */
export function isBenchOrder(message: Pick<KafkaMessage, 'key' | 'value'>, orderIdPrefix: string): boolean {
  const key = message.key?.toString();
  if (!orderIdPrefix || !key || !message.value) return false;
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString());
  } catch {
    return false;
  }
  const event = OrderPlacedEvent.safeParse(json);
  if (!event.success || !event.data.payload.order.orderId.startsWith(orderIdPrefix)) return false;
  return kafkaKeyOf(workflowIdFor(orderOfEvent(event.data))) === key;
}

/**
 * For each partition of `topic`, commits `groupId` past the bench's own orders that lie directly at
 * its position, up to the first message that is not one (or the partition's end). A group with
 * active members is left alone: kafkajs cannot set a running group's offsets, and its members will
 * consume the orders themselves. A Kafka failure is reported in `problem`, not thrown.
 *
 * A partition without a committed offset (or with one outside the log) is scanned from its earliest
 * message, because that is where the bridge reads it from (bridge/bridge.ts subscribes fromBeginning);
 * it is only committed when bench orders lead it, so its position otherwise stays as it was.
 */
export async function advanceGroupPastOwnOrders(kafka: Kafka, opts: GroupAdvanceOptions): Promise<GroupAdvance> {
  const result: GroupAdvance = { activeMembers: 0, advanced: [], stopped: [] };
  if (!opts.orderIdPrefix) throw new Error('advanceGroupPastOwnOrders needs a non-empty order id prefix');
  const admin = kafka.admin();
  try {
    await admin.connect();
    result.activeMembers = await membersOf(admin, opts.groupId);
    if (result.activeMembers > 0) return result;
    const ranges = await scanRanges(admin, opts.groupId, opts.topic);
    if (!ranges.some((r) => r.start < r.end)) return result;

    const scan = await scanOwnOrders(kafka, admin, opts, ranges);
    result.problem = scan.problem;
    for (const r of ranges) {
      const s = scan.partitions.get(r.partition);
      if (s?.foreign !== undefined)
        result.stopped.push({ partition: r.partition, offset: s.foreign, left: r.end - s.foreign });
    }
    const moves = ranges.filter((r) => (scan.partitions.get(r.partition)?.reach ?? r.start) > r.start);
    if (!moves.length) return result;

    // Only partitions nobody committed meanwhile: a newer offset belongs to a bridge that ran in between.
    result.activeMembers = await membersOf(admin, opts.groupId);
    if (result.activeMembers > 0) return result;
    const now = await committedOffsets(admin, opts.groupId, opts.topic);
    const unchanged = moves.filter((r) => (now.get(r.partition) ?? -1) === r.committed);
    if (unchanged.length < moves.length)
      result.problem = [
        result.problem,
        `${moves.length - unchanged.length} partition(s) were committed by someone else during the scan; left as they are`,
      ]
        .filter(Boolean)
        .join('; ');
    if (!unchanged.length) return result;
    const partitions = unchanged.map((r) => ({
      partition: r.partition,
      offset: String(scan.partitions.get(r.partition)?.reach),
    }));
    await admin.setOffsets({ groupId: opts.groupId, topic: opts.topic, partitions });
    result.advanced = unchanged.map((r) => ({
      partition: r.partition,
      from: r.start,
      to: scan.partitions.get(r.partition)?.reach ?? r.start,
    }));
    return result;
  } catch (err) {
    result.problem = (err as Error).message;
    return result;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** One line per fact for a configuration's notes: what was skipped for `groupId`, and what stays for it. */
export function describeAdvance(groupId: string, topic: string, advance: GroupAdvance): string[] {
  if (advance.activeMembers > 0)
    return [
      `${groupId} has ${advance.activeMembers} active member(s) (a bridge is running): it will consume this run's orders on ${topic} itself and start them on its Temporal`,
    ];
  const notes: string[] = [];
  const skipped = advance.advanced.reduce((n, a) => n + (a.to - a.from), 0);
  if (skipped > 0)
    notes.push(
      `${groupId} moved past ${skipped} of this run's orders on ${advance.advanced.length} partition(s) of ${topic}`,
    );
  if (advance.stopped.length) {
    const left = advance.stopped.reduce((n, s) => n + s.left, 0);
    const where = advance.stopped.map((s) => `p${s.partition}@${s.offset}`).join(', ');
    notes.push(
      `${groupId} stays before a message that is not this run's (${where}): the ${left} message(s) from there on, bench orders among them, are left for its next bridge`,
    );
  }
  if (advance.problem) notes.push(`${groupId} not fully advanced: ${advance.problem}`);
  return notes;
}

async function membersOf(admin: Admin, groupId: string): Promise<number> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.members.length ?? 0;
}

/** The group's committed offset per partition (-1: none). */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

/**
 * Each partition's scan, by partition number: from the group's committed offset, or from the earliest message when there
 * is none or it lies outside [low, high] (the bridge then resets to the earliest), to the current end.
 */
async function scanRanges(admin: Admin, groupId: string, topic: string): Promise<Range[]> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    committedOffsets(admin, groupId, topic),
  ]);
  return ends
    .map((p) => {
      const low = Number(p.low);
      const end = Number(p.high);
      const c = committed.get(p.partition) ?? -1;
      return { partition: p.partition, committed: c, start: c >= low && c <= end ? c : low, end };
    })
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Reads each range through a throw-away group sought to the ranges' starts, and stops a partition at
 * its first message that is not a bench order or at its end. Offsets only advance past messages read
 * and recognised, so a gap (a transaction marker) is never taken for a message it could hide.
 */
async function scanOwnOrders(
  kafka: Kafka,
  admin: Admin,
  opts: GroupAdvanceOptions,
  ranges: Range[],
): Promise<{ partitions: Map<number, Scanned>; problem?: string }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const partitions = new Map(
    ranges.filter((r) => r.start < r.end).map((r) => [r.partition, { reach: r.start } as Scanned]),
  );
  const endOf = new Map(ranges.map((r) => [r.partition, r.end]));
  const groupId = `${opts.groupId}-leftover-scan-${crypto.randomUUID().slice(0, 8)}`;
  const pending = new Set(partitions.keys());
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  let problem: string | undefined;
  try {
    await consumer.connect();
    // A fresh group starts at the end (offsets past every range); the seeks below place it at the starts.
    await consumer.subscribe({ topic: opts.topic, fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        problem = `the scan of ${opts.topic} did not finish within ${timeoutMs} ms; advanced only over what it read`;
        resolve();
      }, timeoutMs);
      const settle = (partition: number): void => {
        pending.delete(partition);
        consumer.pause([{ topic: opts.topic, partitions: [partition] }]);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const scanned = partitions.get(partition);
            const end = endOf.get(partition) ?? 0;
            const offset = Number(message.offset);
            if (!scanned || !pending.has(partition) || offset < scanned.reach || offset >= end) return;
            if (!isBenchOrder(message, opts.orderIdPrefix)) {
              scanned.foreign = offset;
              settle(partition);
              return;
            }
            scanned.reach = offset + 1;
            if (scanned.reach >= end) settle(partition);
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      const idle = ranges.filter((r) => !partitions.has(r.partition)).map((r) => r.partition);
      if (idle.length) consumer.pause([{ topic: opts.topic, partitions: idle }]);
      for (const p of pending)
        consumer.seek({ topic: opts.topic, partition: p, offset: String(partitions.get(p)?.reach) });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { partitions, problem };
}
