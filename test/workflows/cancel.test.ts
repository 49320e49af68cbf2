// The cancel update of processOrder on the time-skipping server: during either timer, while the
// charge is in flight (one refund), once shipping started (refused, nothing changed), twice at once.
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { cancelUpdate } from '../../workflows';
import { simulatedSetup } from '../helpers/order-worker';
import {
  CANCELLED_AFTER_CHARGE,
  holdStep,
  ledgerKinds,
  LONG_DELAY_MS,
  order,
  recordFixture,
  statusReached,
  statuses,
  steps,
  useOrderWorkflowEnv,
} from '../helpers/order-workflow';
import { HAPPY_PATH } from '../helpers/statuses';

const HAPPY = HAPPY_PATH;
const { withOrder, skipTimer } = useOrderWorkflowEnv();

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

  test('a routed order (statusPartition) cancelled during the first timer publishes every status to its home partition', async () => {
    // The activities publish VALIDATING and VALIDATED, the workflow itself CANCELLED: both routed.
    const setup = simulatedSetup();
    await withOrder(order({ statusPartition: 2 }), setup, LONG_DELAY_MS, async (handle) => {
      await statusReached(handle, 'VALIDATED');
      expect((await handle.executeUpdate(cancelUpdate)).status).toBe('CANCELLED');
      await handle.result();
      recordFixture('routed-cancelled', await handle.fetchHistory());
    });
    const published = ['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CANCELLED'];
    expect(setup.statuses.events.map((e) => e.status)).toEqual(published);
    expect(setup.statuses.partitions).toEqual(published.map(() => 2));
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
