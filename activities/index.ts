/**
 * Order activities: thin adapters from Temporal to the providers. Business outcomes become
 * non-retryable ApplicationFailures with a type the workflow matches; provider errors are left
 * to Temporal's retry policy. Idempotency keys derive from the workflow id, so a retried or
 * re-run activity never charges, refunds or ships twice.
 *
 * Each step's activity also publishes the order's status events around its work (the StatusPlan
 * the workflow hands it): that costs no history events, where a local activity per state change
 * cost one marker each. Runs started before plans existed pass none and publish through
 * `publishStatus` as they always did.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Order } from '../common/order';
import { FailureType } from '../common/status';
import type { OrderStatus, PublishedSteps, StatusEntry, StatusEvent, StatusPlan } from '../common/status';
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

/**
 * Heartbeats while `work` runs, so a step on a worker that died is retried after the heartbeat
 * timeout (seconds) instead of its whole start-to-close timeout. The SDK throttles the calls, and a
 * step that finishes within the first interval sends none.
 */
async function heartbeating<T>(work: Promise<T>, everyMs = 1_000): Promise<T> {
  const timer = setInterval(() => Context.current().heartbeat(), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

type Outcome = { status: OrderStatus; detail?: string };

export function createActivities(providers: Providers, statusPublisher: StatusPublisher) {
  /** Publishes the plan's `before` events (every attempt: repeats carry the same seq). */
  const publishBefore = async (plan: StatusPlan | undefined): Promise<void> => {
    if (plan) await statusPublisher.publish(plan.before);
  };

  /**
   * Publishes the outcome (and the plan's `then`, on success) numbered from `nextSeq`, unless the
   * plan defers a successful outcome to the next step.
   */
  const publishOutcome = async (
    order: Order,
    plan: StatusPlan | undefined,
    outcome: Outcome[],
    success = true,
  ): Promise<StatusEntry[]> => {
    if (!plan) return [];
    const at = Date.now();
    const statuses: StatusEntry[] = outcome.map((o) =>
      o.detail === undefined ? { status: o.status, at } : { status: o.status, at, detail: o.detail },
    );
    if (success && plan.deferOutcome) return statuses;
    const events: StatusEvent[] = statuses.map((entry, i) => ({
      orderId: order.orderId,
      seq: plan.nextSeq + i,
      ...entry,
    }));
    await statusPublisher.publish(events);
    return statuses;
  };

  /** Ends the attempt with a business failure, after publishing the state it leads to. */
  const businessFailure = async (
    order: Order,
    plan: StatusPlan | undefined,
    type: string,
    status: OrderStatus,
    reason: string,
  ): Promise<never> => {
    const published: PublishedSteps = {
      statuses: await publishOutcome(order, plan, [{ status, detail: reason }], false),
    };
    throw ApplicationFailure.create({ message: reason, type, nonRetryable: true, details: [published] });
  };

  const withThen = (plan: StatusPlan | undefined, outcome: Outcome): Outcome[] =>
    plan?.then ? [outcome, plan.then] : [outcome];

  return {
    /** Status events of runs started before StatusPlans: a local activity per state change. */
    async publishStatus(event: StatusEvent): Promise<void> {
      await statusPublisher.publish([event]);
    },

    /** Final states no step activity carries (e.g. cancelled during a timer): one local activity. */
    async publishStatuses(events: StatusEvent[]): Promise<void> {
      await statusPublisher.publish(events);
    },

    async validateOrder(order: Order, plan?: StatusPlan): Promise<PublishedSteps> {
      await publishBefore(plan);
      const check = await heartbeating(providers.inventory.check(order));
      if (!check.ok) return businessFailure(order, plan, FailureType.rejected, 'REJECTED', check.reason);
      log.info(`order ${order.orderId}: validated ${order.quantity} x "${order.item}"`);
      return { statuses: await publishOutcome(order, plan, withThen(plan, { status: 'VALIDATED' })) };
    },

    async chargePayment(
      order: Order,
      plan?: StatusPlan,
    ): Promise<{ chargeId: string; amount: number } & PublishedSteps> {
      await publishBefore(plan);
      const amount = orderTotal(order);
      const result = await heartbeating(
        providers.payment.charge({ idempotencyKey: workflowKey('charge'), orderId: order.orderId, amount }),
      );
      if (result.status === 'declined')
        return businessFailure(order, plan, FailureType.paymentDeclined, 'PAYMENT_DECLINED', result.reason);
      log.info(`order ${order.orderId}: charged ${amount.toFixed(2)} (${result.chargeId})`);
      const statuses = await publishOutcome(
        order,
        plan,
        withThen(plan, { status: 'CHARGED', detail: result.chargeId }),
      );
      return { chargeId: result.chargeId, amount, statuses };
    },

    async refundPayment(
      order: Order,
      chargeId: string,
      amount: number,
      plan?: StatusPlan,
    ): Promise<{ refundId: string } & PublishedSteps> {
      await publishBefore(plan);
      const result = await heartbeating(
        providers.payment.refund({ idempotencyKey: workflowKey('refund'), orderId: order.orderId, chargeId, amount }),
      );
      log.info(`order ${order.orderId}: refunded ${amount.toFixed(2)} (${result.refundId})`);
      const statuses = await publishOutcome(
        order,
        plan,
        withThen(plan, { status: 'REFUNDED', detail: `refunded ${amount.toFixed(2)}` }),
      );
      return { refundId: result.refundId, statuses };
    },

    async shipOrder(order: Order, plan?: StatusPlan): Promise<{ trackingId: string } & PublishedSteps> {
      await publishBefore(plan);
      const result = await heartbeating(providers.shipping.ship({ idempotencyKey: workflowKey('ship'), order }));
      // Refused: no state is published here; the workflow refunds, and the refund publishes.
      if (result.status === 'refused') throw ApplicationFailure.nonRetryable(result.reason, FailureType.shippingFailed);
      log.info(`order ${order.orderId}: shipped (${result.trackingId})`);
      const statuses = await publishOutcome(
        order,
        plan,
        withThen(plan, { status: 'SHIPPED', detail: result.trackingId }),
      );
      return { trackingId: result.trackingId, statuses };
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;
