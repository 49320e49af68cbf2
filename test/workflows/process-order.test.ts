// processOrder on the time-skipping server: every path of the saga, and the status events its steps
// publish, with real activity code over the simulated providers. Effects are counted where they
// happen: the payment ledger's raw lines (repeats included) and the activity calls; timers and
// activities are read back from the history. The cancel update has its own file (cancel.test.ts).
import { Context } from '@temporalio/activity';
import { TransientProviderError } from '../../activities/providers';
import { eventTypeNames } from '../helpers/history';
import { simulatedSetup } from '../helpers/order-worker';
import {
  failureOf,
  ledgerKinds,
  LONG_DELAY_MS,
  order,
  realActivities,
  statusReached,
  statuses,
  steps,
  STEP_DELAY_MS,
  useOrderWorkflowEnv,
} from '../helpers/order-workflow';
import type { OrderView } from '../../common/status';
import { HAPPY_PATH } from '../helpers/statuses';

const HAPPY = HAPPY_PATH;
const { run, withOrder } = useOrderWorkflowEnv();

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
    // Bounded: shipping gives up after its 5 attempts (docs/DESIGN.md "The workflow").
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
