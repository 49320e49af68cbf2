/**
 * The one home of the order's status names: their list and order, which state each step of the
 * order names (read by the workflow and by the step activities alike), and the sets derived from
 * them. The page's copy (web/status-sets.js) is generated from this file by `npm run contract`.
 * Kept free of Node imports: workflow code imports this file.
 */
import type { OrderValues } from './order-values';

/** Every state an order reports (status query, search attribute, status events), in the order a page lists them. */
export const ORDER_STATUSES = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'AMENDED',
  'CHARGING',
  'CHARGED',
  'SHIPPING',
  'SHIPPED',
  'COMPLETED',
  'REJECTED',
  'PAYMENT_DECLINED',
  'REFUNDED',
  'CANCELLED',
  'FAILED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const FINAL_STATUSES: readonly OrderStatus[] = [
  'COMPLETED',
  'REJECTED',
  'PAYMENT_DECLINED',
  'CANCELLED',
  'FAILED',
];

/** Failure types the activities raise and the workflow ends with (ApplicationFailure.type). */
export const FailureType = {
  rejected: 'REJECTED',
  paymentDeclined: 'PAYMENT_DECLINED',
  shippingFailed: 'SHIPPING_FAILED',
  failed: 'FAILED',
} as const;

/** The states of the order as a whole, which the workflow records itself. */
export const ORDER_STATE = {
  accepted: 'ACCEPTED',
  completed: 'COMPLETED',
  cancelled: 'CANCELLED',
  /** Any failure that is not a step's refusal (e.g. shipping gave up). */
  failed: 'FAILED',
} as const satisfies Record<string, OrderStatus>;

/**
 * The states each step names: `running` is recorded by the workflow before the step's activity
 * starts; `done` is what the activity publishes after its work; `refused` is a business refusal
 * (its failure type and the final state it ends the order in), which the activity publishes too.
 * `amend` has no activity: the workflow's amend update records AMENDED (carrying the order's new
 * values) and publishes it at once; it is not final, and may come more than once before CHARGING.
 */
export const STEP_STATES = {
  validate: { running: 'VALIDATING', done: 'VALIDATED', refused: { type: FailureType.rejected, status: 'REJECTED' } },
  charge: {
    running: 'CHARGING',
    done: 'CHARGED',
    refused: { type: FailureType.paymentDeclined, status: 'PAYMENT_DECLINED' },
  },
  ship: { running: 'SHIPPING', done: 'SHIPPED' },
  refund: { done: 'REFUNDED' },
  amend: { done: 'AMENDED' },
} as const satisfies Record<
  string,
  { running?: OrderStatus; done: OrderStatus; refused?: { type: string; status: OrderStatus } }
>;

/** The final state a failure type ends the order in: a step's refusal, else FAILED. */
export function finalStatusOf(failureType: string): OrderStatus {
  for (const step of Object.values(STEP_STATES))
    if ('refused' in step && step.refused.type === failureType) return step.refused.status;
  return ORDER_STATE.failed;
}

export interface StatusEntry {
  status: OrderStatus;
  /** Epoch ms, workflow time. */
  at: number;
  detail?: string;
  /** AMENDED only: the order's values from this change on. */
  order?: OrderValues;
}

export interface OrderView {
  orderId: string;
  workflowId: string;
  status: OrderStatus;
  steps: StatusEntry[];
  chargeId?: string;
  trackingId?: string;
  failure?: { type: string; message: string };
}

/**
 * Version of the order-status event's shape (docs/EVENTS.md "Evolving an event"). Stamped by the worker when it
 * publishes; consumers refuse versions they do not know.
 */
export const STATUS_SCHEMA_VERSION = 1;

/** A status change as published on the order-status topic and pushed to WebSocket clients. */
export interface StatusEvent {
  /** On the order-status topic (STATUS_SCHEMA_VERSION); not in the frames pushed to clients. */
  schemaVersion?: number;
  orderId: string;
  /**
   * On the order-status topic: the run's workflow id, which the gateway routes by (two customers'
   * same orderId are two runs); absent from events of workers that predate it (then `order-<orderId>`).
   * Not in the frames pushed to clients.
   */
  workflowId?: string;
  status: OrderStatus;
  /** 1-based position of this change in the order's steps: consumers dedupe and detect gaps with it. */
  seq: number;
  at: number;
  detail?: string;
  /** AMENDED only: the order's item, price and quantity from this change on. */
  order?: OrderValues;
}

/** States from which a cancel is refused: shipping has begun (or the order is complete). */
export const SHIPPING_STARTED: readonly OrderStatus[] = ['SHIPPING', 'SHIPPED', 'COMPLETED'];

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * A step entry; `detail` and `order` are left out rather than set to undefined (it travels as JSON).
 * `order` (the amended values) is kept on AMENDED entries only.
 */
export function entryOf(status: OrderStatus, at: number, detail?: string, order?: OrderValues): StatusEntry {
  const entry: StatusEntry = detail === undefined ? { status, at } : { status, at, detail };
  if (order !== undefined && status === STEP_STATES.amend.done)
    entry.order = { item: order.item, price: order.price, quantity: order.quantity };
  return entry;
}

/**
 * The events for `entries`, numbered from `firstSeq`: the seq of a step is its 1-based position
 * in the order's steps, so every producer of an event numbers it the same way.
 */
export function numberedEvents(orderId: string, entries: readonly StatusEntry[], firstSeq: number): StatusEvent[] {
  return entries.map((entry, i) => ({
    orderId,
    seq: firstSeq + i,
    ...entryOf(entry.status, entry.at, entry.detail, entry.order),
  }));
}

/** The events of a view's steps from `fromSeq` on (values below 1 count as 1). */
export function eventsOf(view: OrderView, fromSeq: number): StatusEvent[] {
  const first = Math.max(1, fromSeq);
  return numberedEvents(view.orderId, view.steps.slice(first - 1), first);
}

/**
 * The status events a step's activity publishes around its work. The workflow decides them (and
 * their `seq`); the activity publishes `before` at the start of every attempt and, once the work is
 * done, the outcome's events numbered from `nextSeq`, then returns those entries so the workflow
 * records exactly what was published. Repeats across attempts carry the same `seq`: subscribers
 * drop them. One step's events are stored before the step completes, so before the next step's.
 */
export interface StatusPlan {
  before: StatusEvent[];
  nextSeq: number;
  /** A final state that follows a successful outcome at once (COMPLETED after SHIPPED, CANCELLED/FAILED after REFUNDED). */
  then?: { status: OrderStatus; detail?: string };
  /**
   * The next step starts right after this one (no timer between them): a successful outcome is not
   * published here but returned, and goes out first in the next step's `before`. This saves a
   * produce request per step; a business failure is final and always published.
   */
  deferOutcome?: boolean;
}

/** What an activity published after its work; the workflow appends these to the order's steps. */
export interface PublishedSteps {
  statuses: StatusEntry[];
}
