/**
 * processOrder: validation -> durable timer -> payment -> durable timer -> shipping.
 * Deterministic code only: no Node imports, no I/O; time comes from the workflow clock.
 * Each state change is recorded (status query, OrderStatus search attribute) and published to
 * Kafka through a local activity. A cancel update is accepted until shipping starts.
 */
import {
  ActivityFailure,
  ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  RetryPolicy,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { Order } from '../common/order';
import { OrderStatusKey } from '../common/search-attributes';
import { FailureType, isFinal, OrderStatus, OrderView } from '../common/status';
import { cancelUpdate, statusQuery } from '../common/workflow-api';

export { cancelUpdate, statusQuery };

export interface ProcessOrderInput {
  order: Order;
  /** Durable pause between steps, in ms; part of the input so it is fixed in history. */
  stepDelayMs: number;
}

const retry: RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' };

/** One option set per timeout/retry class. */
const FAST: ActivityOptions = { startToCloseTimeout: '10s', retry };
const PAYMENT: ActivityOptions = { startToCloseTimeout: '30s', retry };
/** Shipping gives up after a bounded number of attempts: then the charge is refunded. */
const SHIPPING: ActivityOptions = { startToCloseTimeout: '60s', retry: { ...retry, maximumAttempts: 5 } };
/** A refund must never be lost: it retries until it succeeds. */
const REFUND: ActivityOptions = { startToCloseTimeout: '30s', retry: { ...retry, maximumInterval: '1m' } };

const acts = proxyActivities<OrderActivities>(FAST);
/** Status events: local (no server round trip to schedule), retried until Kafka takes them. */
const { publishStatus } = proxyLocalActivities<OrderActivities>({ startToCloseTimeout: '10s', retry });

const SHIPPING_STARTED: readonly OrderStatus[] = ['SHIPPING', 'SHIPPED', 'COMPLETED'];

class OrderCancelled extends Error {}

function money(n: number): string {
  return n.toFixed(2);
}

function failureOf(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? FailureType.failed, message: cause.message };
  return { type: FailureType.failed, message: cause instanceof Error ? cause.message : String(cause) };
}

export async function processOrder({ order, stepDelayMs }: ProcessOrderInput): Promise<OrderView> {
  const view: OrderView = { orderId: order.orderId, workflowId: workflowInfo().workflowId, status: 'ACCEPTED', steps: [] };
  let cancelRequested = false;
  let timerScope: CancellationScope | undefined;

  const record = async (status: OrderStatus, detail?: string): Promise<void> => {
    const at = Date.now();
    view.status = status;
    view.steps.push(detail === undefined ? { status, at } : { status, at, detail });
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
    await publishStatus({ orderId: order.orderId, status, seq: view.steps.length, at, ...(detail === undefined ? {} : { detail }) });
  };

  /** A durable timer between steps (Temporal `sleep`, never setTimeout) that a cancel cuts short. */
  const pause = async (before: string): Promise<void> => {
    if (stepDelayMs > 0 && !cancelRequested) {
      try {
        await CancellationScope.cancellable(async () => {
          timerScope = CancellationScope.current();
          await sleep(stepDelayMs, { summary: `Wait ${stepDelayMs}ms before ${before}` });
        });
      } catch (err) {
        if (!isCancellation(err)) throw err;
      } finally {
        timerScope = undefined;
      }
    }
    if (cancelRequested) throw new OrderCancelled();
  };

  setHandler(statusQuery, () => view);
  setHandler(
    cancelUpdate,
    async () => {
      cancelRequested = true;
      timerScope?.cancel();
      await condition(() => isFinal(view.status));
      return view;
    },
    {
      validator: () => {
        if (isFinal(view.status)) throw new Error(`order ${order.orderId} is already ${view.status}`);
        if (SHIPPING_STARTED.includes(view.status)) throw new Error(`order ${order.orderId} cannot be cancelled: shipping has started`);
      },
    },
  );

  await record('ACCEPTED');
  log.info(`order ${order.orderId}: workflow started`);

  const compensations: Array<() => Promise<void>> = [];
  const compensate = async (): Promise<void> => {
    // Undo in reverse order what succeeded so far (only the charge, today).
    for (const undo of compensations.reverse()) await undo();
  };
  try {
    await record('VALIDATING');
    await acts.validateOrder.executeWithOptions({ ...FAST, summary: `Validate ${order.orderId}` }, [order]);
    await record('VALIDATED');

    await pause('payment');
    await record('CHARGING');
    const total = money(order.price * order.quantity);
    const charge = await acts.chargePayment.executeWithOptions({ ...PAYMENT, summary: `Charge ${total} for ${order.orderId}` }, [order]);
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
    const shipment = await acts.shipOrder.executeWithOptions({ ...SHIPPING, summary: `Ship ${order.orderId}` }, [order]);
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
    const final: OrderStatus =
      failure.type === FailureType.rejected ? 'REJECTED' : failure.type === FailureType.paymentDeclined ? 'PAYMENT_DECLINED' : 'FAILED';
    view.failure = { type: final, message: failure.message };
    await record(final, failure.message);
    log.warn(`order ${order.orderId}: ${final} (${failure.message})`);
    throw ApplicationFailure.nonRetryable(failure.message, final, view);
  }

  await record('COMPLETED');
  log.info(`order ${order.orderId}: completed`);
  return view;
}
