/**
 * What both versions of processOrder share: the steps (activities with their options and summaries),
 * the cancel update and status query handlers, the durable pause between steps, and how a failure
 * maps to a final state.
 * Deterministic code only.
 */
import {
  ActivityFailure,
  ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  RetryPolicy,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { Order } from '../common/order';
import { FailureType, isFinal, ORDER_STATE, OrderView, SHIPPING_STARTED, type StatusPlan } from '../common/status';
import { cancelUpdate, statusQuery } from '../common/workflow-api';

export interface ProcessOrderInput {
  order: Order;
  /** Durable pause between steps, in ms; part of the input so it is fixed in history. */
  stepDelayMs: number;
  /**
   * How status events are published. 'plans' (what the bridge starts): each step's activity
   * publishes the states around it. Absent in runs started before plans existed: those keep the
   * first version's path (workflows/order-v1.ts), so their histories replay unchanged.
   */
  statusEvents?: 'plans';
}

const retry: RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' };

/**
 * One option set per timeout/retry class. Every step heartbeats (activities/index.ts), so a step
 * on a worker that died is retried after the 5 s heartbeat timeout; the start-to-close timeouts
 * only bound a step that is alive but stuck.
 */
const heartbeatTimeout = '5s';
const FAST: ActivityOptions = { startToCloseTimeout: '2m', heartbeatTimeout, retry };
const PAYMENT: ActivityOptions = { startToCloseTimeout: '5m', heartbeatTimeout, retry };
/** Shipping gives up after a bounded number of attempts: then the charge is refunded. */
const SHIPPING: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout,
  retry: { ...retry, maximumAttempts: 5 },
};
/** A refund must never be lost: it retries until it succeeds. */
const REFUND: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout,
  retry: { ...retry, maximumInterval: '1m' },
};
/** Local status publishing: retried until Kafka takes the events. */
const LOCAL_STATUS: ActivityOptions = { startToCloseTimeout: '10s', retry };

const acts = proxyActivities<OrderActivities>(FAST);

/** The status publications of a workflow, as local activities (retried until Kafka takes the events). */
export const { publishStatus, publishStatuses } = proxyLocalActivities<OrderActivities>(LOCAL_STATUS);

/**
 * The order's steps, each with its option set and the summary the Temporal UI shows. `plan`: the
 * status plan the step's activity publishes around its work (processOrder); processOrderV1 passes none.
 */
export function orderSteps(order: Order) {
  const summary = (what: string): string => `${what} ${order.orderId}`;
  const total = money(order.price * order.quantity);
  return {
    validate: (plan?: StatusPlan) =>
      acts.validateOrder.executeWithOptions({ ...FAST, summary: summary('Validate') }, plan ? [order, plan] : [order]),
    charge: (plan?: StatusPlan) =>
      acts.chargePayment.executeWithOptions(
        { ...PAYMENT, summary: summary(`Charge ${total} for`) },
        plan ? [order, plan] : [order],
      ),
    ship: (plan?: StatusPlan) =>
      acts.shipOrder.executeWithOptions({ ...SHIPPING, summary: summary('Ship') }, plan ? [order, plan] : [order]),
    refund: (charge: { chargeId: string; amount: number }, plan?: StatusPlan) =>
      acts.refundPayment.executeWithOptions(
        { ...REFUND, summary: summary(`Refund ${total} for`) },
        plan ? [order, charge.chargeId, charge.amount, plan] : [order, charge.chargeId, charge.amount],
      ),
  };
}

export class OrderCancelled extends Error {}

export function money(n: number): string {
  return n.toFixed(2);
}

export function newView(order: Order): OrderView {
  return { orderId: order.orderId, workflowId: workflowInfo().workflowId, status: ORDER_STATE.accepted, steps: [] };
}

export function failureOf(err: unknown): { type: string; message: string; details: unknown[] } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? FailureType.failed, message: cause.message, details: cause.details ?? [] };
  return { type: FailureType.failed, message: cause instanceof Error ? cause.message : String(cause), details: [] };
}

/**
 * Installs the status query and the cancel update, and returns the durable pause between steps
 * (Temporal `sleep`, never setTimeout) that a cancel cuts short: it throws OrderCancelled once a
 * cancel was accepted. `beforeSleep` runs only when the pause really sleeps. `cancelled()`: a cancel
 * was accepted (the amend update refuses from then on).
 */
export function orderControls(
  order: Order,
  view: OrderView,
  stepDelayMs: number,
): { pause: (before: string, beforeSleep?: () => void) => Promise<void>; cancelled: () => boolean } {
  let cancelRequested = false;
  let timerScope: CancellationScope | undefined;

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
        if (SHIPPING_STARTED.includes(view.status))
          throw new Error(`order ${order.orderId} cannot be cancelled: shipping has started`);
      },
    },
  );

  const pause = async (before: string, beforeSleep?: () => void): Promise<void> => {
    if (stepDelayMs > 0 && !cancelRequested) {
      beforeSleep?.();
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
  return { pause, cancelled: () => cancelRequested };
}
