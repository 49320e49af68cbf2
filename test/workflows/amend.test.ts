// The amend update of processOrder on the time-skipping server: applied in the first timer and
// charged as amended; its races with the timer's end (payment starting), with a cancel, and with a
// worker crash; idempotency by amendment id; the validator's refusals. Effects are counted in the
// payment ledger's raw lines and the published status events.
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Amendment } from '../../common/order-values';
import { amendUpdateId } from '../../common/workflow-api';
import { amendUpdate, cancelUpdate, statusQuery } from '../../workflows';
import { AMEND_PATCH, AMEND_REFUSED, MAX_AMENDMENTS } from '../../workflows/order-amend';
import { eventTypeNames } from '../helpers/history';
import { simulatedSetup } from '../helpers/order-worker';
import {
  holdStep,
  ledgerKinds,
  LONG_DELAY_MS,
  order,
  type OrderHandle,
  realActivities,
  recordFixture,
  type Setup,
  statusReached,
  statuses,
  useOrderWorkflowEnv,
} from '../helpers/order-workflow';
import { gate, uniqueId } from '../helpers/wait';

const { withOrder, skipTimer, worker, start } = useOrderWorkflowEnv();

/** A happy order amended once during the first timer. */
const AMENDED_PATH = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'AMENDED',
  'CHARGING',
  'CHARGED',
  'SHIPPING',
  'SHIPPED',
  'COMPLETED',
];

const amend = (handle: OrderHandle, a: Amendment, updateId = amendUpdateId(a.amendmentId)) =>
  handle.executeUpdate(amendUpdate, { args: [a], updateId });

/** The refusal an update ended in: a WorkflowUpdateFailedError whose cause is an AMEND_REFUSED failure. */
async function refusalOf(update: Promise<unknown>): Promise<string> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(AMEND_REFUSED);
  return (cause as ApplicationFailure).message;
}

/** The amounts charged for an order, one per raw ledger line (a repeat shows twice). */
const charges = (setup: Setup, orderId: string): number[] =>
  setup.ledger
    .lines()
    .filter((e) => e.orderId === orderId && e.kind === 'charge')
    .map((e) => e.amount);

/** Marker events of the amend patch in a history (Temporal's patch markers name their patch in their details). */
const patchMarkers = (history: Awaited<ReturnType<OrderHandle['fetchHistory']>>): number =>
  (history.events ?? []).filter((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return false;
    const payloads = Object.values(marker.details ?? {}).flatMap((p) => p.payloads ?? []);
    return payloads.some((p) =>
      Buffer.from(p.data ?? [])
        .toString('utf8')
        .includes(AMEND_PATCH),
    );
  }).length;

describe('processOrder amend update', () => {
  test('amend during the first timer: AMENDED with the new values, published before CHARGING; the amended amount is charged once', async () => {
    const setup = simulatedSetup();
    const o = order({ item: 'Mechanical Keyboard', price: 150, quantity: 1 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      const answer = await amend(handle, { amendmentId: 'a-1', item: '  Desk lamp ', quantity: 3 });
      expect(answer).toEqual({ amendmentId: 'a-1', order: { item: 'Desk lamp', price: 150, quantity: 3 } });
      expect((await handle.query(statusQuery)).status).toBe('AMENDED');
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      const view = await handle.result();
      expect(statuses(view)).toEqual(AMENDED_PATH);
      const history = await handle.fetchHistory();
      expect(patchMarkers(history)).toBe(1);
      recordFixture('amended', history);
    });
    expect(charges(setup, o.orderId)).toEqual([450]);
    // The shipment is of the amended order too.
    expect(setup.activities.shipOrder.mock.calls[0][0]).toMatchObject({ item: 'Desk lamp', price: 150, quantity: 3 });
    const published = setup.statuses.events;
    expect(published.map((e) => e.status)).toEqual(AMENDED_PATH);
    expect(published.map((e) => e.seq)).toEqual(AMENDED_PATH.map((_, i) => i + 1));
    const amendedEvent = published.find((e) => e.status === 'AMENDED')!;
    expect(amendedEvent.order).toEqual({ item: 'Desk lamp', price: 150, quantity: 3 });
    expect(amendedEvent.detail).toBe('amendment a-1');
    // Only AMENDED carries the order's values.
    expect(published.filter((e) => e.order !== undefined).map((e) => e.status)).toEqual(['AMENDED']);
  });

  test('a happy order that is never amended records no patch marker', async () => {
    const setup = simulatedSetup();
    await withOrder(order(), setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      await handle.result();
      expect(patchMarkers(await handle.fetchHistory())).toBe(0);
    });
  });

  test('amend sent while validation runs is accepted, waits for it, and applies before the charge', async () => {
    const setup = simulatedSetup();
    const held = gate();
    const real = realActivities(setup);
    setup.activities.validateOrder.mockImplementation(async (...args) => {
      await held.wait();
      return real.validateOrder(...args);
    });
    const o = order({ price: 10, quantity: 1 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await held.reached; // VALIDATING, the inventory check held
      const update = await handle.startUpdate(amendUpdate, {
        args: [{ amendmentId: 'early', price: 12.5 }],
        updateId: amendUpdateId('early'),
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      held.open();
      expect(await update.result()).toEqual({
        amendmentId: 'early',
        order: { item: o.item, price: 12.5, quantity: 1 },
      });
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      expect(statuses(await handle.result())).toEqual(AMENDED_PATH);
    });
    expect(charges(setup, o.orderId)).toEqual([12.5]);
  });

  test("amend once the first timer's end started the charge is refused and changes nothing", async () => {
    const setup = simulatedSetup();
    const held = holdStep(setup, 'chargePayment');
    const o = order({ price: 150, quantity: 1 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await held.reached; // CHARGING: the charge activity runs, held before the provider
      expect(await refusalOf(amend(handle, { amendmentId: 'late', price: 1 }))).toMatch(/payment has started/);
      held.open();
      await skipTimer(handle, 2);
      const view = await handle.result();
      expect(statuses(view)).not.toContain('AMENDED');
      expect(view.status).toBe('COMPLETED');
    });
    expect(charges(setup, o.orderId)).toEqual([150]);
    expect(setup.statuses.events.map((e) => e.status)).not.toContain('AMENDED');
  });

  test('at step delay 0 an amend accepted during validation fails when the charge starts right after it', async () => {
    const setup = simulatedSetup();
    const held = gate();
    const real = realActivities(setup);
    setup.activities.validateOrder.mockImplementation(async (...args) => {
      await held.wait();
      return real.validateOrder(...args);
    });
    const o = order({ price: 150 });
    await withOrder(o, setup, 0, async (handle) => {
      await held.reached;
      const update = await handle.startUpdate(amendUpdate, {
        args: [{ amendmentId: 'too-late', price: 1 }],
        updateId: amendUpdateId('too-late'),
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      held.open();
      expect(await refusalOf(update.result())).toMatch(/payment has started/);
      expect((await handle.result()).status).toBe('COMPLETED');
    });
    expect(charges(setup, o.orderId)).toEqual([150]);
  });

  test('amend after a cancel is refused, both while the order is being cancelled and once it is CANCELLED', async () => {
    const setup = simulatedSetup();
    const held = holdStep(setup, 'chargePayment');
    const o = order({ price: 150 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await skipTimer(handle, 1);
      await held.reached; // the charge runs, held: a cancel now is accepted and waits for it
      const cancel = await handle.startUpdate(cancelUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      expect(await refusalOf(amend(handle, { amendmentId: 'after-cancel', quantity: 2 }))).toMatch(/being cancelled/);
      held.open();
      expect((await cancel.result()).status).toBe('CANCELLED');
      await handle.result();
      // The run has ended: the server refuses the update before any workflow code runs.
      await expect(amend(handle, { amendmentId: 'after-end', quantity: 2 })).rejects.toThrow();
    });
    expect(ledgerKinds(setup, o.orderId)).toEqual(['charge', 'refund']);
    expect(charges(setup, o.orderId)).toEqual([150]);
    expect(setup.statuses.events.map((e) => e.status)).not.toContain('AMENDED');
  });

  test('an amend waiting for validation fails when a cancel comes in; the order ends CANCELLED, never amended', async () => {
    const setup = simulatedSetup();
    const held = gate();
    const real = realActivities(setup);
    setup.activities.validateOrder.mockImplementation(async (...args) => {
      await held.wait();
      return real.validateOrder(...args);
    });
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await held.reached; // VALIDATING
      const waiting = await handle.startUpdate(amendUpdate, {
        args: [{ amendmentId: 'waits', quantity: 2 }],
        updateId: amendUpdateId('waits'),
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      const cancel = await handle.startUpdate(cancelUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      expect(await refusalOf(waiting.result())).toMatch(/being cancelled/);
      held.open();
      expect((await cancel.result()).status).toBe('CANCELLED');
      expect(statuses(await handle.result())).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CANCELLED']);
    });
    expect(setup.activities.chargePayment).not.toHaveBeenCalled();
    expect(setup.statuses.events.map((e) => e.status)).not.toContain('AMENDED');
  });

  test('cancel after an amendment cancels: CANCELLED, nothing charged', async () => {
    const setup = simulatedSetup();
    const o = order();
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      await amend(handle, { amendmentId: 'a-1', price: 99 });
      expect((await handle.executeUpdate(cancelUpdate)).status).toBe('CANCELLED');
      expect(statuses(await handle.result())).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED', 'AMENDED', 'CANCELLED']);
    });
    expect(setup.activities.chargePayment).not.toHaveBeenCalled();
    expect(charges(setup, o.orderId)).toEqual([]);
  });

  test('the same amendment id twice changes the order once, under the same update id or another, also once payment started', async () => {
    const setup = simulatedSetup();
    const held = holdStep(setup, 'chargePayment');
    const o = order({ price: 100, quantity: 1 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      const first = await amend(handle, { amendmentId: 'twice', quantity: 2 });
      // The same update id (a client's retry through the gateway): the server answers the first outcome.
      expect(await amend(handle, { amendmentId: 'twice', quantity: 2 })).toEqual(first);
      // Another update id (a client of its own): the workflow remembers the id, even with other values.
      expect(await amend(handle, { amendmentId: 'twice', quantity: 5 }, uniqueId('other-update'))).toEqual(first);
      await skipTimer(handle, 1);
      await held.reached; // CHARGING: a new amendment is refused, a repeat of an applied one is still answered
      expect(await amend(handle, { amendmentId: 'twice', quantity: 2 }, uniqueId('late-retry'))).toEqual(first);
      held.open();
      await skipTimer(handle, 2);
      expect(statuses(await handle.result()).filter((s) => s === 'AMENDED')).toHaveLength(1);
    });
    expect(charges(setup, o.orderId)).toEqual([200]);
  });

  test('two amendments apply in turn: the charge is of the last values', async () => {
    const setup = simulatedSetup();
    const o = order({ item: 'Pen', price: 2, quantity: 1 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      await amend(handle, { amendmentId: 'one', quantity: 10 });
      expect(await amend(handle, { amendmentId: 'two', price: 3 })).toEqual({
        amendmentId: 'two',
        order: { item: 'Pen', price: 3, quantity: 10 },
      });
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      await handle.result();
    });
    expect(charges(setup, o.orderId)).toEqual([30]);
    expect(setup.statuses.events.filter((e) => e.status === 'AMENDED').map((e) => e.order)).toEqual([
      { item: 'Pen', price: 2, quantity: 10 },
      { item: 'Pen', price: 3, quantity: 10 },
    ]);
  });

  test('values that break placeOrder’s rules, an empty amendment and one too many are refused by the validator; nothing is recorded', async () => {
    const setup = simulatedSetup();
    const o = order({ price: 10 });
    await withOrder(o, setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      const accepted = async (): Promise<number> =>
        eventTypeNames(await handle.fetchHistory()).filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length;
      expect(await refusalOf(amend(handle, { amendmentId: 'neg', price: -1 }))).toMatch(
        /price: must be greater than 0/,
      );
      expect(await refusalOf(amend(handle, { amendmentId: 'frac', quantity: 1.5 }))).toMatch(
        /quantity: must be a whole/,
      );
      expect(await refusalOf(amend(handle, { amendmentId: 'esc', item: 'Lamp\u001b[31m' }))).toMatch(
        /control characters/,
      );
      expect(await refusalOf(amend(handle, { amendmentId: 'none' }))).toMatch(/at least one of item, price, quantity/);
      // Rejected, not accepted: no update in the history, no state recorded.
      expect(await accepted()).toBe(0);
      expect(statuses(await handle.query(statusQuery))).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED']);
      for (let i = 1; i <= MAX_AMENDMENTS; i++) await amend(handle, { amendmentId: `n-${i}`, quantity: i });
      expect(await refusalOf(amend(handle, { amendmentId: 'one-more', quantity: 1 }))).toMatch(
        new RegExp(`at most ${MAX_AMENDMENTS} amendments`),
      );
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      expect(statuses(await handle.result()).filter((s) => s === 'AMENDED')).toHaveLength(MAX_AMENDMENTS);
    });
    expect(charges(setup, o.orderId)).toEqual([10 * MAX_AMENDMENTS]);
  });

  test('a worker that stops between the amendment and the charge: the next worker charges the amended amount, once', async () => {
    const setup = simulatedSetup();
    const o = order({ price: 40, quantity: 1 });
    const taskQueue = uniqueId('orders-test');
    // The first worker keeps no workflow cache, so no task of this run is bound to it (a sticky queue):
    // the time-skipping server never hands a dead worker's sticky tasks back to the shared queue.
    const first = await worker(setup, taskQueue, { maxCachedWorkflows: 0 });
    const firstRun = first.run();
    const handle = await start(o, taskQueue, LONG_DELAY_MS);
    await statusReached(handle, 'VALIDATED');
    expect((await amend(handle, { amendmentId: 'before-crash', quantity: 4 })).order.quantity).toBe(4);
    first.shutdown();
    await firstRun; // gone, and its cached workflow with it: the next worker replays the history
    expect(setup.activities.chargePayment).not.toHaveBeenCalled();

    const second = await worker(setup, taskQueue);
    await second.runUntil(async () => {
      await skipTimer(handle, 1);
      await skipTimer(handle, 2);
      expect(statuses(await handle.result())).toEqual(AMENDED_PATH);
    });
    expect(charges(setup, o.orderId)).toEqual([160]);
    expect(setup.activities.chargePayment).toHaveBeenCalledTimes(1);
    expect(setup.activities.chargePayment.mock.calls[0][0]).toMatchObject({ quantity: 4 });
  });
});
