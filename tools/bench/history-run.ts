/**
 * The bench's `history` scenario (issue 28): the order history on the default database, the
 * launcher's embedded PostgreSQL (tools/infra/history-db-server.ts), started for this scenario as a
 * stack of its own (temporary data directory, free port) and removed after.
 *
 * 1. listOrders latency. One customer gets --history-orders orders (other customers as many again,
 *    spread over 1 000 of them), inserted in bulk and ANALYZEd. Then --history-queries first-page and as
 *    many deep-page queries (a cursor from the second half of the customer's pages), one at a time
 *    and at most 50 a second, through the bench's gateway over WebSocket (no-auth mode: the customer label) and directly with
 *    history/list.ts listOrders() from this process; p50/p95/p99 of each. 20 queries of each kind
 *    before each series warm up connections and code and are not counted.
 * 2. The projection's cost. A history process (history/main.ts, its own consumer group, the same
 *    database) starts at the topics' end (its offsets in the database are set to the ends before it
 *    starts, and the database is what it seeks to); --history-feed orders' lives (ORDER_PLACED and the
 *    8 status events of a completed order, tools/bench/history-data.ts) are produced to order-placement
 *    and order-status as fast as Kafka takes them, and the process's CPU time (its process tree, from
 *    /proc) is read from the first send until it has committed every partition up to the end:
 *    CPU ms per order and events/s. The database's CPU (its whole process tree) is read over the same window.
 *
 * The feed's ORDER_PLACED events are on the shared order-placement topic: afterwards the production
 * bridge group is moved past them (pipeline.ts leaveNothingForBridge), as after the configurations
 * whose bridge has a group of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { sql, type Kysely } from 'kysely';
import { WebSocket } from 'ws';
import { TOPICS } from '../../common/names';
import { parseServerFrame, type ReceivedFrame } from '../../common/protocol';
import { listOrders, MAX_PAGE_SIZE, type OrderPage } from '../../history/list';
import { migrate, openHistoryDb, saveOffset, type HistoryDb } from '../../history/store';
import { historyDbUrlOf, startHistoryDb } from '../infra/history-db-server';
import { freePort, killGroup, sleep, waitForPort } from '../infra/proc';
import { ownedPid, stopServer } from '../infra/server-process';
import { stackOptions } from '../infra/stack-options';
import { type BenchContext, loadAverage, startApps, stopApps } from './context';
import type { CostRow } from './cost';
import {
  benchOrder,
  chunks,
  historyRows,
  liveSchedule,
  orderLife,
  type OrderLife,
  type TimedRecord,
} from './history-data';
import { leaveNothingForBridge } from './pipeline';
import { treeUsage } from './proc-tree';
import { percentiles, round, type Percentiles } from './stats';
import { openConnections } from './ws-load';

export interface HistoryPlan {
  /** Orders of the one customer whose list is read. */
  listOrders: number;
  /** Queries of each kind (first page, deep page) on each path (gateway, direct). */
  queries: number;
  /** Orders whose events are fed to the history process at once. */
  feedOrders: number;
  /** Orders fed afterwards as a live stream at `liveRate` orders/s (0: no live phase). */
  liveOrders: number;
  liveRate: number;
}

export interface ListLatency {
  path: 'gateway over WebSocket' | 'listOrders() direct';
  page: 'first' | 'deep';
  ms: Percentiles | null;
  /** Answers that were errors or not a full page, by kind. */
  errors: Record<string, number>;
}

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

export interface HistoryResult {
  plan: HistoryPlan;
  /** Rows in the orders table when the latency was measured: the customer's and the others'. */
  rows: { customer: number; others: number; insertSeconds: number };
  latency: ListLatency[];
  projection?: ProjectionCost;
  loadAvg: { start: number[]; end: number[] };
  wallSeconds: number;
  notes: string[];
}

/** Customers the other orders are spread over (their rows sit in the same index as the measured customer's). */
const OTHER_CUSTOMERS = 1000;
const WARM_UP = 20;
/**
 * Queries start at least this far apart (at most 50/s): the gateway's per-connection rate limit
 * (GATEWAY_RATE_PER_SECOND, 100/s) refuses faster clients, and a refusal is not a latency. The
 * direct calls are paced the same, so both paths see the same load.
 */
const QUERY_INTERVAL_MS = 20;
const INSERT_CHUNK = 1000;
const PRODUCE_CHUNK = 1000;
/** Between one order's status events in the live stream. */
const LIVE_STEP_MS = 100;

/** A queue of server frames of one WebSocket, for one request at a time. */
class FrameQueue {
  private frames: ReceivedFrame[] = [];
  private waiter?: () => void;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = parseServerFrame(data.toString('utf8'));
      if (!frame) return;
      this.frames.push(frame);
      this.waiter?.();
    });
  }

  /** Sends `request` and resolves with the next `orders` or `error` frame. */
  async ask(request: unknown, timeoutMs = 10_000): Promise<ReceivedFrame> {
    this.frames = [];
    this.ws.send(JSON.stringify(request));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.frames.find((f) => f.event === 'orders' || f.event === 'error');
      if (answer) return answer;
      if (Date.now() > deadline) throw new Error('no answer within 10 s');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }
}

type Ask = (cursor: string | undefined) => Promise<OrderPage>;

/**
 * Times `queries` first-page and as many deep-page questions, alternating, one at a time and at most
 * one every QUERY_INTERVAL_MS, after WARM_UP of each that are not counted. A page that is not full
 * counts as an error.
 */
async function timeQueries(
  ask: Ask,
  deep: readonly string[],
  queries: number,
  fullPage: number,
): Promise<Record<'first' | 'deep', { ms: number[]; errors: Record<string, number> }>> {
  type Series = { ms: number[]; errors: Record<string, number> };
  const out: Record<'first' | 'deep', Series> = { first: { ms: [], errors: {} }, deep: { ms: [], errors: {} } };
  const one = async (kind: 'first' | 'deep', i: number, counted: boolean): Promise<void> => {
    const cursor = kind === 'first' ? undefined : deep[i % deep.length];
    const { errors } = out[kind];
    const started = performance.now();
    try {
      const page = await ask(cursor);
      const ms = performance.now() - started;
      if (!counted) return;
      out[kind].ms.push(ms);
      if (page.orders.length !== fullPage) errors['short page'] = (errors['short page'] ?? 0) + 1;
    } catch (err) {
      if (!counted) return;
      const what = (err as Error).message;
      errors[what] = (errors[what] ?? 0) + 1;
    }
  };
  let lastStart = 0;
  const paced = async (kind: 'first' | 'deep', i: number, counted: boolean): Promise<void> => {
    await sleep(Math.max(0, lastStart + QUERY_INTERVAL_MS - performance.now()));
    lastStart = performance.now();
    await one(kind, i, counted);
  };
  for (let i = 0; i < WARM_UP; i += 1) for (const kind of ['first', 'deep'] as const) await paced(kind, i, false);
  for (let i = 0; i < queries; i += 1) for (const kind of ['first', 'deep'] as const) await paced(kind, i, true);
  return out;
}

/** Inserts the customer's orders and the others' in bulk, then ANALYZE (as autovacuum would soon). */
async function fillHistory(
  db: Kysely<HistoryDb>,
  runId: string,
  customer: string,
  count: number,
): Promise<HistoryResult['rows']> {
  const started = Date.now();
  const now = Date.now();
  const rows = historyRows(customer, `${runId}-list-`, count, now);
  const perOther = Math.max(1, Math.round(count / OTHER_CUSTOMERS));
  for (let c = 0; c < OTHER_CUSTOMERS; c += 1)
    rows.push(...historyRows(`unverified:${runId}-other-${c}`, `${runId}-other-${c}-`, perOther, now - c));
  for (const chunk of chunks(rows, INSERT_CHUNK)) await db.insertInto('orders').values(chunk).execute();
  await sql`analyze orders`.execute(db);
  return { customer: count, others: rows.length - count, insertSeconds: round((Date.now() - started) / 1000, 1) };
}

/** Every page's cursor of the customer's list, read once directly: the second half are the deep ones. */
async function deepCursors(db: Kysely<HistoryDb>, customer: string): Promise<{ deep: string[]; listed: number }> {
  const cursors: string[] = [];
  let listed = 0;
  let cursor: string | undefined;
  do {
    const page = await listOrders(db, customer, cursor === undefined ? {} : { cursor });
    listed += page.orders.length;
    cursor = page.cursor;
    if (cursor !== undefined) cursors.push(cursor);
  } while (cursor !== undefined);
  // The last cursor may lead to a short page: the deep ones stop one before it.
  return { deep: cursors.slice(Math.floor(cursors.length / 2), Math.max(1, cursors.length - 1)), listed };
}

async function measureLatency(
  ctx: BenchContext,
  db: Kysely<HistoryDb>,
  databaseUrl: string,
  label: string,
  plan: HistoryPlan,
): Promise<ListLatency[]> {
  const customer = `unverified:${label}`;
  const { deep, listed } = await deepCursors(db, customer);
  if (listed !== plan.listOrders) throw new Error(`the customer's list holds ${listed} orders, not ${plan.listOrders}`);
  const fullPage = Math.min(MAX_PAGE_SIZE, plan.listOrders);
  const rows = (path: ListLatency['path'], t: Awaited<ReturnType<typeof timeQueries>>): ListLatency[] =>
    (['first', 'deep'] as const).map((page) => ({ path, page, ms: percentiles(t[page].ms), errors: t[page].errors }));

  ctx.progress.log(`history: ${plan.queries} first-page and deep-page listOrders through the gateway`);
  const apps = await startApps(ctx, 'history-list', 0, ['gateway'], ctx.temporal, { DATABASE_URL: databaseUrl });
  let overGateway: ListLatency[];
  try {
    // The admin port answers before the client port listens (the producer connects in between).
    if (!(await waitForPort(ctx.gatewayPort, 60_000)))
      throw new Error(`the gateway's client port ${ctx.gatewayPort} did not open within 60 s`);
    const [ws] = await openConnections(`ws://127.0.0.1:${ctx.gatewayPort}`, 1);
    const frames = new FrameQueue(ws);
    const ask: Ask = async (cursor) => {
      const frame = await frames.ask({
        event: 'listOrders',
        data: { customerId: label, ...(cursor ? { cursor } : {}) },
      });
      if (frame.event !== 'orders') throw new Error(`error ${String(frame.data.code)}`);
      return frame.data as unknown as OrderPage;
    };
    overGateway = rows('gateway over WebSocket', await timeQueries(ask, deep, plan.queries, fullPage));
    ws.close();
  } finally {
    await stopApps(apps);
  }
  ctx.progress.log(`history: the same queries directly with listOrders()`);
  const direct = await timeQueries(
    (cursor) => listOrders(db, customer, cursor === undefined ? {} : { cursor }),
    deep,
    plan.queries,
    fullPage,
  );
  return [...overGateway, ...rows('listOrders() direct', direct)];
}

/** The topics' ends, by `topic/partition`. */
async function topicEnds(admin: Admin, topics: readonly string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics)
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
  return ends;
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

async function measureProjection(
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
    // The history starts where its database says: at the topics' end, so it reads the feed and nothing older.
    const start = await topicEnds(admin, FEED_TOPICS);
    await db.transaction().execute(async (tx) => {
      for (const [key, end] of start) {
        const at = key.lastIndexOf('/');
        await saveOffset(tx, key.slice(0, at), Number(key.slice(at + 1)), end);
      }
    });
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
      const joinBy = Date.now() + 60_000;
      while ((await admin.describeGroups([group])).groups[0]?.state !== 'Stable') {
        if (Date.now() > joinBy) throw new Error(`the history process did not join group ${group} within 60 s`);
        await sleep(200);
      }
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

/** Runs the scenario on a fresh embedded PostgreSQL of its own, removed after. */
export async function runOrderHistory(ctx: BenchContext, plan: HistoryPlan): Promise<HistoryResult> {
  const began = Date.now();
  const loadStart = loadAverage();
  const notes: string[] = [];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `order-bench-history-${ctx.runId}-`));
  const stack = stackOptions({ dataDir: workDir, ports: { historyDb: await freePort() } });
  const log = (line: string): void => ctx.progress.log(`history database: ${line}`);
  // Ctrl-C or a crash of the bench skips the finally below: the database (its own process group) goes with us.
  const onExit = (): void => {
    const pid = ownedPid('history-db', stack);
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  let db: Kysely<HistoryDb> | undefined;
  try {
    const started = Date.now();
    const dbPid = await startHistoryDb(stack, log);
    log(`embedded PostgreSQL ready in ${((Date.now() - started) / 1000).toFixed(1)} s (data ${workDir})`);
    const databaseUrl = historyDbUrlOf(stack);
    db = openHistoryDb(databaseUrl, 5);
    await migrate(db);
    const label = `${ctx.runId}-lister`;
    const rows = await fillHistory(db, ctx.runId, `unverified:${label}`, plan.listOrders);
    log(`${rows.customer} orders of one customer and ${rows.others} of others inserted in ${rows.insertSeconds} s`);
    const latency = await measureLatency(ctx, db, databaseUrl, label, plan);
    for (const l of latency)
      ctx.progress.log(`history: ${l.path}, ${l.page} page: p50 ${l.ms?.p50 ?? '–'} / p99 ${l.ms?.p99 ?? '–'} ms`);
    let projection: ProjectionCost | undefined;
    try {
      projection = await measureProjection(ctx, db, databaseUrl, dbPid, plan, notes);
      for (const phase of projection.phases)
        ctx.progress.log(
          `history: projection (${phase.mode}) ${phase.eventsPerSecond} events/s, ${phase.historyCpuMsPerOrder} ms CPU per order ` +
            `(${phase.historyNetCpuMsPerOrder} less idle polling) ` +
            `(database ${phase.databaseCpuMsPerOrder ?? '–'} ms)`,
        );
    } catch (err) {
      notes.push(`projection not measured: ${(err as Error).message.split('\n')[0]}`);
    }
    return {
      plan,
      rows,
      latency,
      projection,
      loadAvg: { start: loadStart, end: loadAverage() },
      wallSeconds: Math.round((Date.now() - began) / 1000),
      notes,
    };
  } finally {
    await db?.destroy().catch(() => undefined);
    await stopServer('history-db', stack, { log });
    fs.rmSync(workDir, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}

const pct = (p: Percentiles | null): string => (p ? `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}` : '–');

/** The scenario's tables; the pipeline's per-order cost (pipe-full-d0) beside the projection's when it ran. */
export function orderHistoryMarkdown(result: HistoryResult | undefined, costs: CostRow[]): string[] {
  if (!result) return [];
  const r = result;
  const lines = [
    `Order history (embedded PostgreSQL of its own): listOrders of one customer with ${r.rows.customer} orders ` +
      `(${r.rows.others} more of ${OTHER_CUSTOMERS} other customers in the table), ${r.plan.queries} queries of each kind, ` +
      `one at a time, at most 50 a second; "deep": a cursor from the second half of the customer's pages. Load average ${r.loadAvg.start[0]} → ${r.loadAvg.end[0]}, ${r.wallSeconds} s.`,
    '',
    '| path | page | p50 / p95 / p99 / max (ms) | errors |',
    '| --- | --- | --- | --- |',
  ];
  for (const l of r.latency)
    lines.push(
      `| ${l.path} | ${l.page} | ${pct(l.ms)} | ${Object.keys(l.errors).length ? JSON.stringify(l.errors) : 0} |`,
    );
  lines.push('');
  const p = r.projection;
  if (p) {
    const pipe = costs.find((c) => c.id === 'pipe-full-d0');
    lines.push(
      "The projection: orders' lives (ORDER_PLACED + 8 status events each) produced to a running history process, all at once " +
        '("burst", as when it catches up) and as a stream at a fixed order rate ("live"); its CPU (process tree, /proc) and the ' +
        `database's from the first send until every partition was committed. History process idle: ${p.historyIdleCpuPct} % CPU; peak RSS ${p.historyPeakRssMb} MB.`,
      '',
      '| feed | orders applied | events | seconds (sending) | events/s | history CPU ms/order (less idle) | database CPU ms/order | pipeline CPU ms/order (pipe-full-d0) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const f of p.phases)
      lines.push(
        `| ${f.mode === 'live' ? `live, ${f.offeredOrdersPerSecond} orders/s` : 'burst'} | ${f.applied} / ${f.orders} | ${f.events} | ${f.seconds} (${f.sendSeconds}) | **${f.eventsPerSecond}** | **${f.historyCpuMsPerOrder}** (${f.historyNetCpuMsPerOrder}) | ${f.databaseCpuMsPerOrder ?? '–'} | ${pipe ? pipe.totalCpuMsPerOrder : '– (not in this run)'} |`,
      );
    lines.push('');
  }
  for (const n of r.notes) lines.push(`- history: ${n}`);
  if (r.notes.length) lines.push('');
  return lines;
}
