// The bench's amend configurations without servers: selectable with --only amend (and only so), a pair
// at the slow step delay; the client amends each order once right after its VALIDATED push, resends
// an amendment answered BUSY unchanged and stops at a refusal, and its twin only follows; the report
// keeps the amended history column beside its twin's and names the events an amendment adds.
import type { ReceivedFrame } from '../../common/protocol';
import { AmendFollower, amendmentOf, MAX_RESENDS, type AmendSummary } from '../../tools/bench/amend-load';
import { amendMarkdown, amendPairs, extraHistoryEvents } from '../../tools/bench/amend-report';
import { costTable, historyMarkdown } from '../../tools/bench/cost';
import { parseOptions } from '../../tools/bench/options';
import { planSteps } from '../../tools/bench/plan';
import type { ConfigResult } from '../../tools/bench/types';
import { computeRatios } from '../../tools/bench/verdicts';
import type { BenchOrder } from '../../tools/bench/ws-load';

const planOf = (args: string[]) => {
  const { opts, kinds } = parseOptions(['node', 'bench', ...args]);
  return planSteps({ ...opts, kinds });
};

describe('the amend configurations in the plan', () => {
  test('--only amend runs the pair at the slow step delay on the tuned server, nothing else', () => {
    expect(planOf(['--only', 'amend']).map((s) => [s.id, s.server])).toEqual([
      ['amend-none-d2000', 'tuned'],
      ['amend-once-d2000', 'tuned'],
    ]);
    expect(planOf(['--only', 'amend', '--slow-delay', '1500']).map((s) => s.id)).toEqual([
      'amend-none-d1500',
      'amend-once-d1500',
    ]);
  });

  test('the default run leaves them out, and with no step delay (no window before payment) there is none', () => {
    expect(planOf([]).filter((s) => s.id.startsWith('amend-'))).toEqual([]);
    expect(planOf(['--only', 'amend', '--slow-delay', '0'])).toEqual([]);
  });
});

const order: BenchOrder = { orderId: 'bench-x-amend-once-d2000-7', item: 'Bench widget 7', price: 17, quantity: 2 };
const other: BenchOrder = { orderId: 'bench-x-amend-once-d2000-8', item: 'Bench widget 8', price: 18, quantity: 3 };
const status = (orderId: string, s: string): ReceivedFrame => ({ event: 'orderStatus', data: { orderId, status: s } });
const flush = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A follower and what it sent (the connection's send, recorded). */
function follower(mode: 'none' | 'once', timeoutMs = 5_000) {
  const f = new AmendFollower([order, other], mode, timeoutMs);
  const sent: object[] = [];
  const send = (message: object): Promise<void> => {
    sent.push(message);
    return Promise.resolve();
  };
  return { f, sent, frame: (fr: ReceivedFrame) => f.onFrame(fr, send) };
}

describe('AmendFollower', () => {
  test('amends each order once on its VALIDATED push: a new quantity and price, amendment id a1', async () => {
    const { f, sent, frame } = follower('once');
    frame(status(order.orderId, 'ACCEPTED'));
    frame(status(order.orderId, 'VALIDATING'));
    expect(sent).toEqual([]);
    frame(status(order.orderId, 'VALIDATED'));
    frame(status(order.orderId, 'VALIDATED'));
    await flush();
    expect(sent).toEqual([
      { event: 'amendOrder', data: { orderId: order.orderId, amendmentId: 'a1', quantity: 3, price: 18 } },
    ]);
    expect(amendmentOf({ ...order, quantity: 1000 }).quantity).toBe(1);

    frame({ event: 'orderAmended', data: { orderId: order.orderId, amendmentId: 'a1' } });
    frame(status(order.orderId, 'AMENDED'));
    await f.settle([order.orderId]);
    const s = f.summary();
    expect(s).toMatchObject({ mode: 'once', followed: 1, validated: 1, sent: 1, amended: 1, amendedPushes: 1 });
    expect(s).toMatchObject({ unfinished: 0, refused: {}, resends: {} });
    expect(s.roundTripMs?.count).toBe(1);
    expect(s.toPushMs?.count).toBe(1);
  });

  test('an amendment answered BUSY is sent again unchanged after retryAfterMs; a refusal ends it', async () => {
    const { f, sent, frame } = follower('once');
    frame(status(order.orderId, 'VALIDATED'));
    frame(status(other.orderId, 'VALIDATED'));
    frame({ event: 'error', data: { code: 'BUSY', orderId: order.orderId, retryAfterMs: 5 } });
    frame({ event: 'error', data: { code: 'CANNOT_AMEND', orderId: other.orderId } });
    await flush(50);
    const first = { event: 'amendOrder', data: amendmentOf(order) };
    expect(sent).toEqual([first, { event: 'amendOrder', data: amendmentOf(other) }, first]);
    frame({ event: 'orderAmended', data: { orderId: order.orderId } });
    frame(status(order.orderId, 'AMENDED'));
    await f.settle([order.orderId, other.orderId]);
    expect(f.summary()).toMatchObject({
      sent: 2,
      amended: 1,
      resends: { BUSY: 1 },
      refused: { CANNOT_AMEND: 1 },
      unfinished: 0,
    });
  });

  test(`BUSY more than ${MAX_RESENDS} times is a refusal`, async () => {
    const { f, sent, frame } = follower('once');
    frame(status(order.orderId, 'VALIDATED'));
    for (let i = 0; i <= MAX_RESENDS; i += 1) {
      frame({ event: 'error', data: { code: 'BUSY', orderId: order.orderId, retryAfterMs: 1 } });
      await flush(10);
    }
    await f.settle([order.orderId]);
    expect(sent).toHaveLength(1 + MAX_RESENDS);
    expect(f.summary()).toMatchObject({ resends: { BUSY: MAX_RESENDS }, refused: { BUSY: 1 }, amended: 0 });
  });

  test('the twin only follows to VALIDATED; an order that never gets there is counted as not done', async () => {
    const { f, sent, frame } = follower('none', 100);
    frame(status(order.orderId, 'VALIDATED'));
    frame(status(other.orderId, 'VALIDATING'));
    await f.settle([order.orderId, other.orderId]);
    expect(sent).toEqual([]);
    expect(f.summary()).toMatchObject({ mode: 'none', followed: 2, validated: 1, sent: 0, unfinished: 1 });
    expect(f.summary().roundTripMs).toBeNull();
  });
});

const summaryOf = (mode: 'none' | 'once'): AmendSummary => {
  const n = mode === 'once' ? 100 : 0;
  const ms = { count: n, p50: 40, p95: 90, p99: 120, max: 150, mean: 50 };
  return {
    mode,
    followed: 100,
    validated: 100,
    sent: n,
    amended: n,
    amendedPushes: n,
    resends: {},
    refused: {},
    unfinished: 0,
    roundTripMs: n ? ms : null,
    toPushMs: n ? ms : null,
  };
};

const result = (id: string, mode: 'none' | 'once' | undefined, history: Record<string, number>): ConfigResult => ({
  id,
  kind: 'pipeline',
  label: id,
  stepDelayMs: 2000,
  load: 'full speed, 20 conns',
  orders: 100,
  completed: 100,
  failed: 0,
  errors: {},
  throughput: 10,
  steadyThroughput: mode === 'once' ? 9 : 12,
  throughputUnit: 'orders/s',
  seconds: 10,
  e2eMs: { count: 100, p50: 5000, p95: 6000, p99: 6500, max: 7000, mean: 5100 },
  usage: {
    procs: {
      gateway: { cpuSeconds: mode === 'once' ? 0.5 : 0.3 },
      temporal: { cpuSeconds: mode === 'once' ? 5 : 4 },
    },
  } as unknown as ConfigResult['usage'],
  ...(mode ? { amend: summaryOf(mode) } : {}),
  historyPerOrder: history,
  notes: [],
});

describe('the amend report', () => {
  const plain = {
    ACTIVITY_TASK_COMPLETED: 3,
    WORKFLOW_TASK_COMPLETED: 6,
    UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 6,
    TOTAL: 39,
  };
  const amendedHistory = {
    ACTIVITY_TASK_COMPLETED: 3,
    WORKFLOW_TASK_COMPLETED: 8,
    UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 7,
    MARKER_RECORDED: 2,
    WORKFLOW_EXECUTION_UPDATE_ACCEPTED: 1,
    WORKFLOW_EXECUTION_UPDATE_COMPLETED: 1,
    TOTAL: 49,
  };
  const pipe = result('pipe-full-d2000', undefined, plain);
  const twin = result('amend-none-d2000', 'none', plain);
  const amended = result('amend-once-d2000', 'once', amendedHistory);

  test('pairs the amended configuration with its twin and names the history events an amendment adds', () => {
    expect(amendPairs([pipe, twin, amended]).map((p) => [p.twin.id, p.amended.id])).toEqual([
      ['amend-none-d2000', 'amend-once-d2000'],
    ]);
    expect(extraHistoryEvents({ twin, amended })).toEqual({
      MARKER_RECORDED: 2,
      TOTAL: 10,
      UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 1,
      WORKFLOW_EXECUTION_UPDATE_ACCEPTED: 1,
      WORKFLOW_EXECUTION_UPDATE_COMPLETED: 1,
      WORKFLOW_TASK_COMPLETED: 2,
    });
  });

  test('the history table keeps the amended column beside its twin and the plain pipeline at the same delay', () => {
    const header = historyMarkdown([pipe, twin, amended]).find((l) => l.startsWith('| event type'));
    expect(header).toBe('| event type | pipe-full-d2000 | amend-none-d2000 | amend-once-d2000 |');
  });

  test('the comparison prints the per-order differences: CPU by process, events, throughput ratio', () => {
    const lines = amendMarkdown([twin, amended], costTable([twin, amended]));
    const delta = lines.find((l) => l.startsWith('| amended − not amended'));
    // gateway +2 ms (5 − 3), temporal +10 ms (50 − 40), total +12, events +10, steady 9 / 12.
    expect(delta).toBe(
      '| amended − not amended | | ×0.75 (steady) | 0 / 0 / 0 | +2 | – | – | – | +10 | – | **+12** | +10 |',
    );
    expect(lines.join('\n')).toContain('MARKER_RECORDED 2');
    expect(lines).toContain(
      '| amend-once-d2000 | 100 | 100 | 100 | 100 | 100 | 0 | 0 | 0 | 40 / 90 / 120 / 150 | 40 / 90 / 120 |',
    );
    expect(computeRatios([twin, amended], { rate: 300, slowDelay: 2000 })).toContainEqual(
      expect.objectContaining({ numerator: 'amend-once-d2000', denominator: 'amend-none-d2000', value: 0.75 }),
    );
  });
});
