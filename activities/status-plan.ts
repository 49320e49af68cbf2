/**
 * How a step's activity carries out the StatusPlan the workflow handed it: the plan's `before`
 * events go out at the start of every attempt (repeats carry the same seq), the outcome goes out
 * once the work is done, numbered from `nextSeq`, unless the plan defers a successful outcome to
 * the next step. Without a plan (a run of the first workflow version) nothing is published here.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Order } from '../common/order';
import { entryOf, numberedEvents } from '../common/status';
import type { OrderStatus, PublishedSteps, StatusEntry, StatusPlan } from '../common/status';
import type { StatusPublisher } from './status-publisher';

export type Outcome = { status: OrderStatus; detail?: string };

/** The states a successful outcome leads to: the outcome, then the plan's `then` if it has one. */
export function withThen(plan: StatusPlan | undefined, outcome: Outcome): Outcome[] {
  return plan?.then ? [outcome, plan.then] : [outcome];
}

/** The step entries of an outcome, all stamped `at`. */
export function outcomeEntries(outcome: readonly Outcome[], at: number): StatusEntry[] {
  return outcome.map((o) => entryOf(o.status, at, o.detail));
}

export class PlanPublisher {
  constructor(private readonly statusPublisher: StatusPublisher) {}

  /** Publishes the plan's `before` events (every attempt: repeats carry the same seq). */
  async before(order: Order, plan: StatusPlan | undefined): Promise<void> {
    if (plan) await this.statusPublisher.publish(plan.before, order.statusPartition);
  }

  /** Publishes the outcome (unless a successful one is deferred) and returns its entries. */
  async outcome(
    order: Order,
    plan: StatusPlan | undefined,
    outcome: Outcome[],
    success = true,
  ): Promise<StatusEntry[]> {
    if (!plan) return [];
    const statuses = outcomeEntries(outcome, Date.now());
    if (success && plan.deferOutcome) return statuses;
    await this.statusPublisher.publish(numberedEvents(order.orderId, statuses, plan.nextSeq), order.statusPartition);
    return statuses;
  }

  /** Ends the attempt with a business failure, after publishing the state it leads to. */
  async businessFailure(
    order: Order,
    plan: StatusPlan | undefined,
    refusal: { type: string; status: OrderStatus },
    reason: string,
  ): Promise<never> {
    const { type, status } = refusal;
    const published: PublishedSteps = {
      statuses: await this.outcome(order, plan, [{ status, detail: reason }], false),
    };
    throw ApplicationFailure.create({ message: reason, type, nonRetryable: true, details: [published] });
  }
}
