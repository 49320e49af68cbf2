/**
 * What both versions of processOrder share: activity options, the cancel update and status query
 * handlers, the durable pause between steps, and how a failure maps to a final state.
 * Deterministic code only.
 */
import {
  ActivityFailure,
  ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  RetryPolicy,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Order } from '../common/order';
import { FailureType, isFinal, OrderStatus, OrderView, SHIPPING_STARTED } from '../common/status';
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
export const FAST: ActivityOptions = { startToCloseTimeout: '2m', heartbeatTimeout, retry };
export const PAYMENT: ActivityOptions = { startToCloseTimeout: '5m', heartbeatTimeout, retry };
/** Shipping gives up after a bounded number of attempts: then the charge is refunded. */
export const SHIPPING: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout,
  retry: { ...retry, maximumAttempts: 5 },
};
/** A refund must never be lost: it retries until it succeeds. */
export const REFUND: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout,
  retry: { ...retry, maximumInterval: '1m' },
};
/** Local status publishing: retried until Kafka takes the events. */
export const LOCAL_STATUS: ActivityOptions = { startToCloseTimeout: '10s', retry };

export class OrderCancelled extends Error {}

export function money(n: number): string {
  return n.toFixed(2);
}

export function newView(order: Order): OrderView {
  return { orderId: order.orderId, workflowId: workflowInfo().workflowId, status: 'ACCEPTED', steps: [] };
}

export function failureOf(err: unknown): { type: string; message: string; details: unknown[] } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? FailureType.failed, message: cause.message, details: cause.details ?? [] };
  return { type: FailureType.failed, message: cause instanceof Error ? cause.message : String(cause), details: [] };
}

/** The final state a failure type ends the order in. */
export function finalStatusOf(type: string): OrderStatus {
  return type === FailureType.rejected
    ? 'REJECTED'
    : type === FailureType.paymentDeclined
      ? 'PAYMENT_DECLINED'
      : 'FAILED';
}

/**
 * Installs the status query and the cancel update, and returns the durable pause between steps
 * (Temporal `sleep`, never setTimeout) that a cancel cuts short: it throws OrderCancelled once a
 * cancel was accepted. `beforeSleep` runs only when the pause really sleeps.
 */
export function orderControls(
  order: Order,
  view: OrderView,
  stepDelayMs: number,
): { pause: (before: string, beforeSleep?: () => void) => Promise<void> } {
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
  return { pause };
}
