// @ts-check
// The "My orders" list: the caller's orders from the gateway's order history (listOrders), a page
// at a time, filtered all / open / finished, kept live. The raw WebSocket has no request ids, so at
// most one listOrders is in flight: an `orders` answer (or a list error) is the answer to it, and a
// request made meanwhile waits its turn. `generation` moves on whenever the list starts over (a new
// filter, a reconnect), so an answer to an older question is dropped.
// Live: an orderStatus push moves its row (history-model.js applyStatus); an order this page places
// goes on top once accepted; the open orders listed that this browser does not follow already
// (store.js) are followed with subscribeOrder from the status the row shows, so they move too.
import {
  applyStatus,
  isFinalStatus,
  matchesFilter,
  mergePage,
  PAGE_SIZE,
  placedRow,
  readPage,
} from './history-model.js';
import { bindHistoryView, renderHistory } from './history-view.js';
import { send } from './socket.js';
import { orders } from './store.js';

/** @typedef {import('./history-model.js').HistoryRow} HistoryRow */
/** @typedef {import('./history-model.js').HistoryFilter} HistoryFilter */
/** @typedef {import('./model.js').PageError} PageError */

/**
 * connecting: no connection yet; loading: the first page is asked; ready: shown; unavailable: the
 * gateway refused the list's request (HISTORY_UNAVAILABLE, RATE_LIMITED, …), Retry asks again;
 * offline: there was no connection to ask on (the list is asked again on reconnect).
 * @typedef {'connecting' | 'loading' | 'ready' | 'unavailable' | 'offline'} HistoryPhase
 */

/**
 * @typedef {{
 *   filter: HistoryFilter,
 *   rows: HistoryRow[],
 *   cursor?: string,
 *   phase: HistoryPhase,
 *   loadingMore: boolean,
 *   error?: { code: string, message: string },
 * }} HistoryState
 */

/** @typedef {{ generation: number, cursor?: string }} ListRequest */

/** Open rows followed for the list at most (the gateway allows GATEWAY_MAX_SUBSCRIPTIONS, 200 by default, per connection). */
const MAX_FOLLOWED = 50;

/** @type {HistoryState} */
export const historyState = { filter: 'all', rows: [], phase: 'connecting', loadingMore: false };

let generation = 0;
/** @type {ListRequest | null} */
let inFlight = null;
/** @type {ListRequest | null} */
let queued = null;
/** The request that failed, for Retry. @type {ListRequest | null} */
let failed = null;
/** Orders placed here and accepted, until a first page of the history lists them. @type {Map<string, HistoryRow>} */
const placedHere = new Map();
/** The newest status this page was pushed, per order. @type {Map<string, import('./history-model.js').Change>} */
const latest = new Map();
/** Orders this list subscribed to (never those store.js follows). @type {Set<string>} */
const followed = new Set();

function draw() {
  renderHistory(historyState);
}

/** @param {ListRequest} req */
function ask(req) {
  if (inFlight) {
    queued = req;
    return;
  }
  /** @type {{ status: HistoryFilter, limit: number, cursor?: string }} */
  const data = { status: historyState.filter, limit: PAGE_SIZE };
  if (req.cursor) data.cursor = req.cursor;
  if (!send('listOrders', data)) {
    historyState.phase = 'offline';
    historyState.loadingMore = false;
    draw();
    return;
  }
  inFlight = req;
}

/** Starts the list over from its first page (after connecting, or with another filter). */
export function reloadHistory() {
  generation++;
  queued = null;
  failed = null;
  historyState.phase = 'loading';
  historyState.loadingMore = false;
  historyState.error = undefined;
  draw();
  ask({ generation });
}

/** The connection is (back) open: the gateway forgot this connection's subscriptions and any request in flight. */
export function historyOnOpen() {
  inFlight = null;
  followed.clear();
  reloadHistory();
}

/** @param {HistoryFilter} filter */
export function setHistoryFilter(filter) {
  if (filter === historyState.filter && historyState.phase !== 'unavailable') return;
  historyState.filter = filter;
  historyState.rows = [];
  historyState.cursor = undefined;
  reloadHistory();
}

export function loadMoreHistory() {
  if (!historyState.cursor || historyState.loadingMore || historyState.phase !== 'ready') return;
  historyState.loadingMore = true;
  draw();
  ask({ generation, cursor: historyState.cursor });
}

/** Retry after HISTORY_UNAVAILABLE: the request that failed, again (the first page when none did). */
export function retryHistory() {
  const req = failed && failed.generation === generation ? failed : null;
  if (!req || !req.cursor) return reloadHistory();
  failed = null;
  historyState.phase = 'ready';
  historyState.error = undefined;
  historyState.loadingMore = true;
  draw();
  ask(req);
}

/** The request just answered, and the next one sent; null when the answer is to an older question. */
function settle() {
  const req = inFlight;
  inFlight = null;
  const next = queued;
  queued = null;
  if (next && next.generation === generation) ask(next);
  return req && req.generation === generation ? req : null;
}

/**
 * An `orders` frame: the answer to the request in flight.
 * @param {Record<string, unknown>} data
 */
export function onHistoryPage(data) {
  const req = settle();
  if (!req) return;
  const page = readPage(data);
  const append = !!req.cursor;
  if (!append) page.rows.forEach((r) => placedHere.delete(r.orderId));
  historyState.rows = mergePage(historyState.rows, page.rows, {
    append,
    placedHere: Array.from(placedHere.values()),
    latest,
    filter: historyState.filter,
  });
  historyState.cursor = page.cursor;
  historyState.phase = 'ready';
  historyState.loadingMore = false;
  historyState.error = undefined;
  draw();
  follow();
}

/**
 * An error frame: true when it answers the list's request (the list shows it then, not a toast).
 * Of what this page sends, only listOrders can be refused without naming an order (its own
 * HISTORY_UNAVAILABLE, RATE_LIMITED, SHUTTING_DOWN, or UNKNOWN_EVENT from a gateway without the
 * history), so such an error while a list request is in flight is its answer. INVALID_REQUEST on
 * `cursor`: the cursor is no longer good, so the list starts over.
 * @param {PageError} error
 */
export function onHistoryError(error) {
  if (!inFlight || error.orderId) return false;
  const req = inFlight;
  if (!settle()) return true;
  if (error.code === 'INVALID_REQUEST' && error.field === 'cursor') {
    reloadHistory();
    return true;
  }
  failed = req;
  historyState.loadingMore = false;
  historyState.phase = 'unavailable';
  historyState.error = { code: error.code, message: error.message };
  draw();
  return true;
}

/**
 * An orderStatus push (any order): its row, if listed, shows it.
 * @param {import('./status-push.js').StatusPush} push
 */
export function historyStatus(push) {
  const known = latest.get(push.orderId);
  if (!known || push.seq > known.seq) {
    // An amendment's values stay the order's values after later pushes (which carry none).
    const order = push.order || (known && known.order);
    latest.set(push.orderId, { status: push.status, seq: push.seq, at: push.at, order });
  }
  // A row placed here is the same object in placedHere and (once shown) in the rows: moved once.
  const row = historyState.rows.find((r) => r.orderId === push.orderId);
  const moved = row ? applyStatus(row, push) : false;
  const placed = placedHere.get(push.orderId);
  if (placed && placed !== row) applyStatus(placed, push);
  if (moved) draw();
  if (isFinalStatus(push.status)) followed.delete(push.orderId);
}

/**
 * The gateway accepted an order this page placed: it goes on top of the list now (when the filter
 * shows it), before the history has read it from Kafka.
 * @param {import('./model.js').OrderRecord} o
 */
export function historyPlaced(o) {
  if (placedHere.has(o.orderId) || historyState.rows.some((r) => r.orderId === o.orderId)) return;
  const row = placedRow(o);
  placedHere.set(o.orderId, row);
  if (historyState.phase !== 'ready' || !matchesFilter(row.status, historyState.filter)) return;
  historyState.rows.unshift(row);
  draw();
}

/**
 * Follows the open rows no one on this page follows yet (store.js follows the orders placed from this
 * browser), and stops following those no longer listed.
 */
function follow() {
  const listed = new Set(historyState.rows.map((r) => r.orderId));
  followed.forEach((orderId) => {
    if (listed.has(orderId)) return;
    send('unsubscribeOrder', { orderId });
    followed.delete(orderId);
  });
  for (const r of historyState.rows) {
    if (followed.size >= MAX_FOLLOWED) break;
    if (followed.has(r.orderId) || orders.has(r.orderId) || isFinalStatus(r.status)) continue;
    if (send('subscribeOrder', { orderId: r.orderId, fromSeq: r.seq + 1 })) followed.add(r.orderId);
  }
}

/** Wires the list's controls (filter, More, Retry) and draws its first state. */
export function startHistory() {
  bindHistoryView({ filter: setHistoryFilter, more: loadMoreHistory, retry: retryHistory });
  draw();
}
