/**
 * Order activities: thin adapters from Temporal to the providers. Business outcomes become
 * non-retryable ApplicationFailures with a type the workflow matches; provider errors are left
 * to Temporal's retry policy. Idempotency keys derive from the workflow id (./step-context).
 *
 * Each step's activity also publishes the order's status events around its work, as the
 * StatusPlan the workflow hands it says (./status-plan): that costs no history events. Runs
 * without plans (the first workflow version) publish through `publishStatus`.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Order } from '../common/order';
import { FailureType, STEP_STATES } from '../common/status';
import type { PublishedSteps, StatusEvent, StatusPlan } from '../common/status';
import type { Providers } from './providers';
import { heartbeating, orderTotal, runningWorkflowId, workflowKey } from './step-context';
import { PlanPublisher, withThen } from './status-plan';
import { stampedWith, type StatusPublisher } from './status-publisher';

export { orderTotal };

export function createActivities(providers: Providers, publisher: StatusPublisher) {
  // Every status event names the run it comes from: the gateway routes it by that id.
  const statusPublisher = stampedWith(publisher, runningWorkflowId);
  const plans = new PlanPublisher(statusPublisher);

  return {
    /** Status events of runs started before StatusPlans: a local activity per state change. */
    async publishStatus(event: StatusEvent): Promise<void> {
      await statusPublisher.publish([event]);
    },

    /**
     * Final states no step activity carries (e.g. cancelled during a timer): one local activity.
     * `statusPartition`: the order's (partition routing); absent in runs of orders placed without it.
     */
    async publishStatuses(events: StatusEvent[], statusPartition?: number): Promise<void> {
      await statusPublisher.publish(events, statusPartition);
    },

    async validateOrder(order: Order, plan?: StatusPlan): Promise<PublishedSteps> {
      await plans.before(order, plan);
      const check = await heartbeating(providers.inventory.check(order));
      if (!check.ok) return plans.businessFailure(order, plan, STEP_STATES.validate.refused, check.reason);
      log.info(`order ${order.orderId}: validated ${order.quantity} x "${order.item}"`);
      return { statuses: await plans.outcome(order, plan, withThen(plan, { status: STEP_STATES.validate.done })) };
    },

    async chargePayment(
      order: Order,
      plan?: StatusPlan,
    ): Promise<{ chargeId: string; amount: number } & PublishedSteps> {
      await plans.before(order, plan);
      const amount = orderTotal(order);
      const result = await heartbeating(
        providers.payment.charge({ idempotencyKey: workflowKey('charge'), orderId: order.orderId, amount }),
      );
      if (result.status === 'declined')
        return plans.businessFailure(order, plan, STEP_STATES.charge.refused, result.reason);
      log.info(`order ${order.orderId}: charged ${amount.toFixed(2)} (${result.chargeId})`);
      const statuses = await plans.outcome(
        order,
        plan,
        withThen(plan, { status: STEP_STATES.charge.done, detail: result.chargeId }),
      );
      return { chargeId: result.chargeId, amount, statuses };
    },

    async refundPayment(
      order: Order,
      chargeId: string,
      amount: number,
      plan?: StatusPlan,
    ): Promise<{ refundId: string } & PublishedSteps> {
      await plans.before(order, plan);
      const result = await heartbeating(
        providers.payment.refund({ idempotencyKey: workflowKey('refund'), orderId: order.orderId, chargeId, amount }),
      );
      log.info(`order ${order.orderId}: refunded ${amount.toFixed(2)} (${result.refundId})`);
      const statuses = await plans.outcome(
        order,
        plan,
        withThen(plan, { status: STEP_STATES.refund.done, detail: `refunded ${amount.toFixed(2)}` }),
      );
      return { refundId: result.refundId, statuses };
    },

    async shipOrder(order: Order, plan?: StatusPlan): Promise<{ trackingId: string } & PublishedSteps> {
      await plans.before(order, plan);
      const result = await heartbeating(providers.shipping.ship({ idempotencyKey: workflowKey('ship'), order }));
      // Refused: no state is published here; the workflow refunds, and the refund publishes.
      if (result.status === 'refused') throw ApplicationFailure.nonRetryable(result.reason, FailureType.shippingFailed);
      log.info(`order ${order.orderId}: shipped (${result.trackingId})`);
      const statuses = await plans.outcome(
        order,
        plan,
        withThen(plan, { status: STEP_STATES.ship.done, detail: result.trackingId }),
      );
      return { trackingId: result.trackingId, statuses };
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;
