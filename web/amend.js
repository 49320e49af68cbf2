// @ts-check
// Amend on an order card: the form (prefilled with the order's values), sending amendOrder, and what
// the gateway's answers do to the attempt. An attempt keeps its amendmentId until it is answered for
// good (amend-model.js), and is sent again under that id after a reconnect or a reload (resendAmendments)
// and, after TEMPORAL_UNAVAILABLE or a retryable refusal, once its backoff has passed.
import {
  amendOutcome,
  amendRequest,
  applyAmended,
  canAmend,
  newAmendmentId,
  readAmendment,
  resendDelay,
  startAmendment,
} from './amend-model.js';
import { amendForms, changed } from './render.js';
import { send } from './socket.js';
import { orders } from './store.js';

/** @typedef {import('./model.js').OrderRecord} OrderRecord */
/** @typedef {import('./model.js').PageError} PageError */

/** The order whose amendOrder was sent last: INVALID_REQUEST names no order, and is the answer to it. */
let lastSent = '';
/** Refusals in a row per order (for the backoff); cleared by a final answer. @type {Map<string, number>} */
const refusals = new Map();

/**
 * The card's form element and one of its inputs.
 * @param {Element} card
 */
function formOf(card) {
  return /** @type {HTMLFormElement} */ (card.querySelector('form[data-role="amend-form"]'));
}

/**
 * @param {HTMLFormElement} form
 * @param {string} field
 */
function inputOf(form, field) {
  return /** @type {HTMLInputElement} */ (form.querySelector('input[data-field="' + field + '"]'));
}

/**
 * Shows a problem in the card's form, at the field it names (none: the form's error line only).
 * @param {HTMLFormElement} form
 * @param {string} message
 * @param {string} [field]
 */
function formProblem(form, message, field) {
  form.querySelectorAll('input').forEach((i) => i.removeAttribute('aria-invalid'));
  const error = /** @type {HTMLElement} */ (form.querySelector('[data-role="amend-error"]'));
  error.hidden = !message;
  error.textContent = message;
  error.dataset.field = field || '';
  const input = field ? inputOf(form, field) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

/**
 * Sends the order's attempt in progress (under its one id); false when not connected.
 * @param {OrderRecord} o
 */
function sendAttempt(o) {
  const request = amendRequest(o);
  if (!request || !send('amendOrder', request)) return false;
  lastSent = o.orderId;
  return true;
}

/**
 * Amend clicked: opens the card's form with the order's values as they are now.
 * @param {Element} card
 * @param {OrderRecord} o
 */
export function openAmendForm(card, o) {
  if (!canAmend(o)) return;
  const form = formOf(card);
  inputOf(form, 'item').value = o.item;
  inputOf(form, 'price').value = String(o.price);
  inputOf(form, 'quantity').value = String(o.quantity);
  formProblem(form, '');
  amendForms.add(o.orderId);
  changed(o);
  inputOf(form, 'item').focus();
}

/**
 * @param {OrderRecord} o
 */
export function closeAmendForm(o) {
  amendForms.delete(o.orderId);
  changed(o);
}

/**
 * The form sent: checked here first (the gateway's limits, as web/common.js publishes them), then a
 * new attempt with a new id, sent now or, when not connected, on reconnect.
 * @param {HTMLFormElement} form
 * @param {OrderRecord} o
 */
export function submitAmendForm(form, o) {
  if (!canAmend(o)) return;
  const read = readAmendment(o, {
    item: inputOf(form, 'item').value,
    price: inputOf(form, 'price').value,
    quantity: inputOf(form, 'quantity').value,
  });
  if ('field' in read) return formProblem(form, read.message, read.field);
  formProblem(form, '');
  o.error = undefined;
  startAmendment(o, read.values, newAmendmentId());
  changed(o);
  if (!sendAttempt(o)) formProblem(form, 'Not connected: the change will be sent when the connection is back.');
}

/** After (re)connecting: every attempt still waiting is sent again, with the id it was made with. */
export function resendAmendments() {
  orders.forEach((o) => {
    if (o.amendment) sendAttempt(o);
  });
}

/**
 * orderAmended: the attempt is done; the card shows the values the gateway applied.
 * @param {OrderRecord} o
 * @param {Record<string, unknown>} d
 */
export function onAmended(o, d) {
  if (typeof d.amendmentId !== 'string' || typeof d.item !== 'string') return;
  if (typeof d.price !== 'number' || typeof d.quantity !== 'number') return;
  const answer = { amendmentId: d.amendmentId, item: d.item, price: d.price, quantity: d.quantity };
  if (!applyAmended(o, answer)) return;
  refusals.delete(o.orderId);
  amendForms.delete(o.orderId);
  changed(o);
}

/**
 * An error frame while an attempt may be waiting. INVALID_REQUEST names no order: it is the answer to
 * the amendOrder sent last, when that order still waits. Returns true when the error was about an
 * attempt (the caller still shows its toast).
 * @param {OrderRecord | undefined} o
 * @param {PageError} error
 * @param {Record<string, unknown>} d
 */
export function onAmendError(o, error, d) {
  const target = o || (error.code === 'INVALID_REQUEST' && !error.orderId ? orders.get(lastSent) : undefined);
  if (!target || !target.amendment) return false;
  const outcome = amendOutcome(error.code);
  if (outcome === 'keep') return false;
  target.error = { code: error.code, message: error.message };
  if (outcome === 'resend') {
    const attempt = (refusals.get(target.orderId) || 0) + 1;
    refusals.set(target.orderId, attempt);
    const waiting = target.amendment;
    const retryAfterMs = typeof d.retryAfterMs === 'number' ? d.retryAfterMs : undefined;
    setTimeout(
      () => {
        // Only the same attempt, still waiting, on the same record (not removed meanwhile).
        if (orders.get(target.orderId) === target && target.amendment === waiting) sendAttempt(target);
      },
      resendDelay(attempt, retryAfterMs),
    );
    changed(target);
    return true;
  }
  target.amendment = undefined;
  refusals.delete(target.orderId);
  if (error.code === 'INVALID_REQUEST') {
    // Bad input changes nothing: the form stays open at the field the gateway named.
    target.error = undefined;
    changed(target);
    const card = document.querySelector('article.order[data-order-id="' + CSS.escape(target.orderId) + '"]');
    if (card) formProblem(formOf(card), error.message, error.field);
    return true;
  }
  if (error.code === 'CANNOT_AMEND') target.amendClosed = true;
  amendForms.delete(target.orderId);
  changed(target);
  return true;
}
