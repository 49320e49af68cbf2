/**
 * processOrder as it ran before status plans: each state change upserts OrderStatus and publishes
 * its event through a local activity. Kept, unchanged in the commands it issues, for runs started
 * without `statusEvents` (their histories must replay: test/fixtures/*.history.json); remove it once
 * no such run can be open (the namespace's retention after the last one started).
 */
import { ApplicationFailure, log, upsertSearchAttributes } from '@temporalio/workflow';
import { OrderStatusKey } from '../common/names';
import { entryOf, finalStatusOf, numberedEvents, ORDER_STATE, STEP_STATES } from '../common/status';
import type { OrderStatus, OrderView } from '../common/status';
import * as shared from './order-shared';

export async function processOrderV1({ order, stepDelayMs }: shared.ProcessOrderInput): Promise<OrderView> {
  const view = shared.newView(order);
  const { pause } = shared.orderControls(order, view, stepDelayMs);
  const steps = shared.orderSteps(order);

  const record = async (status: OrderStatus, detail?: string): Promise<void> => {
    const entry = entryOf(status, Date.now(), detail);
    view.status = status;
    view.steps.push(entry);
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
    const [event] = numberedEvents(order.orderId, [entry], view.steps.length);
    await shared.publishStatus(event);
  };

  await record(ORDER_STATE.accepted);
  log.info(`order ${order.orderId}: workflow started`);

  const compensations: Array<() => Promise<void>> = [];
  const compensate = async (): Promise<void> => {
    for (const undo of compensations.reverse()) await undo();
  };
  try {
    await record(STEP_STATES.validate.running);
    await steps.validate();
    await record(STEP_STATES.validate.done);

    await pause('payment');
    await record(STEP_STATES.charge.running);
    const charge = await steps.charge();
    view.chargeId = charge.chargeId;
    compensations.push(async () => {
      await steps.refund(charge);
      await record(STEP_STATES.refund.done, `refunded ${shared.money(charge.amount)}`);
    });
    await record(STEP_STATES.charge.done, charge.chargeId);

    await pause('shipping');
    await record(STEP_STATES.ship.running);
    const shipment = await steps.ship();
    view.trackingId = shipment.trackingId;
    await record(STEP_STATES.ship.done, shipment.trackingId);
  } catch (err) {
    if (err instanceof shared.OrderCancelled) {
      await compensate();
      await record(ORDER_STATE.cancelled, 'cancelled by the customer');
      log.info(`order ${order.orderId}: cancelled`);
      return view;
    }
    const failure = shared.failureOf(err);
    await compensate();
    const final = finalStatusOf(failure.type);
    view.failure = { type: final, message: failure.message };
    await record(final, failure.message);
    log.warn(`order ${order.orderId}: ${final} (${failure.message})`);
    throw ApplicationFailure.nonRetryable(failure.message, final, view);
  }

  await record(ORDER_STATE.completed);
  log.info(`order ${order.orderId}: completed`);
  return view;
}
