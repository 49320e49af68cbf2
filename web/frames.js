// @ts-check
// What the page does with each frame from the gateway, and what it re-asks after (re)connecting:
// orders never accepted are placed again (same orderId: never a second order), unfinished ones are
// re-subscribed from the last seen seq + 1, so no step is missed or shown twice, and amendments still
// waiting for their answer are sent again under their own id (amend.js). The "My orders"
// list (history.js) takes its pages, its errors, and every status push and acceptance too.
import { onAmended, onAmendError, resendAmendments } from './amend.js';
import { applyAmendedPush } from './amend-model.js';
import { finishFormIfPending } from './form.js';
import { historyPlaced, historyStatus, onHistoryError, onHistoryPage } from './history.js';
import { isFinal, placement, RETRYABLE } from './model.js';
import { changed, refreshListChrome, removeCard, showError } from './render.js';
import { send } from './socket.js';
import { readStatusPush } from './status-push.js';
import { orders, save, sortedOrders } from './store.js';

/** @typedef {import('./model.js').OrderRecord} OrderRecord */
/** @typedef {import('./model.js').ReceivedFrame} ReceivedFrame */
/** @typedef {import('./model.js').PageError} PageError */

/** After (re)connecting: re-place orders that were never accepted, re-subscribe the unfinished ones. */
export function resume() {
  sortedOrders()
    .reverse()
    .forEach((o) => {
      if (o.placing) send('placeOrder', placement(o));
      else if (!isFinal(o)) send('subscribeOrder', { orderId: o.orderId, fromSeq: o.lastSeq + 1 });
    });
  resendAmendments();
}

/** @param {ReceivedFrame} frame */
export function onFrame(frame) {
  const d = frame.data;
  const o = typeof d.orderId === 'string' ? orders.get(d.orderId) : undefined;
  switch (frame.event) {
    case 'orderAccepted':
      if (!o) return;
      o.workflowId = typeof d.workflowId === 'string' && d.workflowId ? d.workflowId : o.workflowId;
      if (typeof d.traceId === 'string' && /^[0-9a-f]{32}$/.test(d.traceId)) o.traceId = d.traceId;
      if (o.placing) {
        o.placing = false;
        if (!o.status || o.status === 'PLACING') o.status = 'ACCEPTED';
      }
      finishFormIfPending(o.orderId, null);
      changed(o);
      historyPlaced(o);
      return;
    case 'subscribed':
      return;
    case 'orderStatus': {
      const push = readStatusPush(d);
      if (o && push) onStatus(o, push);
      if (push) historyStatus(push);
      return;
    }
    case 'order':
      if (o) onView(o, d);
      return;
    case 'orders':
      onHistoryPage(d);
      return;
    case 'orderAmended':
      if (o) onAmended(o, d);
      return;
    case 'orderCancelled':
      if (!o) return;
      o.cancel = 'done';
      if (!isFinal(o)) o.status = 'CANCELLED';
      changed(o);
      return;
    case 'error':
      onError(o, d);
      return;
    default:
      return;
  }
}

/**
 * @param {OrderRecord} o
 * @param {import('./status-push.js').StatusPush} push
 */
function onStatus(o, push) {
  if (push.seq <= o.lastSeq) return; // already shown (a resubscribe may repeat)
  /** @type {import('./model.js').Step} */
  const step = { seq: push.seq, status: push.status, at: push.at };
  if (push.detail) step.detail = push.detail;
  o.steps.push(step);
  o.lastSeq = push.seq;
  o.status = step.status;
  applyAmendedPush(o, push);
  if (o.placing) o.placing = false;
  changed(o);
}

/**
 * getOrder's answer: fills in the steps this page has not seen (e.g. a record saved without them).
 * @param {OrderRecord} o
 * @param {Record<string, unknown>} view
 */
function onView(o, view) {
  if (!Array.isArray(view.steps)) return;
  /** @type {Array<{ status: string, at: number, detail?: string }>} */
  const steps = view.steps;
  if (steps.length > o.steps.length) {
    o.steps = steps.map((s, i) => ({ seq: i + 1, status: s.status, at: s.at, detail: s.detail }));
    o.lastSeq = o.steps.length;
  }
  if (typeof view.status === 'string' && view.status) o.status = view.status;
  if (typeof view.workflowId === 'string' && view.workflowId) o.workflowId = view.workflowId;
  changed(o);
}

/**
 * @param {OrderRecord | undefined} o
 * @param {Record<string, unknown>} d
 */
function onError(o, d) {
  /** @type {PageError} */
  const error = {
    code: String(d.code || 'ERROR'),
    message: String(d.message || ''),
    orderId: typeof d.orderId === 'string' ? d.orderId : null,
    field: typeof d.field === 'string' ? d.field : undefined,
  };
  if (o && o.placing && (error.code === 'INVALID_ORDER' || error.code === 'BAD_FRAME')) {
    // The gateway refused the placement: the order does not exist, take it off the list.
    orders.delete(o.orderId);
    removeCard(o.orderId);
    finishFormIfPending(o.orderId, error);
    save();
    refreshListChrome();
  } else if (o && o.placing && RETRYABLE.indexOf(error.code) >= 0) {
    // Not stored: resending with the same orderId is safe and never creates a second order.
    const placing = o;
    setTimeout(() => {
      if (placing.placing && orders.get(placing.orderId) === placing) send('placeOrder', placement(placing));
    }, 2000);
  } else if (onAmendError(o, error, d)) {
    // Shown on the card (or at the amend form's field); the toast below says it too.
  } else if (o) {
    if (error.code === 'CANNOT_CANCEL') o.cancel = 'refused';
    else if (o.cancel === 'pending') o.cancel = 'idle';
    o.error = { code: error.code, message: error.message };
    changed(o);
  } else if (onHistoryError(error)) {
    // The "My orders" list shows it, with a Retry button.
    return;
  }
  showError(error);
}
