/**
 * The bench's `history` scenario (issue 28): the order history on its default database, the
 * launcher's embedded PostgreSQL (tools/infra/history-db-server.ts), started for this scenario as a
 * stack of its own (temporary data directory, free port) and removed after.
 *
 * 1. listOrders latency (history-latency.ts). One customer gets --history-orders orders (other
 *    customers as many again, spread over 1 000 of them), inserted in bulk and ANALYZEd. Then
 *    --history-queries first-page and as many deep-page queries (a cursor from the second half of the
 *    customer's pages), one at a time and at most 50 a second, through the bench's gateway over
 *    WebSocket (no-auth mode: the customer label) and directly with history/list.ts listOrders() from
 *    this process; p50/p95/p99 of each.
 * 2. The projection's cost (history-projection.ts). A history process (history/main.ts, its own
 *    consumer group, the same database) starts at the topics' end and is fed orders' lives (ORDER_PLACED
 *    and the 8 status events of a completed order, history-data.ts) through order-placement and
 *    order-status, --history-feed at once and --history-live-orders as a stream; its CPU time and the
 *    database's (process trees, from /proc) per order, and events/s.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import type { Kysely } from 'kysely';
import { historyDbUrlOf, startHistoryDb } from '../infra/history-db-server';
import { freePort, killGroup } from '../infra/proc';
import { ownedPid, stopServer } from '../infra/server-process';
import { stackOptions } from '../infra/stack-options';
import { type BenchContext, loadAverage } from './context';
import type { CostRow } from './cost';
import { fillHistory, measureLatency, OTHER_CUSTOMERS, type ListLatency } from './history-latency';
import { measureListed, type ListedResult } from './history-listed';
import { measureProjection, type ProjectionCost } from './history-projection';
import type { Percentiles } from './stats';

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
  /** Orders placed through a gateway for accepted → listed, at `listedRate` orders/s (0: not measured). */
  listedOrders: number;
  listedRate: number;
}

export interface HistoryResult {
  plan: HistoryPlan;
  /** Rows in the orders table when the latency was measured: the customer's and the others'. */
  rows: { customer: number; others: number; insertSeconds: number };
  latency: ListLatency[];
  projection?: ProjectionCost;
  /** accepted → listed with no bridge and no worker running (history-listed.ts). */
  listed?: ListedResult;
  loadAvg: { start: number[]; end: number[] };
  wallSeconds: number;
  notes: string[];
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
    let listed: ListedResult | undefined;
    if (plan.listedOrders > 0 && plan.listedRate > 0)
      try {
        listed = await measureListed(ctx, db, databaseUrl, { orders: plan.listedOrders, rate: plan.listedRate }, notes);
        ctx.progress.log(
          `history: accepted → listed p50 ${listed.ms?.p50 ?? '–'} / p99 ${listed.ms?.p99 ?? '–'} ms ` +
            `(${listed.listed} of ${listed.accepted} accepted listed)`,
        );
      } catch (err) {
        notes.push(`accepted → listed not measured: ${(err as Error).message.split('\n')[0]}`);
      }
    return {
      plan,
      rows,
      latency,
      projection,
      listed,
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
  const l = r.listed;
  if (l) {
    lines.push(
      `Accepted → listed, with the history process running and no bridge and no worker (order-bridge had ${l.bridgeMembers} member(s)): ` +
        `one JWT customer placed ${l.plan.orders} orders at ${l.plan.rate}/s (offered ${l.offeredPerSecond}/s) over one WebSocket to a gateway; ` +
        `the same customer's listOrders on a ${l.listedOn}, a cycle every ${l.pollMs} ms (first page, and the next while one could hide an order not listed yet; ${l.listCalls} calls). ` +
        `Time from orderAccepted to the first answer that held the order: an upper bound by up to one cycle.`,
      '',
      '| orders accepted / sent | listed | accepted → listed p50 / p95 / p99 / max (ms) | listed before the accept arrived | errors | seconds |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${l.accepted} / ${l.plan.orders} | ${l.listed} | **${pct(l.ms)}** | ${l.listedBeforeAccept} | ${Object.keys(l.errors).length ? JSON.stringify(l.errors) : 0} | ${l.seconds} |`,
      '',
    );
  }
  for (const n of r.notes) lines.push(`- history: ${n}`);
  if (r.notes.length) lines.push('');
  return lines;
}
