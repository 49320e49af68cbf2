/**
 * processOrder as it ran before status plans: each state change upserts OrderStatus and publishes
 * its event through a local activity. Kept, unchanged in the commands it issues, for runs started
 * without `statusEvents` (their histories must replay: test/fixtures/*.history.json); remove it once
 * no such run can be open (the namespace's retention after the last one started).
 */
import {
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import { OrderStatusKey } from '../common/names';
import { entryOf, numberedEvents } from '../common/status';
import type { OrderStatus, OrderView } from '../common/status';
import {
  FAST,
  failureOf,
  finalStatusOf,
  LOCAL_STATUS,
  money,
  newView,
  OrderCancelled,
  orderControls,
  PAYMENT,
  ProcessOrderInput,
  REFUND,
  SHIPPING,
} from './order-shared';

const acts = proxyActivities<OrderActivities>(FAST);
const { publishStatus } = proxyLocalActivities<OrderActivities>(LOCAL_STATUS);

export async function processOrderV1({ order, stepDelayMs }: ProcessOrderInput): Promise<OrderView> {
  const view = newView(order);
  const { pause } = orderControls(order, view, stepDelayMs);

  const record = async (status: OrderStatus, detail?: string): Promise<void> => {
    const entry = entryOf(status, Date.now(), detail);
    view.status = status;
    view.steps.push(entry);
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
    const [event] = numberedEvents(order.orderId, [entry], view.steps.length);
    await publishStatus(event);
  };

  await record('ACCEPTED');
  log.info(`order ${order.orderId}: workflow started`);

  const compensations: Array<() => Promise<void>> = [];
  const compensate = async (): Promise<void> => {
    for (const undo of compensations.reverse()) await undo();
  };
  try {
    await record('VALIDATING');
    await acts.validateOrder.executeWithOptions({ ...FAST, summary: `Validate ${order.orderId}` }, [order]);
    await record('VALIDATED');

    await pause('payment');
    await record('CHARGING');
    const total = money(order.price * order.quantity);
    const charge = await acts.chargePayment.executeWithOptions(
      { ...PAYMENT, summary: `Charge ${total} for ${order.orderId}` },
      [order],
    );
    view.chargeId = charge.chargeId;
    compensations.push(async () => {
      await acts.refundPayment.executeWithOptions({ ...REFUND, summary: `Refund ${total} for ${order.orderId}` }, [
        order,
        charge.chargeId,
        charge.amount,
      ]);
      await record('REFUNDED', `refunded ${money(charge.amount)}`);
    });
    await record('CHARGED', charge.chargeId);

    await pause('shipping');
    await record('SHIPPING');
    const shipment = await acts.shipOrder.executeWithOptions({ ...SHIPPING, summary: `Ship ${order.orderId}` }, [
      order,
    ]);
    view.trackingId = shipment.trackingId;
    await record('SHIPPED', shipment.trackingId);
  } catch (err) {
    if (err instanceof OrderCancelled) {
      await compensate();
      await record('CANCELLED', 'cancelled by the customer');
      log.info(`order ${order.orderId}: cancelled`);
      return view;
    }
    const failure = failureOf(err);
    await compensate();
    const final = finalStatusOf(failure.type);
    view.failure = { type: final, message: failure.message };
    await record(final, failure.message);
    log.warn(`order ${order.orderId}: ${final} (${failure.message})`);
    throw ApplicationFailure.nonRetryable(failure.message, final, view);
  }

  await record('COMPLETED');
  log.info(`order ${order.orderId}: completed`);
  return view;
}
