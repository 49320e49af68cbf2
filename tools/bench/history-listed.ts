/**
 * The history scenario's accepted → listed (tools/bench/history-run.ts; issue 28: an order the
 * gateway has accepted is in its customer's list within 1 s, on any gateway, even while the bridge
 * or Temporal is down). A history process (history/main.ts, a consumer group of its own, started at
 * the topics' end) and two gateways in JWT mode run, and no bridge and no worker: the list must not
 * depend on them. One customer places `orders` orders at `rate`/s over one WebSocket to gateway A; a
 * second WebSocket of the same customer, to gateway B, asks listOrders every POLL_MS (one call in
 * flight at most), its first page and, while a page may still hide an order not listed yet, the next
 * ones. For each order: orderAccepted (at A) → the first answer (from B) that lists it.
 */
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { WebSocket } from 'ws';
import { frameOrderId, parseServerFrame, type ReceivedFrame } from '../../common/protocol';
import type { OrderPage } from '../../history/list';
import type { HistoryDb } from '../../history/store';
import { freePort, sleep, waitForPort } from '../infra/proc';
import type { AppProcess } from '../infra/app-process';
import { type BenchContext, makeOrders, startApps, startExtraGateway, stopApps } from './context';
import { startAtTopicEnds, waitForStableGroup } from './history-projection';
import { groupMembers } from './kafka-util';
import { benchCustomers } from './lookup-flood';
import { BRIDGE_GROUP, leaveNothingForBridge } from './pipeline';
import { percentiles, round, type Percentiles } from './stats';
import { openConnections } from './ws-load';

export interface ListedPlan {
  /** Orders the customer places. */
  orders: number;
  /** Orders per second offered. */
  rate: number;
}

export interface ListedResult {
  plan: ListedPlan;
  /** Where the list was read: on a second gateway, not the one that accepted the orders. */
  listedOn: 'second gateway';
  accepted: number;
  /** Accepted orders that a listOrders answer held. */
  listed: number;
  /** orderAccepted → the first listOrders answer holding the order, ms (upper bound: see POLL_MS). */
  ms: Percentiles | null;
  /** Listed before their orderAccepted reached the client: counted as 0 ms. */
  listedBeforeAccept: number;
  /** Placement and listOrders errors by code; UNANSWERED: no answer to a placeOrder within the cap. */
  errors: Record<string, number>;
  offeredPerSecond: number;
  pollMs: number;
  /** listOrders calls made, pages after the first included. */
  listCalls: number;
  /** Members of the production bridge group once the orders were listed (0: no bridge ran). */
  bridgeMembers: number;
  seconds: number;
}

/**
 * A new listOrders cycle starts at most this often. An order is counted listed when the answer
 * arrives, so each figure is an upper bound by up to this interval (plus one answer's time).
 */
export const POLL_MS = 50;
/** Pages one cycle reads at most: with at most 20 cycles a second, 80 calls/s stays under the gateway's 100/s per connection. */
const MAX_PAGES_PER_CYCLE = 4;
/** How long after the last order was sent answers and listings are waited for. */
const TAIL_MS = 15_000;
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * What one listOrders page (newest first) tells about the orders not listed yet (`waiting`: order
 * id → epoch ms when its placeOrder was sent): which of them it lists, and the cursor to read next
 * when one of the others could still be further down, i.e. when the page's last row was placed no
 * earlier than the oldest of them was sent (the gateway stamps placedAt after the send).
 */
export function readPage(page: OrderPage, waiting: ReadonlyMap<string, number>): { seen: string[]; next?: string } {
  const seen = page.orders.filter((o) => waiting.has(o.orderId)).map((o) => o.orderId);
  const seenSet = new Set(seen);
  const rest = [...waiting].filter(([id]) => !seenSet.has(id)).map(([, sentAt]) => sentAt);
  const last = page.orders[page.orders.length - 1];
  if (!page.cursor || !last || !rest.length || last.placedAt < Math.min(...rest)) return { seen };
  return { seen, next: page.cursor };
}

/** One request at a time on a WebSocket: its answer (`orders` or `error`) and when it arrived. */
class Asker {
  private pending?: (answer: { frame: ReceivedFrame; at: number }) => void;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      const frame = parseServerFrame(data.toString('utf8'));
      if (frame && (frame.event === 'orders' || frame.event === 'error')) this.pending?.({ frame, at });
    });
  }

  ask(request: unknown): Promise<{ frame: ReceivedFrame; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      this.pending = (answer) => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve(answer);
      };
      this.ws.send(JSON.stringify(request));
    });
  }
}

/** Places the orders on `placer` and lists them on `lister`; every order's accept → listed time. */
async function placeAndList(
  ctx: BenchContext,
  plan: ListedPlan,
  placer: WebSocket,
  lister: WebSocket,
): Promise<Omit<ListedResult, 'plan' | 'listedOn' | 'bridgeMembers'>> {
  const orders = makeOrders(`${ctx.runId}-listed-`, plan.orders);
  const errors: Record<string, number> = {};
  const count = (code: string): void => void (errors[code] = (errors[code] ?? 0) + 1);
  const sentAt = new Map<string, number>();
  const acceptedAt = new Map<string, number>();
  const listedAt = new Map<string, number>();
  /** Sent, not refused, not listed yet: order id → epoch ms of the send. */
  const waiting = new Map<string, number>();
  const answered = new Set<string>();

  placer.on('message', (data: Buffer) => {
    const at = performance.now();
    const frame = parseServerFrame(data.toString('utf8'));
    const orderId = frame && frameOrderId(frame);
    if (!frame || !orderId || !sentAt.has(orderId) || answered.has(orderId)) return;
    if (frame.event === 'orderAccepted') {
      answered.add(orderId);
      acceptedAt.set(orderId, at);
    } else if (frame.event === 'error') {
      answered.add(orderId);
      count(String(frame.data.code));
      waiting.delete(orderId);
    }
  });

  const asker = new Asker(lister);
  let listCalls = 0;
  const listPage = async (cursor?: string): Promise<{ page: OrderPage; at: number } | undefined> => {
    listCalls += 1;
    const { frame, at } = await asker.ask({ event: 'listOrders', data: cursor ? { cursor } : {} });
    if (frame.event === 'orders') return { page: frame.data as unknown as OrderPage, at };
    count(`listOrders ${String(frame.data.code)}`);
    return undefined;
  };
  // The gateway connects to the history's database on its first listOrders: not part of any order's time.
  for (let i = 0; i < 5; i += 1) await listPage();
  listCalls = 0;

  let sending = true;
  let tailEnd = Infinity;
  const cycle = async (): Promise<void> => {
    let cursor: string | undefined;
    for (let pages = 0; pages < MAX_PAGES_PER_CYCLE; pages += 1) {
      const answer = await listPage(cursor);
      if (!answer) return;
      const { seen, next } = readPage(answer.page, waiting);
      for (const id of seen) {
        listedAt.set(id, answer.at);
        waiting.delete(id);
      }
      if (!next) return;
      cursor = next;
    }
  };
  const polling = (async () => {
    while (sending || (waiting.size > 0 && performance.now() < tailEnd)) {
      const started = performance.now();
      if (waiting.size > 0) {
        try {
          await cycle();
        } catch (err) {
          count(`listOrders ${(err as Error).message}`);
        }
      }
      await sleep(Math.max(0, started + POLL_MS - performance.now()));
    }
  })();

  const t0 = performance.now();
  let next = 0;
  while (next < orders.length) {
    const due = Math.min(orders.length, Math.floor(((performance.now() - t0) * plan.rate) / 1000) + 1);
    for (; next < due; next += 1) {
      const order = orders[next];
      sentAt.set(order.orderId, performance.now());
      waiting.set(order.orderId, Date.now());
      placer.send(JSON.stringify({ event: 'placeOrder', data: order }));
    }
    await sleep(5);
  }
  const sendSeconds = Math.max(0.001, (performance.now() - t0) / 1000);
  tailEnd = performance.now() + TAIL_MS;
  // Answers first (a refusal takes its order out of `waiting`), then the listing's tail.
  while (answered.size < orders.length && performance.now() < tailEnd) await sleep(20);
  for (const o of orders)
    if (!answered.has(o.orderId)) {
      count('UNANSWERED');
      waiting.delete(o.orderId);
    }
  sending = false;
  await polling;

  const ms: number[] = [];
  let listedBeforeAccept = 0;
  for (const [id, accepted] of acceptedAt) {
    const listed = listedAt.get(id);
    if (listed === undefined) continue;
    if (listed < accepted) listedBeforeAccept += 1;
    ms.push(Math.max(0, listed - accepted));
  }
  return {
    accepted: acceptedAt.size,
    listed: ms.length,
    ms: percentiles(ms),
    listedBeforeAccept,
    errors,
    offeredPerSecond: round(orders.length / sendSeconds, 1),
    pollMs: POLL_MS,
    listCalls,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
}

/**
 * Starts a history process on `databaseUrl` at the topics' end and two gateways in JWT mode (no
 * bridge, no worker), measures accepted → listed for plan.orders orders, stops them, and moves the
 * production bridge group past the orders (they are on the shared order-placement topic).
 */
export async function measureListed(
  ctx: BenchContext,
  db: Kysely<HistoryDb>,
  databaseUrl: string,
  plan: ListedPlan,
  notes: string[],
): Promise<ListedResult> {
  const group = `${ctx.runId}-history-listed`;
  const { secret, tokenOf } = benchCustomers();
  const token = await tokenOf(`${ctx.runId}-lister`);
  const admin = ctx.kafka.admin();
  await admin.connect();
  const sockets: WebSocket[] = [];
  let apps: Awaited<ReturnType<typeof startApps>> | undefined;
  let second: AppProcess | undefined;
  try {
    await startAtTopicEnds(admin, db);
    ctx.progress.log(`history: accepted → listed: a history process (group ${group}) and two gateways in JWT mode`);
    const env = { DATABASE_URL: databaseUrl, HISTORY_GROUP_ID: group, GATEWAY_JWT_SECRET: secret };
    apps = await startApps(ctx, 'history-listed', 0, ['history', 'gateway'], ctx.temporal, env);
    if (!(await waitForPort(ctx.gatewayPort, 60_000)))
      throw new Error(`the gateway's client port ${ctx.gatewayPort} did not open within 60 s`);
    const ports = { client: await freePort(), admin: await freePort() };
    second = await startExtraGateway(ctx, 'history-listed', 'gateway-B', ports, env);
    await waitForStableGroup(admin, group);
    const [placer] = await openConnections(`ws://127.0.0.1:${ctx.gatewayPort}`, 1, 15_000, token);
    sockets.push(placer);
    const [lister] = await openConnections(`ws://127.0.0.1:${ports.client}`, 1, 15_000, token);
    sockets.push(lister);
    ctx.progress.log(`history: ${plan.orders} orders at ${plan.rate}/s, listed on the second gateway`);
    const measured = await placeAndList(ctx, plan, placer, lister);
    const bridgeMembers = await groupMembers(ctx.kafka, BRIDGE_GROUP);
    return { plan, listedOn: 'second gateway', ...measured, bridgeMembers };
  } finally {
    for (const ws of sockets) ws.terminate();
    await second?.stop(20_000);
    if (apps) await stopApps(apps);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
    await leaveNothingForBridge(ctx, 'history-listed', notes);
  }
}
