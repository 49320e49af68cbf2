/**
 * What the chaos scenarios look at while they strike: runs per OrderStatus in Temporal visibility,
 * the bridge group's committed offsets and partition assignments in Kafka, and repeated samples of
 * a probe (e.g. a /healthz) over an outage.
 */
import type { Client } from '@temporalio/client';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '../../common/names';
import { CONSUMER_GROUPS } from '../../common/names';
import { workflowIdFor } from '../../common/order';
import { sleep } from '../infra/proc';

/** A Kafka client for probes against a stack's broker. */
export function probeKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'chaos-probe', brokers, logLevel: logLevel.NOTHING });
}

/** Running runs of this order-id prefix whose OrderStatus is one of `statuses` (visibility count; 0 when it cannot tell). */
export async function countInStatus(temporal: Client, prefix: string, statuses: string[]): Promise<number> {
  const query = `WorkflowId STARTS_WITH '${workflowIdFor({ orderId: prefix })}' AND ExecutionStatus = 'Running' AND OrderStatus IN (${statuses.map((s) => `'${s}'`).join(', ')})`;
  try {
    return (await temporal.workflow.count(query)).count;
  } catch {
    return 0;
  }
}

/** The bridge group's committed offsets on order-placement, partition by partition ("12,9,…"). */
export async function committedOffsets(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId: CONSUMER_GROUPS.bridge, topics: [TOPICS.orderPlacement] });
    return topic.partitions
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.offset)
      .join(',');
  } finally {
    await admin.disconnect();
  }
}

export interface Assignment {
  memberId: string;
  partitions: number[];
}

/** Partitions each member of the bridge group holds, keyed by the member's client host+id. */
export async function bridgeAssignments(kafka: Kafka): Promise<Assignment[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([CONSUMER_GROUPS.bridge]);
    return (groups[0]?.members ?? []).map((m) => {
      const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return {
        memberId: m.memberId,
        partitions: (assignment?.assignment[TOPICS.orderPlacement] ?? []).sort((a, b) => a - b),
      };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `probe` every `everyMs` until `stop()` says so (bounded by maxMs); returns what it saw. */
export async function sample<T>(
  probe: () => Promise<T>,
  stop: () => boolean,
  everyMs: number,
  maxMs: number,
): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + maxMs;
  while (!stop() && Date.now() < deadline) {
    seen.push(await probe());
    await sleep(everyMs);
  }
  return seen;
}

/** Assignments as "[0,1,2] + [3,4,5]". */
export function formatAssignments(assignments: Assignment[]): string {
  return assignments.map((m) => `[${m.partitions.join(',')}]`).join(' + ');
}

/** Polls `check` every `everyMs` until it answers true; false when maxMs passes first. */
export async function waitFor(check: () => Promise<boolean>, everyMs: number, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
