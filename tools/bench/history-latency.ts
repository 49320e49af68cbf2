/**
 * The history scenario's listOrders latency (tools/bench/history-run.ts): one customer's orders and
 * other customers' inserted in bulk, then first-page and deep-page (cursor) queries one at a time,
 * through the bench's gateway over WebSocket and directly with history/list.ts listOrders().
 */
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import { WebSocket } from 'ws';
import { parseServerFrame, type ReceivedFrame } from '../../common/protocol';
import { listOrders, MAX_PAGE_SIZE, type OrderPage } from '../../history/list';
import type { HistoryDb } from '../../history/store';
import { sleep, waitForPort } from '../infra/proc';
import { type BenchContext, startApps, stopApps } from './context';
import { chunks, historyRows } from './history-data';
import type { HistoryPlan, HistoryResult } from './history-run';
import { percentiles, round, type Percentiles } from './stats';
import { openConnections } from './ws-load';

export interface ListLatency {
  path: 'gateway over WebSocket' | 'listOrders() direct';
  page: 'first' | 'deep';
  ms: Percentiles | null;
  /** Answers that were errors or not a full page, by kind. */
  errors: Record<string, number>;
}

/** Customers the other orders are spread over (their rows sit in the same index as the measured customer's). */
export const OTHER_CUSTOMERS = 1000;
const WARM_UP = 20;
/**
 * Queries start at least this far apart (at most 50/s): the gateway's per-connection rate limit
 * (GATEWAY_RATE_PER_SECOND, 100/s) refuses faster clients, and a refusal is not a latency. The
 * direct calls are paced the same, so both paths see the same load.
 */
const QUERY_INTERVAL_MS = 20;
const INSERT_CHUNK = 1000;

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
export async function fillHistory(
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

/**
 * Times the customer's (`unverified:<label>`) first and deep pages through a gateway process started
 * on `databaseUrl` (WebSocket, no-auth mode) and then directly with listOrders() on `db`.
 */
export async function measureLatency(
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
