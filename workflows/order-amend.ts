/**
 * The amend update of processOrder: a customer changes the order's item, price or quantity until
 * payment starts. Deterministic code only.
 *
 * The window: amendments apply only while the workflow waits before payment (after validation, in
 * the first timer). One that arrives while validation runs is accepted and waits for it; once
 * processOrder closes the window (right before CHARGING) every new one is refused, and a waiting
 * one fails. Applying an amendment records AMENDED (with the new values) and publishes it at once;
 * processOrder starts the charge only after that is stored, and charges the amended order.
 *
 * Refusals are ApplicationFailures of type AMEND_REFUSED: from the validator (nothing is recorded)
 * or, for an amendment that waited, from the handler (the update fails).
 *
 * Idempotent: each applied amendment id is remembered with the values it left, and the same id
 * again answers them and changes nothing (the gateway also sends it under the update id
 * `amend:<amendmentId>`, which the server deduplicates).
 */
import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import type { Order } from '../common/order';
import { amended, amendmentProblem, type Amendment, type OrderValues } from '../common/order-values';
import { isFinal, type OrderView } from '../common/status';
import { amendUpdate, type AmendResult } from '../common/workflow-api';
import { OrderCancelled } from './order-shared';

/**
 * Marks the history of a run that applied an amendment. Runs that never take one record no marker
 * (the happy path's history is unchanged); a later change to how amendments apply branches on it.
 */
export const AMEND_PATCH = 'amend-order';
/** The failure type of every refusal, so a client can tell it from a server failure. */
export const AMEND_REFUSED = 'AMEND_REFUSED';
/** Amendments one order takes at most: each one costs history events and a status event. */
export const MAX_AMENDMENTS = 10;

export interface AmendmentHooks {
  view: OrderView;
  /** A cancel was accepted. */
  cancelled: () => boolean;
  /** Records AMENDED with the new values and publishes it; resolves once it is stored. */
  record: (amendmentId: string, values: OrderValues) => Promise<void>;
}

export class OrderAmendments {
  /** 'waiting': the workflow is before the first timer; 'open': in it; 'closed': payment has started. */
  private window: 'waiting' | 'open' | 'closed' = 'waiting';
  private current: Order;
  /** Each applied amendment id, with the values it left the order with. */
  private readonly applied = new Map<string, OrderValues>();
  /** Amendments accepted and not yet applied or refused (they count toward MAX_AMENDMENTS). */
  private pending = 0;
  /** Amendments applied whose AMENDED event is still being published. */
  private publishing = 0;

  constructor(
    order: Order,
    private readonly hooks: AmendmentHooks,
  ) {
    this.current = order;
    setHandler(amendUpdate, (a) => this.apply(a), { validator: (a) => this.validate(a) });
  }

  /** The order as amended so far: what the charge, the shipment and a refund are made for. */
  order(): Order {
    return this.current;
  }

  /** The workflow waits before payment: amendments apply from now on. */
  open(): void {
    if (this.window === 'waiting') this.window = 'open';
  }

  /**
   * Payment is about to start: no amendment applies from now on. Waits until every applied one is
   * published (AMENDED is stored before CHARGING); a cancel accepted meanwhile ends the order here.
   */
  async close(): Promise<void> {
    this.window = 'closed';
    if (this.publishing === 0) return;
    await condition(() => this.publishing === 0);
    if (this.hooks.cancelled()) throw new OrderCancelled();
  }

  private validate(a: Amendment): void {
    const problem = amendmentProblem(a);
    if (problem) throw this.refusal(problem);
    if (this.applied.has(a.amendmentId)) return; // a repeat: answered with what it applied
    this.refuseIfClosed();
    if (this.applied.size + this.pending >= MAX_AMENDMENTS)
      throw this.refusal(`at most ${MAX_AMENDMENTS} amendments per order`);
  }

  private async apply(a: Amendment): Promise<AmendResult> {
    const done = this.applied.get(a.amendmentId);
    if (done) return { amendmentId: a.amendmentId, order: done };
    if (this.window === 'waiting') {
      this.pending += 1;
      try {
        await condition(() => this.window !== 'waiting' || this.hooks.cancelled());
      } finally {
        this.pending -= 1;
      }
      // The same id may have been applied while this one waited (sent under another update id).
      const meanwhile = this.applied.get(a.amendmentId);
      if (meanwhile) return { amendmentId: a.amendmentId, order: meanwhile };
      this.refuseIfClosed();
    }
    patched(AMEND_PATCH);
    const values = amended(this.current, a);
    this.current = { ...this.current, ...values };
    this.applied.set(a.amendmentId, values);
    this.publishing += 1;
    try {
      await this.hooks.record(a.amendmentId, values);
    } finally {
      this.publishing -= 1;
    }
    return { amendmentId: a.amendmentId, order: values };
  }

  private refuseIfClosed(): void {
    const { view } = this.hooks;
    if (isFinal(view.status)) throw this.refusal(`the order is already ${view.status}`);
    if (this.hooks.cancelled()) throw this.refusal('the order is being cancelled');
    if (this.window === 'closed') throw this.refusal('payment has started');
  }

  private refusal(reason: string): ApplicationFailure {
    return ApplicationFailure.create({
      type: AMEND_REFUSED,
      message: `order ${this.current.orderId} cannot be amended: ${reason}`,
      nonRetryable: true,
    });
  }
}
