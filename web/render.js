// @ts-check
// Draws the orders: one card per order (status badge, steps as they arrive, error, Temporal link,
// Amend and its form, Cancel/Remove), kept newest first, and the error toasts.
import { amendBlockedBy, canAmend } from './amend-model.js';
import { actionButton, buttonById, byId, part } from './dom.js';
import { formatMoney, formatTime } from './format.js';
import { canCancel, isFinal, LABELS, runUrl, shippingStarted, toneOf, traceUrl, workflowIdOf } from './model.js';
import { save, sortedOrders } from './store.js';

/** @typedef {import('./model.js').OrderRecord} OrderRecord */
/** @typedef {import('./model.js').PageError} PageError */

/**
 * Where the Temporal UI is, and the trace viewer if any (the gateway's /config.json says; these are the defaults).
 * @type {{ temporalUiUrl: string, namespace: string, traceUrlTemplate?: string }}
 */
export const pageConfig = { temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default' };

/** The orders whose amend form is open (amend.js opens and closes them). @type {Set<string>} */
export const amendForms = new Set();

/**
 * An order changed: save the list and redraw it.
 * @param {OrderRecord} o
 */
export function changed(o) {
  save();
  renderOrder(o);
  refreshListChrome();
}

export function refreshListChrome() {
  const all = sortedOrders();
  byId('order-count').textContent = String(all.length);
  byId('empty').hidden = all.length > 0;
  buttonById('clear-finished').disabled = !all.some(isFinal);
  // Keep the cards in newest-first order.
  const container = byId('orders');
  all.forEach((o, i) => {
    const card = cardFor(o.orderId);
    if (card && container.children[i] !== card) container.insertBefore(card, container.children[i] || null);
  });
}

/**
 * @param {string} orderId
 * @returns {HTMLElement | null}
 */
function cardFor(orderId) {
  const cards = byId('orders').children;
  for (let i = 0; i < cards.length; i++) {
    const card = /** @type {HTMLElement} */ (cards[i]);
    if (card.dataset.orderId === orderId) return card;
  }
  return null;
}

/** @param {string} orderId */
export function removeCard(orderId) {
  const card = cardFor(orderId);
  if (card) card.remove();
}

/** @returns {HTMLElement} */
function newCard() {
  const template = /** @type {HTMLTemplateElement} */ (byId('order-template'));
  return /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
}

/** @param {OrderRecord} o */
export function renderOrder(o) {
  let card = cardFor(o.orderId);
  if (!card) {
    card = newCard();
    card.dataset.orderId = o.orderId;
    card.id = 'order-' + o.orderId.replace(/[^A-Za-z0-9_-]/g, '_');
    actionButton(card, 'amend').dataset.orderId = o.orderId;
    actionButton(card, 'amend-close').dataset.orderId = o.orderId;
    part(card, 'amend-form').dataset.orderId = o.orderId;
    actionButton(card, 'cancel').dataset.orderId = o.orderId;
    actionButton(card, 'forget').dataset.orderId = o.orderId;
    byId('orders').prepend(card);
  }
  const status = o.placing ? 'PLACING' : o.status || 'ACCEPTED';
  card.dataset.status = status;
  card.dataset.final = String(isFinal(o));
  card.dataset.tone = toneOf(status);

  part(card, 'order-id').textContent = o.orderId;
  part(card, 'summary').textContent =
    o.quantity + ' × ' + o.item + ' at ' + formatMoney(o.price) + ' = ' + formatMoney(o.price * o.quantity);

  const badge = part(card, 'status');
  badge.textContent = LABELS[status] || status;
  badge.dataset.tone = toneOf(status);
  badge.dataset.status = status;

  renderSteps(part(card, 'steps'), o);

  const err = part(card, 'order-error');
  err.hidden = !o.error;
  err.textContent = !o.error
    ? ''
    : o.error.code === 'CANNOT_AMEND'
      ? 'Not amended: ' + o.error.message
      : o.error.code + ': ' + o.error.message;
  err.dataset.errorCode = o.error ? o.error.code : '';

  const link = /** @type {HTMLAnchorElement} */ (part(card, 'temporal-link'));
  link.href = runUrl(o, pageConfig);
  link.setAttribute('aria-disabled', String(!!o.placing));
  link.title = 'Workflow ' + workflowIdOf(o) + ' in the Temporal UI';

  // The order's trace (the gateway traces: TRACING=1): a link when the viewer is known, else the id.
  const trace = /** @type {HTMLAnchorElement} */ (part(card, 'trace-link'));
  trace.hidden = !o.traceId;
  trace.dataset.traceId = o.traceId || '';
  const href = traceUrl(o, pageConfig);
  if (href) trace.href = href;
  else trace.removeAttribute('href');
  trace.textContent = href ? 'Trace ↗' : o.traceId ? 'trace ' + o.traceId : '';
  trace.title = o.traceId ? 'Trace ' + o.traceId + (href ? ' in the trace viewer' : '') : '';

  renderAmend(card, o);

  const cancel = actionButton(card, 'cancel');
  cancel.disabled = !canCancel(o);
  cancel.textContent = o.cancel === 'pending' ? 'Cancelling…' : 'Cancel';
  cancel.title = isFinal(o)
    ? 'The order is finished'
    : shippingStarted(o)
      ? 'Shipping has started: too late to cancel'
      : o.cancel === 'refused'
        ? 'The gateway refused to cancel'
        : '';
  actionButton(card, 'forget').hidden = !isFinal(o);
}

/**
 * The Amend button, and its form while it is open: the form stays while its attempt waits for the
 * answer (inputs locked), and goes once the order can no longer be amended.
 * @param {HTMLElement} card
 * @param {OrderRecord} o
 */
function renderAmend(card, o) {
  const button = actionButton(card, 'amend');
  button.disabled = !canAmend(o);
  button.textContent = o.amendment ? 'Amending…' : 'Amend';
  button.title = amendBlockedBy(o);
  if (!canAmend(o) && !o.amendment) amendForms.delete(o.orderId);
  const form = /** @type {HTMLFormElement} */ (part(card, 'amend-form'));
  form.hidden = !amendForms.has(o.orderId);
  form.querySelectorAll('input').forEach((input) => {
    input.disabled = !!o.amendment;
  });
  const save = part(card, 'amend-send');
  /** @type {HTMLButtonElement} */ (save).disabled = !!o.amendment;
  save.textContent = o.amendment ? 'Saving…' : 'Save changes';
}

/**
 * @param {string} className
 * @param {string} [text]
 */
function span(className, text) {
  const el = document.createElement('span');
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * Appends the steps not shown yet, and a "waiting" line while an unfinished order has none.
 * @param {HTMLElement} list
 * @param {OrderRecord} o
 */
function renderSteps(list, o) {
  /** @type {Record<string, boolean>} */
  const shown = {};
  list.querySelectorAll('li[data-seq]').forEach((li) => {
    shown[/** @type {HTMLElement} */ (li).dataset.seq || ''] = true;
  });
  const first = o.steps.length ? o.steps[0].at : 0;
  o.steps.forEach((s) => {
    if (shown[String(s.seq)]) return;
    const li = document.createElement('li');
    li.dataset.seq = String(s.seq);
    li.dataset.stepStatus = s.status;
    li.dataset.tone = toneOf(s.status);
    const time = document.createElement('time');
    time.className = 'step-time';
    time.dateTime = new Date(s.at).toISOString();
    time.textContent = s.at === first ? formatTime(s.at) : '+' + ((s.at - first) / 1000).toFixed(2) + ' s';
    time.title = new Date(s.at).toLocaleString();
    li.append(
      span('step-dot'),
      span('step-name', LABELS[s.status] || s.status),
      time,
      span('step-detail', s.detail || ''),
    );
    list.appendChild(li);
  });
  let waiting = list.querySelector('li.waiting');
  const needWaiting = !isFinal(o) && o.steps.length === 0;
  const waitingText = o.placing ? 'Sending to the gateway…' : 'Waiting for the first step…';
  if (needWaiting && !waiting) {
    waiting = document.createElement('li');
    waiting.className = 'waiting';
    waiting.append(span('step-dot'), span('', waitingText));
    list.appendChild(waiting);
  } else if (waiting && !needWaiting) {
    waiting.remove();
  } else if (waiting && waiting.lastChild) {
    waiting.lastChild.textContent = waitingText;
  }
}

/**
 * Shows an error toast (the newest five are kept).
 * @param {PageError} error
 */
export function showError(error) {
  const box = byId('errors');
  const el = document.createElement('div');
  el.className = 'error';
  el.setAttribute('role', 'alert');
  el.dataset.errorCode = error.code;
  if (error.orderId) el.dataset.orderId = error.orderId;
  if (error.field) el.dataset.field = error.field;
  const body = document.createElement('div');
  body.className = 'error-body';
  const meta = document.createElement('div');
  meta.className = 'error-meta';
  meta.textContent = [
    formatTime(Date.now()),
    error.orderId ? 'order ' + error.orderId : null,
    error.field ? 'field ' + error.field : null,
  ]
    .filter(Boolean)
    .join(' · ');
  body.append(span('error-code', error.code), span('error-message', error.message), meta);
  const close = document.createElement('button');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss');
  close.dataset.action = 'dismiss-error';
  close.textContent = '×';
  close.addEventListener('click', () => el.remove());
  el.append(body, close);
  box.prepend(el);
  while (box.children.length > 5) box.lastElementChild?.remove();
}
