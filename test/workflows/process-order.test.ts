// processOrder on the time-skipping server: every path of the saga, with real activity code over
// the simulated providers. Effects are counted where they happen: the payment ledger's raw lines
// (repeats included) and the activity calls; timers and activities are read back from the history.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  WorkflowFailedError,
  WorkflowHandle,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { Context } from '@temporalio/activity';
import { TransientProviderError } from '../../activities/providers';
import type { Order } from '../../common/order';
import { workflowIdFor } from '../../common/order';
import type { OrderStatus, OrderView } from '../../common/status';
import { cancelUpdate, processOrder, statusQuery } from '../../workflows';
import { eventTypeNames, historyToFixture } from '../helpers/history';
import { simulatedSetup } from '../helpers/order-worker';
import { createTimeSkippingEnv } from '../helpers/time-skipping';
import { gate, type Gate, uniqueId, waitUntil } from '../helpers/wait';
import { HAPPY_PATH } from '../helpers/statuses';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const STEP_DELAY_MS = 2000;
/** Long enough that nothing passes a timer unless the test skips time (awaiting a result, or env.sleep). */
const LONG_DELAY_MS = 60_000;
const HAPPY = HAPPY_PATH;
/** A cancel accepted after the charge: the charge is refunded, then the order ends CANCELLED. */
const CANCELLED_AFTER_CHARGE = ['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CHARGING', 'CHARGED', 'REFUNDED', 'CANCELLED'];

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
});

afterAll(async () => {
  await env?.teardown();
});

type Setup = ReturnType<typeof simulatedSetup>;

function order(overrides: Partial<Order> = {}): Order {
  return { orderId: uniqueId('t'), item: 'Mechanical Keyboard', price: 150, quantity: 1, ...overrides };
}

/** The real activity implementations behind the counted ones (to wrap one with a gate or a fault). */
const realActivities = (setup: Setup) => createActivities(setup.providers, setup.statuses);

/** Holds the charge (or shipping) activity at a gate, before it reaches its provider; the real activity runs once opened. */
function holdStep(setup: Setup, step: 'chargePayment' | 'shipOrder'): Gate {
  const held = gate();
  const real = realActivities(setup);
  const run = real[step] as (...args: unknown[]) => Promise<unknown>;
  (setup.activities[step] as jest.Mock).mockImplementation(async (...args: unknown[]) => {
    await held.wait();
    return run(...args);
  });
  return held;
}

function recordFixture(name: string | undefined, history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): void {
  if (!name || !process.env.UPDATE_REPLAY_FIXTURES) return;
  fs.mkdirSync(FIXTURES, { recursive: true });
  fs.writeFileSync(path.join(FIXTURES, `${name}.history.json`), historyToFixture(history));
}

/** Runs `body` with a worker polling a fresh task queue, against a started order. */
async function withOrder<T>(
  o: Order,
  setup: Setup,
  stepDelayMs: number,
  body: (handle: WorkflowHandle<typeof processOrder>) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('orders-test');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: setup.activities,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(processOrder, {
      taskQueue,
      workflowId: workflowIdFor(o.orderId),
      args: [{ order: o, stepDelayMs, statusEvents: 'plans' }],
    });
    return body(handle);
  });
}

async function run(o: Order, setup: Setup, fixture?: string, stepDelayMs = STEP_DELAY_MS) {
  return withOrder(o, setup, stepDelayMs, async (handle) => {
    const outcome = await handle.result().then(
      (view) => ({ view, error: undefined }),
      (error: unknown) => ({ view: undefined, error }),
    );
    const history = await handle.fetchHistory();
    recordFixture(fixture, history);
    return { ...outcome, history };
  });
}

function failureOf(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

const statuses = (view: OrderView): string[] => view.steps.map((s) => s.status);
const ledgerKinds = (setup: Setup, orderId: string): string[] =>
  setup.ledger
    .lines()
    .filter((e) => e.orderId === orderId)
    .map((e) => e.kind);

/** Activities and timers in history order: activity type names, 'timer' for a fired timer, 'timer-cancelled'. */
function steps(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): string[] {
  const types = eventTypeNames(history);
  const out: string[] = [];
  (history.events ?? []).forEach((e, i) => {
    if (types[i] === 'ACTIVITY_TASK_SCHEDULED') out.push(e.activityTaskScheduledEventAttributes!.activityType!.name!);
    if (types[i] === 'TIMER_FIRED') out.push('timer');
    if (types[i] === 'TIMER_CANCELED') out.push('timer-cancelled');
  });
  return out;
}

async function statusReached(handle: WorkflowHandle<typeof processOrder>, status: OrderStatus): Promise<OrderView> {
  return waitUntil(
    async () => {
      const view = await handle.query(statusQuery);
      return view.status === status ? view : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: `status ${status}` },
  );
}

/** Skips time past the n-th durable timer, once the history shows it started. */
async function skipTimer(handle: WorkflowHandle<typeof processOrder>, n: number): Promise<void> {
  await waitUntil(
    async () => eventTypeNames(await handle.fetchHistory()).filter((t) => t === 'TIMER_STARTED').length >= n,
    { timeoutMs: 20_000, intervalMs: 50, what: `timer ${n} to start` },
  );
  await env.sleep(LONG_DELAY_MS);
}

describe('processOrder saga paths', () => {
  test('happy path: validate, timer, charge, timer, ship, in that order; one charge', async () => {
    const setup = simulatedSetup();
    const o = order();
    const { view, error, history } = await run(o, setup, 'happy');
    expect(error).toBeUndefined();
    expect(view!.status).toBe('COMPLETED');
    expect(statuses(view!)).toEqual(HAPPY);
    // Durable timers of the configured length separate the steps (workflow time, skipped here).
    const at = (s: string) => view!.steps.find((x) => x.status === s)!.at;
    expect(at('CHARGING') - at('VALIDATED')).toBeGreaterThanOrEqual(STEP_DELAY_MS);
    expect(at('SHIPPING') - at('CHARGED')).toBeGreaterThanOrEqual(STEP_DELAY_MS);
    expect(steps(history)).toEqual(['validateOrder', 'timer', 'chargePayment', 'timer', 'shipOrder']);
    expect(setup.activities.validateOrder).toHaveBeenCalledTimes(1);
    expect(setup.activities.chargePayment).toHaveBeenCalledTimes(1);
    expect(setup.activities.shipOrder).toHaveBeenCalledTimes(1);
    expect(setup.activities.refundPayment).not.toHaveBeenCalled();
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge']);
    // Every state was published once, in order, with seq 1..8, and matches what the query shows.
    expect(setup.statuses.events.map((e) => [e.seq, e.status, e.at])).toEqual(
      view!.steps.map((s, i) => [i + 1, s.status, s.at]),
    );
  });

  test('a happy order at step delay 0 costs at most 27 history events: no marker per state, one upsert per task at most', async () => {
    const setup = simulatedSetup();
    const { view, history } = await run(order(), setup, undefined, 0);
    expect(view!.status).toBe('COMPLETED');
    const types = eventTypeNames(history);
    const count = (t: string): number => types.filter((x) => x === t).length;
    expect(count('MARKER_RECORDED')).toBe(0);
    expect(count('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')).toBeLessThanOrEqual(count('WORKFLOW_TASK_COMPLETED'));
    expect(types.length).toBeLessThanOrEqual(27);
    expect(setup.statuses.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('invalid order: REJECTED, nothing charged or shipped', async () => {
    const setup = simulatedSetup();
    const { error } = await run(order({ item: 'Vintage lamp (out of stock)' }), setup);
    const failure = failureOf(error);
    expect(failure.type).toBe('REJECTED');
    expect(failure.message).toMatch(/out of stock/);
    expect(setup.activities.chargePayment).not.toHaveBeenCalled();
    expect(setup.activities.shipOrder).not.toHaveBeenCalled();
    expect(setup.ledger.lines()).toEqual([]);
  });

  test('card declined: PAYMENT_DECLINED, no shipping, no charge in the ledger', async () => {
    const setup = simulatedSetup();
    const { error } = await run(order({ price: 2600, quantity: 2 }), setup, 'declined');
    const failure = failureOf(error);
    expect(failure.type).toBe('PAYMENT_DECLINED');
    expect(setup.activities.chargePayment).toHaveBeenCalledTimes(1);
    expect(setup.activities.shipOrder).not.toHaveBeenCalled();
    expect(setup.activities.refundPayment).not.toHaveBeenCalled();
    expect(setup.ledger.lines()).toEqual([]);
  });

  test('shipping refused after payment: exactly one refund, order FAILED with the reason', async () => {
    const setup = simulatedSetup();
    const o = order({ item: 'Unshippable piano' });
    const { error } = await run(o, setup, 'refunded');
    const failure = failureOf(error);
    expect(failure.type).toBe('FAILED');
    expect(failure.message).toMatch(/carrier refused/);
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(1);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
    // The failure carries the final view, so a caller needs no worker to learn what happened.
    const view = failure.details?.[0] as OrderView;
    expect(statuses(view).slice(-3)).toEqual(['SHIPPING', 'REFUNDED', 'FAILED']);
    expect(view.failure).toEqual({ type: 'FAILED', message: expect.stringMatching(/carrier refused/) });
  });

  test('shipping failing transiently until its retries run out: one refund, order FAILED', async () => {
    const setup = simulatedSetup();
    setup.providers.shipping.ship = async () => {
      throw new TransientProviderError('carrier API unavailable');
    };
    const o = order();
    const { error, history } = await run(o, setup);
    const failure = failureOf(error);
    expect(failure.type).toBe('FAILED');
    expect(failure.message).toMatch(/carrier API unavailable/);
    // Bounded: shipping gives up after its 5 attempts (README "The workflow").
    expect(setup.activities.shipOrder).toHaveBeenCalledTimes(5);
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(1);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
    expect(steps(history)).toEqual(['validateOrder', 'timer', 'chargePayment', 'timer', 'shipOrder', 'refundPayment']);
    const view = failure.details?.[0] as OrderView;
    expect(statuses(view).slice(-2)).toEqual(['REFUNDED', 'FAILED']);
  });

  test('a refund that fails transiently (once before, once after the provider recorded it) is refunded exactly once', async () => {
    const setup = simulatedSetup();
    const real = setup.providers.payment.refund.bind(setup.providers.payment);
    let calls = 0;
    setup.providers.payment.refund = async (req) => {
      calls += 1;
      if (calls === 1) throw new TransientProviderError('payment gateway timeout');
      const result = await real(req);
      if (calls === 2) throw new TransientProviderError('connection reset after refund');
      return result;
    };
    const o = order({ item: 'Unshippable piano' });
    const { error } = await run(o, setup);
    expect(failureOf(error).type).toBe('FAILED');
    expect(calls).toBe(3);
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(3);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
  });

  test('transient provider failures are retried with backoff and charge once', async () => {
    const setup = simulatedSetup();
    const real = setup.providers.payment.charge.bind(setup.providers.payment);
    let calls = 0;
    setup.providers.payment.charge = async (req) => {
      calls += 1;
      if (calls <= 2) throw new TransientProviderError('payment gateway timeout');
      return real(req);
    };
    const o = order();
    const { view, error } = await run(o, setup);
    expect(error).toBeUndefined();
    expect(view!.status).toBe('COMPLETED');
    expect(setup.activities.chargePayment).toHaveBeenCalledTimes(3);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge']);
  });

  test('a charge retried after it succeeded at the provider is not charged twice (idempotency key)', async () => {
    const setup = simulatedSetup();
    const real = setup.providers.payment.charge.bind(setup.providers.payment);
    let calls = 0;
    // The provider records the charge, but the answer is lost: the activity fails and is retried.
    setup.providers.payment.charge = async (req) => {
      calls += 1;
      const result = await real(req);
      if (calls === 1) throw new TransientProviderError('connection reset after charge');
      return result;
    };
    const o = order();
    const { view } = await run(o, setup);
    expect(view!.status).toBe('COMPLETED');
    expect(calls).toBe(2);
    // Raw ledger lines: the provider's own index keeps one entry per key and would hide a repeat.
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge']);
  });

  test('status query shows the current step and the steps done while the order waits on a timer', async () => {
    const setup = simulatedSetup();
    await withOrder(order(), setup, LONG_DELAY_MS, async (handle) => {
      // Time does not skip until we wait on the result, so the workflow parks on its first timer.
      const view = await statusReached(handle, 'VALIDATED');
      expect(statuses(view)).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED']);
      expect(view.steps.every((s) => typeof s.at === 'number')).toBe(true);
      const done = await handle.result();
      expect(done.status).toBe('COMPLETED');
    });
  });
});

describe('processOrder cancel update', () => {
  test('cancel during the first timer: CANCELLED, nothing charged, the timer is cancelled', async () => {
    const setup = simulatedSetup();
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      const answer = await handle.executeUpdate(cancelUpdate);
      expect(answer.status).toBe('CANCELLED');
      const view = await handle.result();
      expect(statuses(view)).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CANCELLED']);
      expect(steps(await handle.fetchHistory())).toEqual(['validateOrder', 'timer-cancelled']);
    });
    expect(setup.activities.chargePayment).not.toHaveBeenCalled();
    expect(setup.activities.refundPayment).not.toHaveBeenCalled();
    expect(setup.ledger.lines()).toEqual([]);
  });

  test('cancel during the second timer: refunded once, CANCELLED, never shipped', async () => {
    const setup = simulatedSetup();
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await statusReached(handle, 'CHARGED');
      const answer = await handle.executeUpdate(cancelUpdate);
      expect(answer.status).toBe('CANCELLED');
      const view = await handle.result();
      expect(statuses(view)).toEqual(CANCELLED_AFTER_CHARGE);
      const history = await handle.fetchHistory();
      expect(steps(history)).toEqual(['validateOrder', 'timer', 'chargePayment', 'timer-cancelled', 'refundPayment']);
      recordFixture('cancelled', history);
    });
    expect(setup.activities.shipOrder).not.toHaveBeenCalled();
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(1);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
  });

  test('cancel while the charge is in flight: the charge completes, then is refunded once; never shipped', async () => {
    const setup = simulatedSetup();
    const held = holdStep(setup, 'chargePayment');
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await held.reached; // the charge activity is running, held before the provider
      const update = await handle.startUpdate(cancelUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      held.open();
      expect((await update.result()).status).toBe('CANCELLED');
      const view = await handle.result();
      expect(statuses(view)).toEqual(CANCELLED_AFTER_CHARGE);
    });
    expect(setup.activities.shipOrder).not.toHaveBeenCalled();
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(1);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
  });

  test('cancel once shipping started is refused and changes nothing', async () => {
    const setup = simulatedSetup();
    const held = holdStep(setup, 'shipOrder');
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      // Skip both timers without awaiting the result (which would keep skipping while shipping is held).
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      await held.reached; // shipOrder is running, held before the carrier
      const refusal = await handle.executeUpdate(cancelUpdate).then(
        () => undefined,
        (err: unknown) => err,
      );
      held.open();
      expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((refusal as WorkflowUpdateFailedError).cause as Error).message).toMatch(/shipping has started/);
      const view = await handle.result();
      expect(statuses(view)).toEqual(HAPPY);
    });
    expect(setup.activities.refundPayment).not.toHaveBeenCalled();
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge']);
  });

  test('cancel twice at once: both answered CANCELLED, one refund', async () => {
    const setup = simulatedSetup();
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await statusReached(handle, 'CHARGED');
      const answers = await Promise.all([handle.executeUpdate(cancelUpdate), handle.executeUpdate(cancelUpdate)]);
      expect(answers.map((a) => a.status)).toEqual(['CANCELLED', 'CANCELLED']);
      const view = await handle.result();
      expect(statuses(view).filter((s) => s === 'REFUNDED')).toHaveLength(1);
      expect(view.status).toBe('CANCELLED');
    });
    expect(setup.activities.refundPayment).toHaveBeenCalledTimes(1);
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
  });
});

describe('processOrder status events', () => {
  test('statuses published from activities keep their order and seq across an activity retry and a worker crash', async () => {
    const setup = simulatedSetup();
    const real = realActivities(setup);
    // Charge: the first attempt publishes its CHARGING event, charges, then fails before answering
    // (a retry). Ship: the first attempt publishes SHIPPING and then hangs without heartbeats, as on
    // a worker that died; the server times it out after the heartbeat timeout and runs it again.
    let chargeCalls = 0;
    setup.activities.chargePayment.mockImplementation(async (o, plan) => {
      chargeCalls += 1;
      const result = await real.chargePayment(o, plan);
      if (chargeCalls === 1) throw new TransientProviderError('answer lost after the charge');
      return result;
    });
    let shipCalls = 0;
    setup.activities.shipOrder.mockImplementation(async (o, plan) => {
      shipCalls += 1;
      if (shipCalls === 1) {
        await setup.statuses.publish(plan!.before);
        await Context.current().cancelled; // never answers, never heartbeats: ended at worker shutdown
      }
      return real.shipOrder(o, plan);
    });
    const o = order();
    const { view, error } = await run(o, setup);
    expect(error).toBeUndefined();
    expect(view!.status).toBe('COMPLETED');
    expect(chargeCalls).toBe(2);
    expect(shipCalls).toBe(2);

    const seqs = setup.statuses.events.map((e) => e.seq);
    // At least once: the retried steps published their events again; never one ahead of its predecessor...
    expect(seqs.length).toBeGreaterThan(8);
    let highest = 0;
    for (const seq of seqs) {
      expect(seq).toBeLessThanOrEqual(highest + 1);
      highest = Math.max(highest, seq);
    }
    // ...and a subscriber that drops repeats by seq sees every state once, gap-free, as the query shows them.
    const seen = new Map<number, string>();
    for (const e of setup.statuses.events) if (!seen.has(e.seq)) seen.set(e.seq, e.status);
    expect([...seen.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...seen.values()]).toEqual(statuses(view!));
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge']);
  });
});
