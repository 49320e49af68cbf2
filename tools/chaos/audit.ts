/**
 * The after-the-fact check of a chaos scenario against the ground truths: the order-placement topic
 * (what the gateway really stored), Temporal visibility (runs per order) and the payment ledger
 * (charges and refunds per order). Every order the gateway acknowledged must end as it should
 * (COMPLETED, or FAILED with one refund for an unshippable item), with exactly one run and one
 * charge; nothing acknowledged may be missing from Kafka.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { Ledger, LedgerEntry } from '../../activities/ledger';
import { TOPICS } from '../../common/names';
import { ErrorCode } from '../../common/protocol';
import { orderIdOfWorkflowId, workflowIdFor } from '../../common/order';
import type { OrderRecord } from './resending-clients';
import type { ScenarioName } from './scenario-kit';
import { recoveryMs } from './recovery';
import type { RunInfo } from './runs';
import type { IsolatedStack } from './isolated-stack';

export interface ScenarioResult {
  scenario: ScenarioName;
  placed: number;
  acknowledged: number;
  completed: number;
  workflows: number;
  charges: number;
  refunds: number;
  /** Acknowledged orders that did not end as they should, lack their charge or refund, or are not in Kafka. */
  lost: number;
  /** Extra runs, charges or refunds beyond one per order. */
  duplicated: number;
  expectedRefunds: number;
  /** Time to recover (see recoveryMs); undefined when the strike left no kill time or no order qualified. */
  recoverMs?: number;
  wallMs: number;
  notes: string[];
  /** Checks that failed (empty when the scenario passed). */
  failures: string[];
  lostOrders: string[];
  duplicatedOrders: string[];
}

export function passed(r: ScenarioResult): boolean {
  return r.failures.length === 0;
}

/** Order ids of every ORDER_PLACED event with this prefix in order-placement (read to the end). */
export async function ordersInKafka(
  stack: IsolatedStack,
  prefix: string,
  timeoutMs = 60_000,
): Promise<Map<string, number>> {
  const kafka = new Kafka({ clientId: 'chaos-audit', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `chaos-audit-${crypto.randomUUID()}`;
  const counts = new Map<string, number>();
  try {
    const ends = new Map(
      (await admin.fetchTopicOffsets(TOPICS.orderPlacement)).map((p) => [p.partition, BigInt(p.high)]),
    );
    const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
    if (pending.size === 0) return counts;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.orderPlacement, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${TOPICS.orderPlacement} did not reach its end within ${timeoutMs} ms`)),
          timeoutMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              try {
                const event = JSON.parse(message.value?.toString() ?? '') as {
                  payload?: { order?: { orderId?: string } };
                };
                const id = event.payload?.order?.orderId;
                if (id?.startsWith(`${prefix}-`)) counts.set(id, (counts.get(id) ?? 0) + 1);
              } catch {
                // not an order
              }
              if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) pending.delete(partition);
              if (pending.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  return counts;
}

/** Raw ledger lines per order (raw, so two lines with one idempotency key would still count twice). */
function ledgerCounts(
  file: string,
  prefix: string,
): { charges: Map<string, number>; refunds: Map<string, number>; entries: LedgerEntry[] } {
  const charges = new Map<string, number>();
  const refunds = new Map<string, number>();
  const entries: LedgerEntry[] = [];
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as LedgerEntry;
      if (!e.orderId.startsWith(`${prefix}-`)) continue;
      entries.push(e);
      const m = e.kind === 'charge' ? charges : refunds;
      m.set(e.orderId, (m.get(e.orderId) ?? 0) + 1);
    }
  }
  return { charges, refunds, entries };
}

export function verify(
  scenario: ScenarioName,
  records: OrderRecord[],
  runs: RunInfo[],
  inKafka: Map<string, number>,
  ledgerFile: string,
  prefix: string,
  extra: {
    notes: string[];
    failures: string[];
    started: number;
    killedAt?: number;
    outage?: { killedAt: number; restartAt: number };
  },
): ScenarioResult {
  const { notes, failures } = extra;
  const runsById = new Map<string, RunInfo[]>();
  for (const r of runs) runsById.set(r.workflowId, [...(runsById.get(r.workflowId) ?? []), r]);
  const ledger = ledgerCounts(ledgerFile, prefix);
  // The provider's own view (keyed by idempotency key) must agree with the raw lines.
  const indexed = new Ledger(ledgerFile).entries().filter((e) => e.orderId.startsWith(`${prefix}-`));
  if (indexed.length !== ledger.entries.length)
    failures.push(
      `ledger has ${ledger.entries.length} lines for this run but ${indexed.length} distinct idempotency keys`,
    );

  const acknowledged = records.filter((r) => r.acceptedAt !== undefined);
  const lostOrders: string[] = [];
  const duplicatedOrders: string[] = [];
  let completed = 0;
  let expectedRefunds = 0;
  let falseAcceptances = 0;
  for (const r of acknowledged) {
    const id = r.spec.orderId;
    const wfRuns = runsById.get(workflowIdFor({ orderId: id })) ?? [];
    const charges = ledger.charges.get(id) ?? 0;
    const refunds = ledger.refunds.get(id) ?? 0;
    const finalStatus = wfRuns[0]?.status;
    if (r.spec.expect === 'REFUNDED') expectedRefunds += 1;
    const ok =
      r.spec.expect === 'COMPLETED'
        ? finalStatus === 'COMPLETED' && charges >= 1 && refunds === 0
        : finalStatus === 'FAILED' && charges >= 1 && refunds >= 1;
    if (!inKafka.has(id)) falseAcceptances += 1;
    if (ok && inKafka.has(id)) completed += 1;
    else
      lostOrders.push(
        `${id} (run ${finalStatus ?? 'none'}, charges ${charges}, refunds ${refunds}, in Kafka ${inKafka.get(id) ?? 0})`,
      );
    if (wfRuns.length > 1 || charges > 1 || refunds > 1)
      duplicatedOrders.push(`${id} (runs ${wfRuns.length}, charges ${charges}, refunds ${refunds})`);
  }
  const ackedIds = new Set(acknowledged.map((r) => r.spec.orderId));
  const unackedRuns = [...runsById.keys()].filter((wf) => !ackedIds.has(orderIdOfWorkflowId(wf)));
  if (unackedRuns.length) notes.push(`${unackedRuns.length} runs for orders never acknowledged (stored, answer lost)`);
  for (const [id, n] of [...ledger.charges, ...ledger.refunds]) {
    if (!ackedIds.has(id) && n > 1) duplicatedOrders.push(`${id} (unacknowledged, ${n} ledger lines of one kind)`);
  }
  const kafkaDuplicates = [...inKafka.values()].filter((n) => n > 1).length;
  if (kafkaDuplicates)
    notes.push(`${kafkaDuplicates} orders have more than one event in Kafka (resends, absorbed by the bridge)`);
  if (falseAcceptances)
    failures.push(`${falseAcceptances} orders acknowledged but absent from Kafka (false acceptances)`);

  if (scenario === 'kafka' && extra.outage) {
    const { killedAt, restartAt } = extra.outage;
    // Sent after the broker died and answered "accepted" before anything listened again: impossible if honest.
    const acceptedWhileDown = acknowledged.filter((r) => {
      const last = r.attempts[r.attempts.length - 1];
      return last.at >= killedAt && (r.acceptedAt ?? 0) < restartAt;
    }).length;
    const refusedWhileDown = records.reduce(
      (n, r) =>
        n +
        r.attempts.filter((a) => a.at >= killedAt && a.at < restartAt && a.code === ErrorCode.kafkaUnavailable).length,
      0,
    );
    notes.unshift(
      `while down: ${refusedWhileDown} KAFKA_UNAVAILABLE answers, ${acceptedWhileDown} acceptances, ${falseAcceptances} acknowledged-but-not-in-Kafka`,
    );
    if (acceptedWhileDown) failures.push(`${acceptedWhileDown} orders accepted while the broker was down`);
    if (!refusedWhileDown) failures.push('the gateway answered no KAFKA_UNAVAILABLE while the broker was down');
  }

  const recovery = extra.killedAt === undefined ? undefined : recoveryMs(scenario, records, runs, extra.killedAt);
  if (recovery) notes.push(recovery.note);
  else notes.push('time to recover unknown (no kill time, or no qualifying order closed)');

  const result: ScenarioResult = {
    scenario,
    placed: records.length,
    acknowledged: acknowledged.length,
    completed,
    workflows: runs.length,
    charges: ledger.entries.filter((e) => e.kind === 'charge').length,
    refunds: ledger.entries.filter((e) => e.kind === 'refund').length,
    lost: lostOrders.length,
    duplicated: duplicatedOrders.length,
    expectedRefunds,
    recoverMs: recovery?.ms,
    wallMs: Date.now() - extra.started,
    notes,
    failures,
    lostOrders,
    duplicatedOrders,
  };
  if (result.lost) failures.push(`${result.lost} lost: ${lostOrders.slice(0, 5).join('; ')}`);
  if (result.duplicated) failures.push(`${result.duplicated} duplicated: ${duplicatedOrders.slice(0, 5).join('; ')}`);
  if (result.acknowledged !== result.placed)
    failures.push(`${result.placed - result.acknowledged} of ${result.placed} orders never acknowledged`);
  if (result.charges !== result.completed)
    failures.push(`${result.charges} charges for ${result.completed} finished orders`);
  if (result.refunds !== expectedRefunds) failures.push(`${result.refunds} refunds, expected ${expectedRefunds}`);
  return result;
}
