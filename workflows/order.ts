/**
 * processOrder: validation -> durable timer -> payment -> durable timer -> shipping.
 * Deterministic code only: no Node imports, no I/O; time comes from the workflow clock.
 */
import {
  ActivityFailure,
  ActivityOptions,
  ApplicationFailure,
  defineQuery,
  log,
  proxyActivities,
  RetryPolicy,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { Order } from '../common/order';
import { OrderStatusKey } from '../common/search-attributes';
import { FailureType, OrderStatus, OrderView } from '../common/status';

export interface ProcessOrderInput {
  order: Order;
  /** Durable pause between steps, in ms; part of the input so it is fixed in history. */
  stepDelayMs: number;
}

export const statusQuery = defineQuery<OrderView>('status');

const retry: RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' };

/** One option set per timeout/retry class. */
const FAST: ActivityOptions = { startToCloseTimeout: '10s', retry };
const PAYMENT: ActivityOptions = { startToCloseTimeout: '30s', retry };
/** Shipping gives up after a bounded number of attempts: then the charge is refunded. */
const SHIPPING: ActivityOptions = { startToCloseTimeout: '60s', retry: { ...retry, maximumAttempts: 5 } };
/** A refund must never be lost: it retries until it succeeds. */
const REFUND: ActivityOptions = { startToCloseTimeout: '30s', retry: { ...retry, maximumInterval: '1m' } };

const acts = proxyActivities<OrderActivities>(FAST);

function money(n: number): string {
  return n.toFixed(2);
}

function failureOf(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? FailureType.failed, message: cause.message };
  return { type: FailureType.failed, message: cause instanceof Error ? cause.message : String(cause) };
}

/** A durable timer between steps (Temporal `sleep`, never setTimeout); none when the delay is 0. */
async function pause(ms: number, before: string): Promise<void> {
  if (ms > 0) await sleep(ms, { summary: `Wait ${ms}ms before ${before}` });
}

export async function processOrder({ order, stepDelayMs }: ProcessOrderInput): Promise<OrderView> {
  const view: OrderView = { orderId: order.orderId, workflowId: workflowInfo().workflowId, status: 'ACCEPTED', steps: [] };
  const record = (status: OrderStatus, detail?: string): void => {
    view.status = status;
    view.steps.push(detail === undefined ? { status, at: Date.now() } : { status, at: Date.now(), detail });
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
  };
  setHandler(statusQuery, () => view);
  record('ACCEPTED');
  log.info(`order ${order.orderId}: workflow started`);

  const compensations: Array<() => Promise<void>> = [];
  try {
    record('VALIDATING');
    await acts.validateOrder.executeWithOptions({ ...FAST, summary: `Validate ${order.orderId}` }, [order]);
    record('VALIDATED');

    await pause(stepDelayMs, 'payment');
    record('CHARGING');
    const total = money(order.price * order.quantity);
    const charge = await acts.chargePayment.executeWithOptions({ ...PAYMENT, summary: `Charge ${total} for ${order.orderId}` }, [order]);
    view.chargeId = charge.chargeId;
    compensations.push(async () => {
      await acts.refundPayment.executeWithOptions({ ...REFUND, summary: `Refund ${total} for ${order.orderId}` }, [
        order,
        charge.chargeId,
        charge.amount,
      ]);
      record('REFUNDED', `refunded ${money(charge.amount)}`);
    });
    record('CHARGED', charge.chargeId);

    await pause(stepDelayMs, 'shipping');
    record('SHIPPING');
    const shipment = await acts.shipOrder.executeWithOptions({ ...SHIPPING, summary: `Ship ${order.orderId}` }, [order]);
    view.trackingId = shipment.trackingId;
    record('SHIPPED', shipment.trackingId);
  } catch (err) {
    const failure = failureOf(err);
    // Undo in reverse order what succeeded so far (only the charge, today).
    for (const undo of compensations.reverse()) await undo();
    const final: OrderStatus =
      failure.type === FailureType.rejected ? 'REJECTED' : failure.type === FailureType.paymentDeclined ? 'PAYMENT_DECLINED' : 'FAILED';
    view.failure = { type: final, message: failure.message };
    record(final, failure.message);
    log.warn(`order ${order.orderId}: ${final} (${failure.message})`);
    throw ApplicationFailure.nonRetryable(failure.message, final, view);
  }

  record('COMPLETED');
  log.info(`order ${order.orderId}: completed`);
  return view;
}
