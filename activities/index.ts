/**
 * Order activities: thin adapters from Temporal to the providers. Business outcomes become
 * non-retryable ApplicationFailures with a type the workflow matches; provider errors are left
 * to Temporal's retry policy. Idempotency keys derive from the workflow id, so a retried or
 * re-run activity never charges, refunds or ships twice.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Order } from '../common/order';
import { FailureType, STATUS_SCHEMA_VERSION } from '../common/status';
import type { StatusEvent } from '../common/status';
import type { Providers } from './providers';
import type { StatusPublisher } from './status-publisher';

function workflowKey(step: string): string {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('order activities run only inside a workflow');
  return `${execution.workflowId}:${step}`;
}

export function orderTotal(order: Order): number {
  return Math.round(order.price * order.quantity * 100) / 100;
}

export function createActivities(providers: Providers, statusPublisher: StatusPublisher) {
  return {
    /** Runs as a local activity after each state change; retried until Kafka stored the event. */
    async publishStatus(event: StatusEvent): Promise<void> {
      await statusPublisher.publish({ ...event, schemaVersion: STATUS_SCHEMA_VERSION });
    },

    async validateOrder(order: Order): Promise<void> {
      const check = await providers.inventory.check(order);
      if (!check.ok) throw ApplicationFailure.nonRetryable(check.reason, FailureType.rejected);
      log.info(`order ${order.orderId}: validated ${order.quantity} x "${order.item}"`);
    },

    async chargePayment(order: Order): Promise<{ chargeId: string; amount: number }> {
      const amount = orderTotal(order);
      const result = await providers.payment.charge({ idempotencyKey: workflowKey('charge'), orderId: order.orderId, amount });
      if (result.status === 'declined') throw ApplicationFailure.nonRetryable(result.reason, FailureType.paymentDeclined);
      log.info(`order ${order.orderId}: charged ${amount.toFixed(2)} (${result.chargeId})`);
      return { chargeId: result.chargeId, amount };
    },

    async refundPayment(order: Order, chargeId: string, amount: number): Promise<{ refundId: string }> {
      const result = await providers.payment.refund({ idempotencyKey: workflowKey('refund'), orderId: order.orderId, chargeId, amount });
      log.info(`order ${order.orderId}: refunded ${amount.toFixed(2)} (${result.refundId})`);
      return result;
    },

    async shipOrder(order: Order): Promise<{ trackingId: string }> {
      const result = await providers.shipping.ship({ idempotencyKey: workflowKey('ship'), order });
      if (result.status === 'refused') throw ApplicationFailure.nonRetryable(result.reason, FailureType.shippingFailed);
      log.info(`order ${order.orderId}: shipped (${result.trackingId})`);
      return { trackingId: result.trackingId };
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;
