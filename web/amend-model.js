// @ts-check
// The rules of amending an order from the page: when Amend is offered, how the form's text is read
// (by the limits the gateway's schema for an order's values publishes, STATUS_PUSH's `order`), what
// amendOrder carries, and how an answer or an AMENDED push changes the order's record.
// An attempt's amendmentId is made once, when the form is sent, and kept with the order (store.js
// saves it) until the gateway gives a final answer: every resend of that attempt (after a lost
// connection, a reload, TEMPORAL_UNAVAILABLE or BUSY) carries the same id, and the workflow applies
// an amendment id once.
import { RETRYABLE, STATUS_PUSH, STATUSES } from './common.js';
import { isFinal } from './model.js';

/** @typedef {import('./model.js').OrderRecord} OrderRecord */
/** @typedef {import('./model.js').Amendment} Amendment */
/** @typedef {{ item: string, price: number, quantity: number }} OrderValues */

/** The first status at which payment has started: from here on the gateway refuses amendments. */
const PAYMENT_STARTS = STATUSES.indexOf('CHARGING');

/** The limits of an order's values, as the generated push schema carries them. */
const RULES = /** @type {Record<string, import('./status-push.js').Rule>} */ (
  /** @type {import('./status-push.js').Rule} */ (STATUS_PUSH.properties.order).properties
);

/**
 * Whether payment has started: CHARGING or any status after it has been seen (STATUSES is in order).
 * @param {OrderRecord} o
 */
export function paymentStarted(o) {
  const started = (/** @type {string} */ s) => STATUSES.indexOf(s) >= PAYMENT_STARTS;
  return started(o.status) || o.steps.some((s) => started(s.status));
}

/**
 * Amend is offered while the gateway would still take an amendment: accepted, not final, payment not
 * started, no cancel sent, no earlier attempt still waiting for its answer, and no CANNOT_AMEND yet.
 * @param {OrderRecord} o
 */
export function canAmend(o) {
  return !o.placing && !isFinal(o) && !paymentStarted(o) && o.cancel === 'idle' && !o.amendment && !o.amendClosed;
}

/**
 * Why Amend is not offered, for its tooltip ('' when it is).
 * @param {OrderRecord} o
 */
export function amendBlockedBy(o) {
  if (o.placing) return 'The gateway has not accepted the order yet';
  if (isFinal(o)) return 'The order is finished';
  if (paymentStarted(o)) return 'Payment has started: too late to amend';
  if (o.cancel !== 'idle') return 'The order is being cancelled';
  if (o.amendment) return 'An amendment is on its way';
  if (o.amendClosed) return 'The gateway refused to amend this order';
  return '';
}

/**
 * The form's text read as an amendment of `current`: only the values that differ are named. Either
 * the values, or the first problem (the field it names and a sentence for the customer).
 * @param {OrderValues} current
 * @param {{ item: string, price: string, quantity: string }} text
 * @returns {{ values: { item?: string, price?: number, quantity?: number } } | { field: string, message: string }}
 */
export function readAmendment(current, text) {
  const item = text.item.trim();
  const itemRule = RULES.item;
  if (item.length < (itemRule.minLength ?? 1)) return { field: 'item', message: 'Item: enter what to order.' };
  if (itemRule.maxLength !== undefined && item.length > itemRule.maxLength)
    return { field: 'item', message: 'Item: at most ' + itemRule.maxLength + ' characters.' };

  const price = text.price.trim() === '' ? NaN : Number(text.price);
  const priceRule = RULES.price;
  if (!Number.isFinite(price) || price <= (priceRule.exclusiveMinimum ?? 0))
    return {
      field: 'price',
      message: 'Price: enter an amount greater than ' + (priceRule.exclusiveMinimum ?? 0) + '.',
    };
  if (priceRule.maximum !== undefined && price > priceRule.maximum)
    return { field: 'price', message: 'Price: at most ' + priceRule.maximum + '.' };

  const quantity = text.quantity.trim() === '' ? NaN : Number(text.quantity);
  const quantityRule = RULES.quantity;
  const least = quantityRule.minimum ?? 1;
  if (!Number.isInteger(quantity) || quantity < least)
    return { field: 'quantity', message: 'Quantity: enter a whole number of at least ' + least + '.' };
  if (quantityRule.maximum !== undefined && quantity > quantityRule.maximum)
    return { field: 'quantity', message: 'Quantity: at most ' + quantityRule.maximum + '.' };

  /** @type {{ item?: string, price?: number, quantity?: number }} */
  const values = {};
  if (item !== current.item) values.item = item;
  if (price !== current.price) values.price = price;
  if (quantity !== current.quantity) values.quantity = quantity;
  if (Object.keys(values).length === 0)
    return { field: 'item', message: 'Nothing changed: change the item, the price or the quantity.' };
  return { values };
}

/** A fresh amendment id, "amend-" and 16 hex digits (fits the gateway's pattern for amendment ids). */
export function newAmendmentId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return 'amend-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Starts an attempt: its id is made here, once, and kept on the order until the gateway answers it.
 * `sentAtSeq`: the last step seen when it was made, so an AMENDED push newer than that wins over
 * this attempt's own answer (see applyAmended).
 * @param {OrderRecord} o
 * @param {{ item?: string, price?: number, quantity?: number }} values
 * @param {string} amendmentId
 * @returns {Amendment}
 */
export function startAmendment(o, values, amendmentId) {
  o.amendment = Object.assign({ amendmentId, sentAtSeq: o.lastSeq }, values);
  return o.amendment;
}

/**
 * What amendOrder carries for the order's attempt in progress (the same id every time it is sent),
 * or undefined when there is none.
 * @param {OrderRecord} o
 */
export function amendRequest(o) {
  const a = o.amendment;
  if (!a) return undefined;
  /** @type {{ orderId: string, amendmentId: string, item?: string, price?: number, quantity?: number }} */
  const request = { orderId: o.orderId, amendmentId: a.amendmentId };
  if (a.item !== undefined) request.item = a.item;
  if (a.price !== undefined) request.price = a.price;
  if (a.quantity !== undefined) request.quantity = a.quantity;
  return request;
}

/**
 * orderAmended: the attempt is answered (it ends) and the order's values are the ones the gateway
 * says it applied, unless an AMENDED push newer than the attempt already set them (the pushes are
 * numbered, the answer is not: a push is never overwritten by an answer that may be older). Returns
 * false when the answer is not for this order's attempt in progress (a repeated answer).
 * @param {OrderRecord} o
 * @param {{ amendmentId: string } & OrderValues} answer
 */
export function applyAmended(o, answer) {
  const a = o.amendment;
  if (!a || a.amendmentId !== answer.amendmentId) return false;
  if (!((o.valuesSeq || 0) > a.sentAtSeq)) {
    o.item = answer.item;
    o.price = answer.price;
    o.quantity = answer.quantity;
  }
  o.amendment = undefined;
  o.error = undefined;
  return true;
}

/**
 * An AMENDED push (this page's attempt, or one from another device): its `order` is the order's
 * values from its seq on. Called in seq order (pushes at or below lastSeq are dropped before).
 * @param {OrderRecord} o
 * @param {{ seq: number, order?: OrderValues }} push
 */
export function applyAmendedPush(o, push) {
  if (!push.order) return;
  o.item = push.order.item;
  o.price = push.order.price;
  o.quantity = push.order.quantity;
  o.valuesSeq = push.seq;
}

/**
 * What an error about an order with an attempt in progress means for that attempt: 'resend' (the
 * same request again, later), or 'end' (answered for good: CANNOT_AMEND, NOT_FOUND, INVALID_REQUEST).
 * Other codes are about other requests and leave it waiting ('keep').
 * @param {string} code
 * @returns {'resend' | 'end' | 'keep'}
 */
export function amendOutcome(code) {
  // The retryable codes, and Temporal not answering: the amendment may or may not have reached the
  // workflow, and its id makes the resend safe either way.
  if (RETRYABLE.indexOf(code) >= 0 || code === 'TEMPORAL_UNAVAILABLE') return 'resend';
  if (code === 'CANNOT_AMEND' || code === 'NOT_FOUND' || code === 'INVALID_REQUEST') return 'end';
  return 'keep';
}

/**
 * How long to wait before resending after `attempt` refusals in a row: the gateway's retryAfterMs
 * when it named one, else 1 s doubling to at most 15 s.
 * @param {number} attempt 1 for the first refusal
 * @param {number} [retryAfterMs]
 */
export function resendDelay(attempt, retryAfterMs) {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs;
  return Math.min(15000, 1000 * Math.pow(2, Math.max(0, attempt - 1)));
}
