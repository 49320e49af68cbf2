// @ts-check
// The "My orders" list's rules, with no DOM and no socket: what a row is, which rows a filter
// keeps, how a listOrders page (the gateway's `orders` answer, read from the order history) is read
// and merged with what this page learnt live (orders it just placed, status pushes), newest first.
import { FINAL, STATUSES } from './common.js';

/**
 * One of the caller's orders as the list shows it (common/protocol.ts SERVER_FRAME_DATA.orders).
 * `seq`: the status event the row reflects (0: placed, no status yet); times in epoch ms.
 * @typedef {{
 *   orderId: string,
 *   item: string | null,
 *   price: number | null,
 *   quantity: number | null,
 *   status: string,
 *   seq: number,
 *   placedAt: number,
 *   updatedAt: number,
 * }} HistoryRow
 */

/**
 * A status change as a row takes it (an orderStatus push); `order`: the values an AMENDED push set.
 * @typedef {{ status: string, seq: number, at: number, order?: { item: string, price: number, quantity: number } }} Change
 */

/**
 * listOrders' `status` values (common/protocol.ts ListOrdersInput; test/web/history-model.unit
 * checks that they match).
 * @typedef {'all' | 'open' | 'finished'} HistoryFilter
 */

/** @type {readonly HistoryFilter[]} */
export const FILTERS = ['all', 'open', 'finished'];

/** Rows asked per listOrders page (the gateway serves at most LIST_PAGE_MAX, 50). */
export const PAGE_SIZE = 10;

/** @param {string} status */
export function isFinalStatus(status) {
  return FINAL.indexOf(status) >= 0;
}

/**
 * Whether the list under `filter` shows an order of `status` (the gateway's filter: open is not final).
 * @param {string} status
 * @param {HistoryFilter} filter
 */
export function matchesFilter(status, filter) {
  if (filter === 'all') return true;
  return filter === 'finished' ? isFinalStatus(status) : !isFinalStatus(status);
}

/** @param {unknown} v */
const nullableNumber = (v) => v === null || (typeof v === 'number' && Number.isFinite(v));

/**
 * The rows of an `orders` answer and its cursor; a row that does not have the documented shape is
 * left out (the rest of the page is still shown).
 * @param {Record<string, unknown>} data
 * @returns {{ rows: HistoryRow[], cursor?: string }}
 */
export function readPage(data) {
  /** @type {HistoryRow[]} */
  const rows = [];
  const list = Array.isArray(data.orders) ? data.orders : [];
  for (const r of list) {
    if (!r || typeof r !== 'object') continue;
    if (typeof r.orderId !== 'string' || !r.orderId) continue;
    if (typeof r.status !== 'string' || STATUSES.indexOf(r.status) < 0) continue;
    if (!Number.isInteger(r.seq) || typeof r.placedAt !== 'number' || typeof r.updatedAt !== 'number') continue;
    if (!(r.item === null || typeof r.item === 'string') || !nullableNumber(r.price) || !nullableNumber(r.quantity))
      continue;
    rows.push({
      orderId: r.orderId,
      item: r.item,
      price: r.price,
      quantity: r.quantity,
      status: r.status,
      seq: r.seq,
      placedAt: r.placedAt,
      updatedAt: r.updatedAt,
    });
  }
  return typeof data.cursor === 'string' && data.cursor ? { rows, cursor: data.cursor } : { rows };
}

/**
 * Moves a row to a newer status: only a status event newer than the one it shows (by seq) counts,
 * so a page read from a history that lags behind the pushes never moves a row back. `order` (an
 * AMENDED push's values, or the newest such values known at that seq) becomes the row's values.
 * @param {HistoryRow} row
 * @param {Change} change
 * @returns {boolean} whether the row changed
 */
export function applyStatus(row, change) {
  if (change.seq <= row.seq) return false;
  row.status = change.status;
  row.seq = change.seq;
  row.updatedAt = Math.max(row.updatedAt, change.at);
  if (change.order) {
    row.item = change.order.item;
    row.price = change.order.price;
    row.quantity = change.order.quantity;
  }
  return true;
}

/**
 * The list after a page arrived. A first page replaces the list: the rows this page placed that the
 * history has not read yet go on top (they are the newest), each row shows the newest status this
 * page knows (`latest`, from pushes). A next page (`append`) adds its rows below, none twice.
 * @param {HistoryRow[]} shown
 * @param {HistoryRow[]} page
 * @param {{ append: boolean, placedHere: HistoryRow[], latest: Map<string, Change>,
 *   filter: HistoryFilter }} context
 * @returns {HistoryRow[]}
 */
export function mergePage(shown, page, context) {
  const listed = new Set(page.map((r) => r.orderId));
  page.forEach((r) => {
    const known = context.latest.get(r.orderId);
    if (known) applyStatus(r, known);
  });
  if (context.append) {
    const have = new Set(shown.map((r) => r.orderId));
    return shown.concat(page.filter((r) => !have.has(r.orderId)));
  }
  const unlisted = context.placedHere
    .filter((r) => !listed.has(r.orderId) && matchesFilter(r.status, context.filter))
    .sort((a, b) => b.placedAt - a.placedAt);
  return unlisted.concat(page);
}

/**
 * The row of an order this page placed, the moment the gateway accepted it.
 * @param {{ orderId: string, item: string, price: number, quantity: number, placedAt: number,
 *   status: string, lastSeq: number }} o
 * @returns {HistoryRow}
 */
export function placedRow(o) {
  const status = STATUSES.indexOf(o.status) >= 0 ? o.status : 'ACCEPTED';
  return {
    orderId: o.orderId,
    item: o.item,
    price: o.price,
    quantity: o.quantity,
    status,
    seq: o.lastSeq,
    placedAt: o.placedAt,
    updatedAt: Date.now(),
  };
}
