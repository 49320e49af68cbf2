// @ts-check
// The page's model of an order: its record (what the page remembers and shows), the protocol's
// frames as the page reads them, and the rules derived from an order's status.
import { FINAL, RETRYABLE, SHIPPING_STARTED } from './common.js';

/**
 * A status step as the page keeps it (an orderStatus event without the orderId).
 * @typedef {{ seq: number, status: string, at: number, detail?: string }} Step
 */

/**
 * An error frame's data (common/protocol.ts ErrorData), or a page-side error such as NOT_CONNECTED.
 * @typedef {{ code: string, message: string, orderId: string | null, field?: string }} PageError
 */

/**
 * An amendment sent from this page and not answered for good yet: its id (made once per attempt),
 * the values it changes, and the last seq seen when it was made.
 * @typedef {{ amendmentId: string, sentAtSeq: number, item?: string, price?: number, quantity?: number }} Amendment
 */

/**
 * An order placed from this browser. `placing`: sent, not yet accepted by the gateway.
 * `cancel`: idle, pending (cancelOrder sent), done (cancelled) or refused (CANNOT_CANCEL).
 * `amendment`: the amend attempt waiting for its answer (amend-model.js); `valuesSeq`: the seq of the
 * AMENDED push item, price and quantity come from (0: as placed, or from an orderAmended answer);
 * `amendClosed`: the gateway answered CANNOT_AMEND, whose every reason lasts (payment started, a
 * cancel, a final state, the most amendments made).
 * @typedef {{
 *   orderId: string,
 *   workflowId?: string,
 *   traceId?: string,
 *   item: string,
 *   price: number,
 *   quantity: number,
 *   placedAt: number,
 *   placing: boolean,
 *   status: string,
 *   lastSeq: number,
 *   steps: Step[],
 *   cancel: 'idle' | 'pending' | 'done' | 'refused',
 *   amendment?: Amendment,
 *   amendClosed?: boolean,
 *   valuesSeq?: number,
 *   error?: { code: string, message: string },
 * }} OrderRecord
 */

/**
 * A frame from the gateway (common/protocol.ts ServerFrame), before the page trusts its payload.
 * @typedef {{ event: string, data: Record<string, unknown> }} ReceivedFrame
 */

export { FINAL, RETRYABLE };

/** @type {Record<string, string>} */
export const LABELS = {
  PLACING: 'Placing',
  ACCEPTED: 'Accepted',
  VALIDATING: 'Validating',
  VALIDATED: 'Validated',
  AMENDED: 'Amended',
  CHARGING: 'Charging',
  CHARGED: 'Charged',
  SHIPPING: 'Shipping',
  SHIPPED: 'Shipped',
  COMPLETED: 'Completed',
  REJECTED: 'Rejected',
  PAYMENT_DECLINED: 'Payment declined',
  REFUNDED: 'Refunded',
  CANCELLED: 'Cancelled',
  FAILED: 'Failed',
};

/** @type {Record<string, string>} */
const TONES = {
  COMPLETED: 'good',
  REJECTED: 'bad',
  PAYMENT_DECLINED: 'bad',
  FAILED: 'bad',
  REFUNDED: 'warn',
  CANCELLED: 'warn',
};

/** @param {OrderRecord} o */
export function isFinal(o) {
  return FINAL.indexOf(o.status) >= 0;
}

/** @param {OrderRecord} o */
export function shippingStarted(o) {
  return o.steps.some((s) => SHIPPING_STARTED.indexOf(s.status) >= 0) || SHIPPING_STARTED.indexOf(o.status) >= 0;
}

/** @param {OrderRecord} o */
export function canCancel(o) {
  return !o.placing && !isFinal(o) && !shippingStarted(o) && o.cancel === 'idle';
}

/** @param {string} status */
export function toneOf(status) {
  if (TONES[status]) return TONES[status];
  return status === 'PLACING' ? 'neutral' : 'progress';
}

/**
 * The run the gateway named (orderAccepted, the order view); until it has, the global form, which is
 * right in no-auth and shared-token modes (JWT mode scopes ids to the customer: docs/DESIGN.md).
 * @param {OrderRecord} o
 */
export function workflowIdOf(o) {
  return o.workflowId || 'order-' + o.orderId;
}

/**
 * The order's run in the Temporal UI.
 * @param {OrderRecord} o
 * @param {{ temporalUiUrl: string, namespace: string }} config
 */
export function runUrl(o, config) {
  return (
    config.temporalUiUrl.replace(/\/+$/, '') +
    '/namespaces/' +
    encodeURIComponent(config.namespace) +
    '/workflows/' +
    encodeURIComponent(workflowIdOf(o))
  );
}

/**
 * The order's trace in the trace viewer (the gateway's link template, `{traceId}` where the id goes:
 * common/names.ts TRACE_ID_MARK), or '' when the gateway named no viewer or no trace.
 * @param {OrderRecord} o
 * @param {{ traceUrlTemplate?: string }} config
 */
export function traceUrl(o, config) {
  if (!o.traceId || !config.traceUrlTemplate) return '';
  return config.traceUrlTemplate.split('{traceId}').join(encodeURIComponent(o.traceId));
}

/** A fresh order id, "web-" and 8 hex digits. */
export function newOrderId() {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What placeOrder carries for an order.
 * @param {OrderRecord} o
 */
export function placement(o) {
  return { orderId: o.orderId, item: o.item, price: o.price, quantity: o.quantity };
}
