// The bench's order-history scenario without servers: the feed's messages are what the history's own
// parsers read as one completed order (placement, then seq 1..8 up to COMPLETED, under its workflow
// id and key); the live stream keeps each order's events in order at the offered rate; the bulk
// rows are one customer's, newest first, with distinct keyset positions; the scenario is selectable
// with --only history, and its ≤ 50 ms p99 target reads the gateway's figures only; accepted → listed
// reads the pages it needs and no more, and its ≤ 1 s p99 target is met only when every order was
// accepted and listed in time with no bridge running.
import type { KafkaMessage } from 'kafkajs';
import { kafkaKeyOf, workflowIdFor } from '../../common/order';
import { placedFactOf, statusFactOf, type StatusFact } from '../../history/projection';
import {
  benchOrder,
  chunks,
  COMPLETED_LIFE,
  historyRows,
  liveSchedule,
  orderLife,
  type KafkaRecord,
} from '../../tools/bench/history-data';
import type { ListLatency } from '../../tools/bench/history-latency';
import { readPage, type ListedResult } from '../../tools/bench/history-listed';
import type { HistoryResult } from '../../tools/bench/history-run';
import { parseOptions } from '../../tools/bench/options';
import { planSteps } from '../../tools/bench/plan';
import { percentiles } from '../../tools/bench/stats';
import { computeTargets } from '../../tools/bench/verdicts';

const messageOf = (r: KafkaRecord): KafkaMessage => ({
  key: Buffer.from(r.key),
  value: Buffer.from(r.value),
  timestamp: '1',
  offset: '0',
  attributes: 0,
  headers: r.headers ?? {},
});

describe('orderLife', () => {
  const order = benchOrder('bench-x-feed-7', 7, 'unverified:bench-x-feeder');
  const placedAt = 1_700_000_000_000;
  const life = orderLife(order, placedAt, 10);
  const workflowId = workflowIdFor(order);

  test('its ORDER_PLACED is read by the projection as the order, placed at its time, keyed as the gateway keys it', async () => {
    // A clear event: the projection never asks for the key store.
    const fact = await placedFactOf(messageOf(life.placement), () => {
      throw new Error('a clear order needs no key store');
    });
    expect(fact).toEqual({ kind: 'placed', workflowId, order, placedAt });
    expect(life.placement.key).toBe(kafkaKeyOf(workflowId));
    expect(life.placement.headers?.eventId).toBe((JSON.parse(life.placement.value) as { eventId: string }).eventId);
  });

  test('its 8 status events are read as seq 1..8 of the same run, ending COMPLETED, with the charge and tracking details', () => {
    const facts = life.statuses.map((r) => statusFactOf(messageOf(r)));
    expect(facts.every((f) => 'kind' in f)).toBe(true);
    const statuses = facts as StatusFact[];
    expect(statuses.map((f) => f.status)).toEqual([...COMPLETED_LIFE]);
    expect(statuses.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(statuses.map((f) => f.at)).toEqual(statuses.map((_, i) => placedAt + (i + 1) * 10));
    expect(new Set(statuses.map((f) => f.workflowId))).toEqual(new Set([workflowId]));
    expect(new Set(life.statuses.map((r) => r.key))).toEqual(new Set([kafkaKeyOf(workflowId)]));
    const details = life.statuses.map((r) => (JSON.parse(r.value) as { detail?: string }).detail);
    expect(details[4]).toMatch(/^ch_/);
    expect(details[6]).toMatch(/^trk_/);
    expect(details.filter((d) => d !== undefined)).toHaveLength(2);
  });
});

describe('liveSchedule', () => {
  const lives = Array.from({ length: 5 }, (_, n) => orderLife(benchOrder(`o-${n}`, n, 'unverified:c'), 0));

  test("order n is placed at n / rate s and its statuses follow every step, each order's events in seq order", () => {
    const schedule = liveSchedule(lives, 20, 100);
    expect(schedule).toHaveLength(5 * 9);
    expect(schedule.map((r) => r.atMs)).toEqual([...schedule.map((r) => r.atMs)].sort((a, b) => a - b));
    lives.forEach((life, n) => {
      const own = schedule.filter((r) => r.record.key === life.placement.key);
      expect(own[0]).toEqual({ atMs: n * 50, topic: 'placement', record: life.placement });
      expect(own.slice(1).map((r) => r.record)).toEqual(life.statuses);
      expect(own.slice(1).map((r) => r.atMs)).toEqual(life.statuses.map((_, i) => n * 50 + (i + 1) * 100));
    });
  });

  test('a rate of 0 orders/s is refused', () => {
    expect(() => liveSchedule(lives, 0, 100)).toThrow(/above 0/);
  });
});

describe('historyRows and chunks', () => {
  test("one customer's rows, newest first, every keyset position distinct, one in twenty still open", () => {
    const rows = historyRows('unverified:c', 'p-', 200, 1_000_000_000);
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.customer_id))).toEqual(new Set(['unverified:c']));
    expect(new Set(rows.map((r) => `${r.placed_at}/${r.workflow_id}`)).size).toBe(200);
    rows.slice(1).forEach((r, i) => expect(r.placed_at!).toBeLessThan(rows[i].placed_at!));
    expect(rows.filter((r) => r.status !== 'COMPLETED').map((r) => [r.status, r.seq])).toEqual(
      Array.from({ length: 10 }, () => ['SHIPPING', 6]),
    );
  });

  test('chunks keeps every item in order, at most `size` a chunk, and refuses a size below 1', () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    expect(chunks(items, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(chunks([], 3)).toEqual([]);
    expect(() => chunks(items, 0)).toThrow(/≥ 1/);
  });
});

describe('the history configuration in the plan', () => {
  const parse = (args: string[]) => parseOptions(['node', 'bench', ...args]);

  test('--only history runs it alone: no Temporal configuration; --quick shrinks its counts', () => {
    const { kinds, opts } = parse(['--quick', '--only', 'history']);
    expect([...kinds]).toEqual(['history']);
    expect(planSteps({ ...opts, kinds })).toEqual([]);
    expect([opts.historyOrders, opts.historyQueries, opts.historyFeed, opts.historyLiveOrders]).toEqual([
      2000, 100, 300, 100,
    ]);
    expect([opts.historyListedOrders, opts.historyListedRate]).toEqual([100, 20]);
  });

  test('the default run includes it with 10 000 orders, 500 queries of each kind and 2 000 orders fed', () => {
    const { kinds, opts } = parse([]);
    expect(kinds.has('history')).toBe(true);
    expect([opts.historyOrders, opts.historyQueries, opts.historyFeed]).toEqual([10_000, 500, 2_000]);
    expect([opts.historyListedOrders, opts.historyListedRate]).toEqual([200, 20]);
  });
});

describe('the listOrders target', () => {
  const latency = (path: ListLatency['path'], page: ListLatency['page'], p99: number): ListLatency => ({
    path,
    page,
    ms: percentiles([1, 2, p99]),
    errors: {},
  });
  const result = (rows: ListLatency[]): HistoryResult => ({
    plan: { listOrders: 10_000, queries: 3, feedOrders: 0, liveOrders: 0, liveRate: 0, listedOrders: 0, listedRate: 0 },
    rows: { customer: 10_000, others: 10_000, insertSeconds: 1 },
    latency: rows,
    loadAvg: { start: [1], end: [1] },
    wallSeconds: 1,
    notes: [],
  });
  const target = (rows: ListLatency[]) =>
    computeTargets([], { rate: 300, slowDelay: 2000 }, undefined, result(rows)).find((t) =>
      t.name.startsWith('listOrders p99 through the gateway'),
    );

  test('met when both gateway p99s are at most 50 ms, whatever the direct calls took', () => {
    const t = target([
      latency('gateway over WebSocket', 'first', 50),
      latency('gateway over WebSocket', 'deep', 12),
      latency('listOrders() direct', 'deep', 400),
    ]);
    expect(t).toMatchObject({ goal: '<= 50 ms', met: true });
    expect(t?.measured).toContain('deep p50 2 / p99 12 ms');
  });

  test('not met when a gateway p99 is above 50 ms, or when an answer was not a full page', () => {
    expect(
      target([latency('gateway over WebSocket', 'first', 9), latency('gateway over WebSocket', 'deep', 50.1)])?.met,
    ).toBe(false);
    const short = { ...latency('gateway over WebSocket', 'first', 9), errors: { 'short page': 1 } };
    expect(target([short])?.met).toBe(false);
  });
});

describe('accepted → listed', () => {
  const row = (orderId: string, placedAt: number) => ({
    orderId,
    item: 'w',
    price: 1,
    quantity: 1,
    status: 'ACCEPTED' as const,
    seq: 1,
    placedAt,
    updatedAt: placedAt,
  });

  test('readPage names the waiting orders a page lists, and reads on only while an older one may be further down', () => {
    const page = { orders: [row('c', 300), row('b', 200), row('x', 150)], cursor: 'next' };
    // a (sent at 100) is not on the page, whose last row was placed at 150: it may be on the next.
    expect(
      readPage(
        page,
        new Map([
          ['a', 100],
          ['b', 190],
          ['c', 290],
        ]),
      ),
    ).toEqual({ seen: ['c', 'b'], next: 'next' });
    // d was sent at 250, after the last row was placed: it cannot be further down.
    expect(
      readPage(
        page,
        new Map([
          ['c', 290],
          ['d', 250],
        ]),
      ),
    ).toEqual({ seen: ['c'] });
    // Everything waiting is listed, or there is no next page: nothing more to read.
    expect(readPage(page, new Map([['b', 100]]))).toEqual({ seen: ['b'] });
    expect(readPage({ orders: page.orders }, new Map([['a', 100]]))).toEqual({ seen: [] });
  });

  const listed = (p99: number, over: Partial<ListedResult> = {}): ListedResult => ({
    plan: { orders: 3, rate: 20 },
    listedOn: 'second gateway',
    accepted: 3,
    listed: 3,
    ms: percentiles([100, 200, p99]),
    listedBeforeAccept: 0,
    errors: {},
    offeredPerSecond: 20,
    pollMs: 50,
    listCalls: 30,
    bridgeMembers: 0,
    seconds: 1,
    ...over,
  });
  const target = (l: ListedResult) =>
    computeTargets([], { rate: 300, slowDelay: 2000 }, undefined, {
      plan: { listOrders: 1, queries: 1, feedOrders: 0, liveOrders: 0, liveRate: 0, listedOrders: 3, listedRate: 20 },
      rows: { customer: 1, others: 1, insertSeconds: 1 },
      latency: [],
      listed: l,
      loadAvg: { start: [1], end: [1] },
      wallSeconds: 1,
      notes: [],
    }).find((t) => t.name.startsWith('accepted → listed p99'));

  test('met when every order was accepted and listed and the p99 is at most 1 s', () => {
    const t = target(listed(1000));
    expect(t).toMatchObject({ goal: '<= 1 s', met: true });
    expect(t?.measured).toContain('p50 200 / p95 1000 / p99 1000 / max 1000 ms; 3 of 3 accepted listed');
  });

  test('not met above 1 s, with an order unlisted, refused or unanswered; not judged with a bridge running', () => {
    expect(target(listed(1000.1))?.met).toBe(false);
    expect(target(listed(10, { listed: 2, ms: percentiles([10, 10]) }))?.met).toBe(false);
    expect(target(listed(10, { accepted: 2, listed: 2, errors: { UNANSWERED: 1 } }))?.met).toBe(false);
    expect(target(listed(10, { errors: { 'listOrders HISTORY_UNAVAILABLE': 1 } }))?.met).toBe(false);
    expect(target(listed(10, { bridgeMembers: 1 }))?.met).toBeNull();
  });
});
