/**
 * The history scenario's projection cost (tools/bench/history-run.ts). A history process
 * (history/main.ts, its own consumer group) starts at the topics' end: its offsets in the database
 * are set to the ends before it starts, and the database is what it seeks to. It is fed orders' lives
 * (history-data.ts) through order-placement and order-status, all at once and then as a live stream;
 * its CPU time and the database's (process trees, from /proc) are read from the first send until it
 * has committed every partition up to the end: CPU ms per order and events/s.
 *
 * The feed's ORDER_PLACED events are on the shared order-placement topic: afterwards the production
 * bridge group is moved past them (pipeline.ts leaveNothingForBridge), as after the configurations
 * whose bridge has a group of its own.
 */
import { performance } from 'node:perf_hooks';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import type { Kysely } from 'kysely';
import { TOPICS } from '../../common/names';
import { saveOffset, type HistoryDb } from '../../history/store';
import { sleep } from '../infra/proc';
import { type BenchContext, startApps, stopApps } from './context';
import { benchOrder, chunks, liveSchedule, orderLife, type OrderLife, type TimedRecord } from './history-data';
import type { HistoryPlan } from './history-run';
import { leaveNothingForBridge } from './pipeline';
import { treeUsage } from './proc-tree';
import { round } from './stats';

export interface ProjectionPhase {
  /** burst: every order's events produced at once (a history catching up); live: a stream at a fixed order rate. */
  mode: 'burst' | 'live';
  offeredOrdersPerSecond?: number;
  orders: number;
  events: number;
  /** Rows of the phase's orders that reached COMPLETED (seq 8) with their placement applied. */
  applied: number;
  /** First send to the last partition committed, seconds. */
  seconds: number;
  /** First to last send, seconds. */
  sendSeconds: number;
  /** Last send to the last partition committed, seconds. */
  lagSeconds: number;
  eventsPerSecond: number;
  /** The history process's CPU ms per order over the phase (its idle polling included). */
  historyCpuMsPerOrder: number;
  /** The same less what the process spends idle (fetch polling) over as long: the orders' own cost. */
  historyNetCpuMsPerOrder: number;
  /** The history database's CPU ms per order over the same window (its whole process tree). */
  databaseCpuMsPerOrder: number | null;
}

export interface ProjectionCost {
  phases: ProjectionPhase[];
  /** The history process's CPU % while idle (fetch polling), measured just before the feed. */
  historyIdleCpuPct: number;
  historyPeakRssMb: number;
}

const PRODUCE_CHUNK = 1000;
/** Between one order's status events in the live stream. */
const LIVE_STEP_MS = 100;

/** The topics' ends, by `topic/partition`. */
async function topicEnds(admin: Admin, topics: readonly string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics)
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
  return ends;
}

/**
 * Sets the history's offsets in its database to the ends of order-placement and order-status: a
 * history process started next reads from there (the database is what it seeks to), so it reads the
 * bench's own events and nothing older.
 */
export async function startAtTopicEnds(admin: Admin, db: Kysely<HistoryDb>): Promise<void> {
  const start = await topicEnds(admin, FEED_TOPICS);
  await db.transaction().execute(async (tx) => {
    for (const [key, end] of start) {
      const at = key.lastIndexOf('/');
      await saveOffset(tx, key.slice(0, at), Number(key.slice(at + 1)), end);
    }
  });
}

/** Resolves once the history process's consumer group is Stable (joined, partitions assigned). */
export async function waitForStableGroup(admin: Admin, group: string, timeoutMs = 60_000): Promise<void> {
  const joinBy = Date.now() + timeoutMs;
  while ((await admin.describeGroups([group])).groups[0]?.state !== 'Stable') {
    if (Date.now() > joinBy)
      throw new Error(`the history process did not join group ${group} within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Has `group` committed every partition that grew from `from` up to `to`? */
async function committedUpTo(
  admin: Admin,
  group: string,
  topics: readonly string[],
  from: Map<string, bigint>,
  to: Map<string, bigint>,
): Promise<boolean> {
  const committed = new Map<string, bigint>();
  for (const t of await admin.fetchOffsets({ groupId: group, topics: [...topics] }))
    for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
  for (const [key, end] of to) {
    if (end <= (from.get(key) ?? 0n)) continue;
    if ((committed.get(key) ?? -1n) < end) return false;
  }
  return true;
}

const cpuOf = (pid: number | undefined): number => (pid === undefined ? NaN : (treeUsage(pid)?.ctime ?? NaN));

/** What the history process is fed: every life at once, or a live stream at a fixed order rate. */
type Feed = { mode: 'burst' } | { mode: 'live'; ordersPerSecond: number };

/** The history process and what one phase of feeding it needs. */
interface Projector {
  admin: Admin;
  producer: Producer;
  db: Kysely<HistoryDb>;
  group: string;
  pid?: number;
  dbPid: number;
  /** CPU ms per second the process spends with nothing to read (fetch polling). */
  idleCpuMsPerSecond: number;
  /** Highest RSS of the history process seen so far. */
  peakRss: number;
}

const TOPIC_OF = { placement: TOPICS.orderPlacement, status: TOPICS.orderStatus } as const;
const FEED_TOPICS = [TOPICS.orderPlacement, TOPICS.orderStatus] as const;

/** Sends `records` as one produce request per PRODUCE_CHUNK messages, both topics at once. */
async function sendRecords(producer: Producer, records: readonly TimedRecord[]): Promise<void> {
  for (const chunk of chunks(records, PRODUCE_CHUNK)) {
    const topicMessages = (['placement', 'status'] as const)
      .map((t) => ({ topic: TOPIC_OF[t], messages: chunk.filter((r) => r.topic === t).map((r) => r.record) }))
      .filter((t) => t.messages.length > 0);
    await producer.sendBatch({ topicMessages });
  }
}

/**
 * Feeds `lives` (customer `customer`) to the running history process and reads its CPU and the
 * database's from the first send until the history has committed every partition up to the end.
 */
async function feedPhase(
  ctx: BenchContext,
  p: Projector,
  feed: Feed,
  lives: OrderLife[],
  customer: string,
  notes: string[],
): Promise<ProjectionPhase> {
  const events = lives.reduce((n, l) => n + 1 + l.statuses.length, 0);
  const from = await topicEnds(p.admin, FEED_TOPICS);
  const cpu0 = cpuOf(p.pid);
  const db0 = cpuOf(p.dbPid);
  const t0 = performance.now();
  if (feed.mode === 'burst') {
    // Placements first, as the gateway writes them before any status exists.
    const all: TimedRecord[] = [
      ...lives.map((l) => ({ atMs: 0, topic: 'placement' as const, record: l.placement })),
      ...lives.flatMap((l) => l.statuses.map((record) => ({ atMs: 0, topic: 'status' as const, record }))),
    ];
    await sendRecords(p.producer, all);
  } else {
    const schedule = liveSchedule(lives, feed.ordersPerSecond, LIVE_STEP_MS);
    let next = 0;
    while (next < schedule.length) {
      const now = performance.now() - t0;
      let due = next;
      while (due < schedule.length && schedule[due].atMs <= now) due += 1;
      if (due > next) await sendRecords(p.producer, schedule.slice(next, due));
      next = due;
      p.peakRss = Math.max(p.peakRss, (p.pid && treeUsage(p.pid)?.memory) || 0);
      await sleep(10);
    }
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  const to = await topicEnds(p.admin, FEED_TOPICS);
  const deadline = Date.now() + ctx.drainTimeoutMs;
  let caughtUp = false;
  while (Date.now() < deadline) {
    p.peakRss = Math.max(p.peakRss, (p.pid && treeUsage(p.pid)?.memory) || 0);
    if (await committedUpTo(p.admin, p.group, FEED_TOPICS, from, to)) {
      caughtUp = true;
      break;
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = cpuOf(p.pid) - cpu0;
  const dbMs = cpuOf(p.dbPid) - db0;
  if (!caughtUp) notes.push(`${feed.mode}: the history process had not caught up after ${ctx.drainTimeoutMs / 1000} s`);
  const applied = await p.db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('customer_id', '=', customer)
    .where('status', '=', 'COMPLETED')
    .where('seq', '=', 8)
    .where('placed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return {
    mode: feed.mode,
    ...(feed.mode === 'live' ? { offeredOrdersPerSecond: feed.ordersPerSecond } : {}),
    orders: lives.length,
    events,
    applied: Number(applied.n),
    seconds: round(seconds, 2),
    sendSeconds: round(sendSeconds, 2),
    lagSeconds: round(seconds - sendSeconds, 2),
    eventsPerSecond: Math.round(events / seconds),
    historyCpuMsPerOrder: round(cpuMs / lives.length, 2),
    historyNetCpuMsPerOrder: round((cpuMs - p.idleCpuMsPerSecond * seconds) / lives.length, 2),
    databaseCpuMsPerOrder: Number.isFinite(dbMs) ? round(dbMs / lives.length, 2) : null,
  };
}

/**
 * Starts a history process on `databaseUrl` (whose postmaster is `dbPid`) at the topics' end, measures
 * its idle cost, feeds it plan.feedOrders lives at once, then plan.liveOrders at plan.liveRate orders/s.
 */
export async function measureProjection(
  ctx: BenchContext,
  db: Kysely<HistoryDb>,
  databaseUrl: string,
  dbPid: number,
  plan: HistoryPlan,
  notes: string[],
): Promise<ProjectionCost> {
  const group = `${ctx.runId}-history`;
  const admin = ctx.kafka.admin();
  await admin.connect();
  // The apps' partitioner (kafkajs's default), named so that kafkajs does not warn about it.
  const producer = ctx.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await startAtTopicEnds(admin, db);
    await producer.connect();
    const livesOf = (name: string, count: number): { customer: string; lives: OrderLife[] } => {
      const customer = `unverified:${ctx.runId}-${name}`;
      const now = Date.now();
      const lives = Array.from({ length: count }, (_, n) =>
        orderLife(benchOrder(`${ctx.runId}-${name}-${n}`, n, customer), now - (count - n) * 100),
      );
      return { customer, lives };
    };

    ctx.progress.log(`history: starting the history process (group ${group})`);
    const apps = await startApps(ctx, 'history-projection', 0, ['history'], ctx.temporal, {
      DATABASE_URL: databaseUrl,
      HISTORY_GROUP_ID: group,
    });
    try {
      const pid = apps.history?.pid;
      // Joined and fetching: the group is stable; then its idle cost (fetch polling) over 4 s.
      await waitForStableGroup(admin, group);
      await sleep(1_000);
      const idleFrom = cpuOf(pid);
      await sleep(4_000);
      const idleCpuMsPerSecond = (cpuOf(pid) - idleFrom) / 4;
      const projector: Projector = { admin, producer, db, group, pid, dbPid, idleCpuMsPerSecond, peakRss: 0 };
      const phases: ProjectionPhase[] = [];

      const burst = livesOf('feed', plan.feedOrders);
      ctx.progress.log(`history: feeding ${plan.feedOrders} orders' lives at once`);
      phases.push(await feedPhase(ctx, projector, { mode: 'burst' }, burst.lives, burst.customer, notes));
      if (plan.liveOrders > 0 && plan.liveRate > 0) {
        const live = livesOf('live', plan.liveOrders);
        ctx.progress.log(`history: feeding ${plan.liveOrders} orders' lives at ${plan.liveRate} orders/s`);
        const feed: Feed = { mode: 'live', ordersPerSecond: plan.liveRate };
        phases.push(await feedPhase(ctx, projector, feed, live.lives, live.customer, notes));
      }
      return {
        phases,
        historyIdleCpuPct: round(idleCpuMsPerSecond / 10, 1),
        historyPeakRssMb: Math.round(projector.peakRss / 1024 ** 2),
      };
    } finally {
      await stopApps(apps);
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
    await leaveNothingForBridge(ctx, 'history', notes);
  }
}
