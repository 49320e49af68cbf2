/**
 * `npm run dlq:replay [-- --dry-run] [-- --limit N] [-- --from-beginning]`
 *
 * Re-publishes the events parked in order-placement.dlq back to order-placement, as they were (key,
 * value, headers) minus the bridge's `dlq-*` headers, so the bridge takes them again (after a fix
 * that makes them valid, or once Temporal accepts them). Bounded: it replays what the DLQ held when
 * it started and stops there (an event the bridge dead-letters again during the replay waits for the
 * next run), or at --limit, or at --timeout-ms. Progress is the consumer group `order-dlq-replay`'s
 * committed offset, committed after each event was re-published, so a second run does not replay
 * the same events again; --from-beginning rewinds it. --dry-run lists what would be replayed and
 * changes nothing (no event written, no offset committed).
 */
import * as crypto from 'node:crypto';
import { Command } from 'commander';
import { IHeaders, Kafka, KafkaConfig, KafkaMessage, logLevel } from 'kafkajs';
import { loadConfig } from '../common/config';
import { TOPICS } from '../common/names';
import { CONSUMER_GROUPS } from '../common/names';

export const REPLAY_GROUP = CONSUMER_GROUPS.dlqReplay;

export interface ReplayOptions {
  brokers: string[];
  /** kafkajs ssl / sasl options (the CLI passes KAFKA_SSL* / KAFKA_SASL_* from the configuration). */
  security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  dlqTopic?: string;
  targetTopic?: string;
  groupId?: string;
  dryRun?: boolean;
  /** Rewind the replay group to the start of the DLQ first. */
  fromBeginning?: boolean;
  /** At most this many events. */
  limit?: number;
  /** Bound on the whole run. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ReplayResult {
  /** Events of the DLQ looked at (replayed, or listed in a dry run). */
  examined: number;
  /** Events written back to the target topic (0 in a dry run). */
  replayed: number;
  /** True when everything the DLQ held at the start was handled (false: limit or timeout). */
  caughtUp: boolean;
  byReason: Record<string, number>;
}

const headerText = (v: IHeaders[string]): string =>
  v === undefined ? '' : Array.isArray(v) ? v.map(String).join(',') : String(v);

/** The event's headers without the bridge's dlq-* ones. */
export function stripDlqHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !k.toLowerCase().startsWith('dlq-')));
}

export async function replayDlq(opts: ReplayOptions): Promise<ReplayResult> {
  const log = opts.log ?? ((line: string) => console.log(`[dlq-replay] ${line}`));
  const dlqTopic = opts.dlqTopic ?? TOPICS.orderPlacementDlq;
  const targetTopic = opts.targetTopic ?? TOPICS.orderPlacement;
  const realGroup = opts.groupId ?? REPLAY_GROUP;
  const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const kafka = new Kafka({
    clientId: 'dlq-replay',
    brokers: opts.brokers,
    ...opts.security,
    logLevel: logLevel.ERROR,
    retry: { retries: 5 },
  });
  const result: ReplayResult = { examined: 0, replayed: 0, caughtUp: false, byReason: {} };

  const admin = kafka.admin();
  await admin.connect();
  // A dry run reads through a throw-away group placed where the real one stands, so the real one is untouched.
  const groupId = opts.dryRun ? `${realGroup}-dry-${crypto.randomUUID().slice(0, 8)}` : realGroup;
  try {
    const ends = await admin.fetchTopicOffsets(dlqTopic);
    if (opts.fromBeginning && !opts.dryRun) {
      await admin.resetOffsets({ groupId: realGroup, topic: dlqTopic, earliest: true });
    }
    const [committed] = await admin.fetchOffsets({ groupId: realGroup, topics: [dlqTopic] });
    const committedOf = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    // Where each partition starts (the group's position, else the log start) and where "caught up" is.
    const plan = new Map<number, { from: bigint; to: bigint }>();
    for (const p of ends) {
      const low = BigInt(p.low);
      const c = opts.fromBeginning ? -1n : (committedOf.get(p.partition) ?? -1n);
      const from = c < low ? low : c;
      plan.set(p.partition, { from, to: BigInt(p.high) });
    }
    const pending = new Set([...plan].filter(([, r]) => r.from < r.to).map(([p]) => p));
    const total = [...plan.values()].reduce((n, r) => n + (r.to > r.from ? r.to - r.from : 0n), 0n);
    log(`${dlqTopic}: ${total} event(s) to ${opts.dryRun ? 'list (dry run)' : `replay to ${targetTopic}`}`);
    if (pending.size === 0) {
      result.caughtUp = true;
      return result;
    }
    if (opts.dryRun) {
      await admin.setOffsets({
        groupId,
        topic: dlqTopic,
        partitions: [...plan].map(([partition, r]) => ({ partition, offset: r.from.toString() })),
      });
    }

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, retry: { retries: 5 } });
    if (!opts.dryRun) await producer.connect();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (err?: Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const timer = setTimeout(() => {
          log(`stopping: not caught up within ${timeoutMs} ms`);
          finish();
        }, timeoutMs);
        const handle = async (partition: number, message: KafkaMessage): Promise<void> => {
          const range = plan.get(partition);
          const offset = BigInt(message.offset);
          if (!range || offset >= range.to || settled) {
            // Beyond what the DLQ held at the start (or we are done): left for the next run.
            pending.delete(partition);
            return;
          }
          if (result.examined >= limit) {
            log(`stopping: limit of ${limit} reached`);
            return finish();
          }
          const reason = headerText(message.headers?.['dlq-reason']) || '(no reason)';
          result.byReason[reason] = (result.byReason[reason] ?? 0) + 1;
          result.examined += 1;
          const where = `${headerText(message.headers?.['dlq-original-topic']) || '?'}[${headerText(message.headers?.['dlq-original-partition']) || '?'}]@${headerText(message.headers?.['dlq-original-offset']) || '?'}`;
          const key = message.key?.toString() ?? '(no key)';
          if (opts.dryRun) {
            log(`would replay ${dlqTopic}[${partition}]@${message.offset} key ${key} (from ${where}; ${reason})`);
          } else {
            await producer.send({
              topic: targetTopic,
              acks: -1,
              messages: [
                {
                  key: message.key,
                  value: message.value,
                  headers: stripDlqHeaders(message.headers),
                  timestamp: undefined,
                },
              ],
            });
            await consumer.commitOffsets([{ topic: dlqTopic, partition, offset: (offset + 1n).toString() }]);
            result.replayed += 1;
            log(`replayed ${dlqTopic}[${partition}]@${message.offset} key ${key} (from ${where}; ${reason})`);
          }
          if (offset + 1n >= range.to) pending.delete(partition);
          if (pending.size === 0) {
            result.caughtUp = true;
            finish();
          }
        };
        consumer
          .run({ autoCommit: false, eachMessage: ({ partition, message }) => handle(partition, message) })
          .catch((err: unknown) => finish(err as Error));
      });
    } finally {
      await consumer.disconnect();
      if (!opts.dryRun) await producer.disconnect();
    }
    return result;
  } finally {
    if (opts.dryRun) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('dlq:replay')
    .description(
      `Re-publish events from ${TOPICS.orderPlacementDlq} to ${TOPICS.orderPlacement} (dlq-* headers stripped); stops when caught up.`,
    )
    .option('--dry-run', 'list what would be replayed; write and commit nothing')
    .option('--limit <n>', 'replay at most n events')
    .option('--from-beginning', `rewind the ${REPLAY_GROUP} group to the start of the DLQ first`)
    .option('--timeout-ms <ms>', 'give up after this long', '60000')
    .option('--brokers <list>', "Kafka brokers (default: KAFKA_BROKERS, else the launcher's)")
    .option('--dlq-topic <topic>', 'topic to read', TOPICS.orderPlacementDlq)
    .option('--to-topic <topic>', 'topic to write', TOPICS.orderPlacement);
  program.parse();
  const o = program.opts<{
    dryRun?: boolean;
    limit?: string;
    fromBeginning?: boolean;
    timeoutMs: string;
    brokers?: string;
    dlqTopic: string;
    toTopic: string;
  }>();
  const num = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const result = await replayDlq({
    brokers: o.brokers
      ? o.brokers
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean)
      : loadConfig().kafkaBrokers,
    security: loadConfig().kafkaSecurity,
    dlqTopic: o.dlqTopic,
    targetTopic: o.toTopic,
    dryRun: Boolean(o.dryRun),
    fromBeginning: Boolean(o.fromBeginning),
    limit: num('limit', o.limit),
    timeoutMs: num('timeout-ms', o.timeoutMs),
  });
  const reasons = Object.entries(result.byReason)
    .map(([r, n]) => `${n} x ${r}`)
    .join('; ');
  console.log(
    `[dlq-replay] ${o.dryRun ? `dry run: ${result.examined} event(s) would be replayed` : `${result.replayed} event(s) replayed`}` +
      `${reasons ? ` (${reasons})` : ''}; ${result.caughtUp ? 'caught up' : 'NOT caught up (limit or timeout)'}`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('[dlq-replay] fatal:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
