// @ts-check
// Draws the "My orders" list (index.html #my-orders) from its state (history.js): one row per order,
// newest first, kept by order id so a row's element (and whatever a row action holds) survives a
// redraw; the filter buttons, More, and what the list says when it has no rows to show.
import { buttonById, byId, part } from './dom.js';
import { formatMoney, formatWhen } from './format.js';
import { FILTERS } from './history-model.js';
import { LABELS, toneOf } from './model.js';

/** @typedef {import('./history-model.js').HistoryRow} HistoryRow */
/** @typedef {import('./history-model.js').HistoryFilter} HistoryFilter */
/** @typedef {import('./history.js').HistoryState} HistoryState */

/** What the list says while it has nothing to show, by phase. @type {Record<string, string>} */
const NOTES = {
  connecting: 'Connecting…',
  loading: 'Loading your orders…',
  offline: 'Not connected: your orders load when the connection is back.',
};

/** What an empty list says, by filter. @type {Record<HistoryFilter, string>} */
const EMPTY = {
  all: 'No orders yet. Orders you place appear here, newest first.',
  open: 'No open orders.',
  finished: 'No finished orders yet.',
};

/** @param {string | null} item */
function itemText(item) {
  return item === null ? '(item unknown)' : item;
}

/** @param {HistoryRow} r */
function amountText(r) {
  if (r.price === null) return '';
  const quantity = r.quantity ?? 1;
  return quantity + ' × ' + formatMoney(r.price) + ' = ' + formatMoney(r.price * quantity);
}

/**
 * @param {HTMLElement} el a <time>
 * @param {string} label
 * @param {number} at
 */
function setTime(el, label, at) {
  const time = /** @type {HTMLTimeElement} */ (el);
  time.dateTime = new Date(at).toISOString();
  time.textContent = label + ' ' + formatWhen(at);
  time.title = label + ' ' + new Date(at).toLocaleString();
}

/** @returns {HTMLElement} */
function newRow() {
  const template = /** @type {HTMLTemplateElement} */ (byId('history-row-template'));
  return /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
}

/**
 * @param {HTMLElement} el
 * @param {HistoryRow} r
 */
function fillRow(el, r) {
  el.dataset.orderId = r.orderId;
  el.dataset.status = r.status;
  el.dataset.seq = String(r.seq);
  el.dataset.tone = toneOf(r.status);
  part(el, 'order-id').textContent = r.orderId;
  part(el, 'item').textContent = itemText(r.item);
  part(el, 'amount').textContent = amountText(r);
  const badge = part(el, 'status');
  badge.textContent = LABELS[r.status] || r.status;
  badge.dataset.tone = toneOf(r.status);
  setTime(part(el, 'placed'), 'placed', r.placedAt);
  setTime(part(el, 'updated'), 'updated', r.updatedAt);
}

/** @param {HistoryRow[]} rows */
function renderRows(rows) {
  const list = byId('my-orders-list');
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  Array.from(list.children).forEach((child) => {
    const el = /** @type {HTMLElement} */ (child);
    existing.set(el.dataset.orderId || '', el);
  });
  rows.forEach((r, i) => {
    let el = existing.get(r.orderId);
    existing.delete(r.orderId);
    if (!el) el = newRow();
    fillRow(el, r);
    if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
  });
  existing.forEach((el) => el.remove());
}

/** @param {HistoryState} state */
function unavailableText(state) {
  if (!state.error) return '';
  if (state.error.code === 'HISTORY_UNAVAILABLE')
    return 'Your order history is unavailable right now (HISTORY_UNAVAILABLE). Your orders are safe and new ones are still taken: retry in a moment.';
  return 'Your orders could not be loaded (' + state.error.code + ': ' + state.error.message + ').';
}

/** @param {HistoryState} state */
export function renderHistory(state) {
  const section = byId('my-orders');
  section.dataset.state = state.phase;
  section.dataset.filter = state.filter;
  byId('my-orders-filter')
    .querySelectorAll('button[data-filter]')
    .forEach((b) => {
      b.setAttribute('aria-pressed', String(/** @type {HTMLElement} */ (b).dataset.filter === state.filter));
    });

  renderRows(state.rows);

  const note = byId('my-orders-note');
  note.textContent = NOTES[state.phase] || '';
  note.hidden = state.rows.length > 0 || !NOTES[state.phase];

  byId('my-orders-empty').textContent = EMPTY[state.filter];
  byId('my-orders-empty').hidden = !(state.phase === 'ready' && state.rows.length === 0);

  byId('my-orders-unavailable').hidden = state.phase !== 'unavailable';
  byId('my-orders-unavailable-text').textContent = unavailableText(state);
  byId('my-orders-unavailable').dataset.errorCode = state.error ? state.error.code : '';

  const more = buttonById('my-orders-more');
  more.hidden = !state.cursor || (state.phase !== 'ready' && !state.loadingMore);
  more.disabled = state.loadingMore;
  more.textContent = state.loadingMore ? 'Loading…' : 'More';
}

/**
 * Wires the filter buttons, More and Retry to the list's actions.
 * @param {{ filter: (f: HistoryFilter) => void, more: () => void, retry: () => void }} actions
 */
export function bindHistoryView(actions) {
  byId('my-orders-filter').addEventListener('click', (ev) => {
    const target = /** @type {Element | null} */ (ev.target);
    const button = /** @type {HTMLElement | null} */ (target?.closest('button[data-filter]') ?? null);
    const filter = /** @type {HistoryFilter | undefined} */ (button?.dataset.filter);
    if (filter && FILTERS.indexOf(filter) >= 0) actions.filter(filter);
  });
  buttonById('my-orders-more').addEventListener('click', () => actions.more());
  buttonById('my-orders-retry').addEventListener('click', () => actions.retry());
}
