/**
 * processOrder: validation -> durable timer -> payment -> durable timer -> shipping.
 * Deterministic code only: no Node imports, no I/O; time comes from the workflow clock.
 *
 * Status events cost no history events of their own: the workflow hands each step's activity a
 * StatusPlan (the states recorded since the last publication, and the seq its outcome starts at),
 * the activity publishes them around its work and returns what it published. Only a final state
 * that no activity carries (a cancel during a timer, a failure before any charge) is published
 * through one local activity. OrderStatus is upserted at most once per workflow task, right before
 * the workflow waits (so a step in progress shows as CHARGING, SHIPPING...). A cancel update is
 * accepted until shipping starts; an amend update (./order-amend) until payment starts.
 */
import { ApplicationFailure, log, upsertSearchAttributes } from '@temporalio/workflow';
import { OrderStatusKey } from '../common/names';
import { entryOf, finalStatusOf, numberedEvents, ORDER_STATE, STEP_STATES } from '../common/status';
import type { OrderStatus, OrderView, StatusEntry, StatusEvent, StatusPlan } from '../common/status';
import type { OrderValues } from '../common/order-values';
import { amendUpdate, cancelUpdate, statusQuery } from '../common/workflow-api';
import { OrderAmendments } from './order-amend';
import {
  failureOf,
  newView,
  OrderCancelled,
  orderControls,
  orderSteps,
  publishStatuses,
  type ProcessOrderInput,
} from './order-shared';
import { processOrderV1 } from './order-v1';

export { amendUpdate, cancelUpdate, statusQuery };
export type { ProcessOrderInput };

/** The order's states as recorded in the view, with what is still to be published. */
class StatusLog {
  private pending: StatusEvent[] = [];
  private upserted?: OrderStatus;

  /** `statusPartition`: the order's order-status partition (partition routing), or undefined (the key's hash). */
  constructor(
    private readonly view: OrderView,
    private readonly statusPartition?: number,
  ) {}

  /**
   * Records a state the workflow itself reaches; it is published with the next plan or flush.
   * `order`: AMENDED's new values.
   */
  add(status: OrderStatus, detail?: string, order?: OrderValues): void {
    this.record([entryOf(status, Date.now(), detail, order)], true);
  }

  /** Records an activity's outcome: already published, or (`deferred`) to be published next. */
  adopt(entries: readonly StatusEntry[], deferred = false): void {
    this.record(entries, deferred);
  }

  /**
   * The plan for the next step's activity: the pending states, then its outcome's seq. With
   * `deferOutcome` a successful outcome comes back unpublished (adopt it as deferred).
   */
  plan(options: { then?: { status: OrderStatus; detail?: string }; deferOutcome?: boolean } = {}): StatusPlan {
    this.settle();
    const before = this.pending;
    this.pending = [];
    return { before, nextSeq: this.view.steps.length + 1, ...options };
  }

  /** Publishes what is pending through one local activity (no step activity will carry it). */
  async flush(): Promise<void> {
    this.settle();
    const events = this.pending;
    this.pending = [];
    if (events.length) await publishStatuses(events, this.statusPartition);
  }

  /**
   * Upserts OrderStatus if it changed; called right before the workflow waits (a step, a timer, the
   * end), so at most once per workflow task. Operators filter on it (e.g. orders stuck CHARGING), so
   * it names the step in progress too; each upsert is a history event and a visibility write.
   */
  settle(): void {
    if (this.upserted === this.view.status) return;
    this.upserted = this.view.status;
    upsertSearchAttributes([{ key: OrderStatusKey, value: this.view.status }]);
  }

  /** Appends entries to the view's steps; `pending`: they still have to be published. */
  private record(entries: readonly StatusEntry[], pending: boolean): void {
    const firstSeq = this.view.steps.length + 1;
    for (const entry of entries) {
      this.view.status = entry.status;
      this.view.steps.push(entry);
    }
    if (pending) this.pending.push(...numberedEvents(this.view.orderId, entries, firstSeq));
  }
}

/** The states an activity's business failure published (ApplicationFailure details), if any. */
function publishedBy(details: unknown[]): StatusEntry[] {
  const first = details[0] as { statuses?: StatusEntry[] } | undefined;
  return Array.isArray(first?.statuses) ? first.statuses : [];
}

export async function processOrder(input: ProcessOrderInput): Promise<OrderView> {
  if (input.statusEvents !== 'plans') return processOrderV1(input);
  const { order, stepDelayMs } = input;
  const view = newView(order);
  const { pause, cancelled } = orderControls(order, view, stepDelayMs);
  const statuses = new StatusLog(view, input.order.statusPartition);
  const settle = (): void => statuses.settle();
  const amendments = new OrderAmendments(order, {
    view,
    cancelled,
    record: async (amendmentId, values) => {
      statuses.add(STEP_STATES.amend.done, `amendment ${amendmentId}`, values);
      await statuses.flush();
    },
  });
  // Built for the order as amended so far: the charge, the shipment and a refund use its values.
  const steps = () => orderSteps(amendments.order());

  statuses.add(ORDER_STATE.accepted);
  log.info(`order ${order.orderId}: workflow started`);

  let charge: { chargeId: string; amount: number } | undefined;
  // Without a timer between steps the next step starts at once: it publishes this step's outcome.
  const deferOutcome = stepDelayMs === 0;
  try {
    statuses.add(STEP_STATES.validate.running);
    const validated = await steps().validate(statuses.plan({ deferOutcome }));
    statuses.adopt(validated.statuses, deferOutcome);

    if (stepDelayMs > 0) amendments.open();
    await pause('payment', settle);
    await amendments.close();
    statuses.add(STEP_STATES.charge.running);
    const charged = await steps().charge(statuses.plan({ deferOutcome }));
    charge = { chargeId: charged.chargeId, amount: charged.amount };
    view.chargeId = charged.chargeId;
    statuses.adopt(charged.statuses, deferOutcome);

    await pause('shipping', settle);
    statuses.add(STEP_STATES.ship.running);
    // Once shipped the order is complete: the shipping step publishes COMPLETED right after SHIPPED.
    const shipped = await steps().ship(statuses.plan({ then: { status: ORDER_STATE.completed } }));
    view.trackingId = shipped.trackingId;
    statuses.adopt(shipped.statuses);
  } catch (err) {
    const cancelled = err instanceof OrderCancelled;
    const failure = cancelled ? undefined : failureOf(err);
    const final: { status: OrderStatus; detail: string } = failure
      ? { status: finalStatusOf(failure.type), detail: failure.message }
      : { status: ORDER_STATE.cancelled, detail: 'cancelled by the customer' };
    if (failure) view.failure = { type: final.status, message: failure.message };

    const published = failure ? publishedBy(failure.details) : [];
    if (published.length) {
      // The step that failed published the final state itself (REJECTED, PAYMENT_DECLINED).
      statuses.adopt(published);
    } else if (charge) {
      // Undo the charge; the refund step publishes REFUNDED and then the final state.
      const refunded = await steps().refund(charge, statuses.plan({ then: final }));
      statuses.adopt(refunded.statuses);
    } else {
      statuses.add(final.status, final.detail);
      await statuses.flush();
    }
    statuses.settle();
    if (cancelled) {
      log.info(`order ${order.orderId}: cancelled`);
      return view;
    }
    log.warn(`order ${order.orderId}: ${final.status} (${final.detail})`);
    throw ApplicationFailure.nonRetryable(final.detail, final.status, view);
  }

  statuses.settle();
  log.info(`order ${order.orderId}: completed`);
  return view;
}
