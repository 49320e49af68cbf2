// @ts-check
// The orders placed from this browser, remembered in localStorage (with the steps seen so far) so
// they survive a reload, and shared with other tabs of the page. An order's values are the amended
// ones once amended, and an amendment still waiting for its answer is kept with its id, so that after
// a reload it is sent again under the same id (amend-model.js).

/** @typedef {import('./model.js').OrderRecord} OrderRecord */

export const STORE_KEY = 'order-orchestrator.orders.v1';
const MAX_ORDERS = 50;

/** orderId -> order record. @type {Map<string, OrderRecord>} */
export const orders = new Map();

/** The orders, newest first. */
export function sortedOrders() {
  return Array.from(orders.values()).sort((a, b) => (b.placedAt || 0) - (a.placedAt || 0));
}

/**
 * The saved list, or [] when there is none or it cannot be read.
 * @returns {any[]}
 */
function readSaved() {
  const list = JSON.parse(localStorage.getItem(STORE_KEY) || '[]');
  return Array.isArray(list) ? list : [];
}

/**
 * A saved amendment in progress, or undefined when there is none or it is not one.
 * @param {any} a
 * @returns {import('./model.js').Amendment | undefined}
 */
function savedAmendment(a) {
  if (!a || typeof a.amendmentId !== 'string' || !a.amendmentId) return undefined;
  return {
    amendmentId: a.amendmentId,
    sentAtSeq: Number(a.sentAtSeq) || 0,
    item: typeof a.item === 'string' ? a.item : undefined,
    price: typeof a.price === 'number' ? a.price : undefined,
    quantity: typeof a.quantity === 'number' ? a.quantity : undefined,
  };
}

/** Reads the saved orders into `orders`. */
export function load() {
  try {
    readSaved().forEach((o) => {
      if (o && typeof o.orderId === 'string') {
        o.steps = Array.isArray(o.steps) ? o.steps : [];
        o.lastSeq = Number(o.lastSeq) || 0;
        o.cancel = o.cancel === 'refused' || o.cancel === 'done' ? o.cancel : 'idle';
        o.amendment = savedAmendment(o.amendment);
        o.valuesSeq = Number(o.valuesSeq) || 0;
        o.amendClosed = o.amendClosed === true;
        orders.set(o.orderId, o);
      }
    });
  } catch (e) {
    console.warn('ignoring unreadable saved orders', e);
  }
}

export function save() {
  const list = sortedOrders()
    .slice(0, MAX_ORDERS)
    .map((o) => ({
      orderId: o.orderId,
      workflowId: o.workflowId,
      traceId: o.traceId,
      item: o.item,
      price: o.price,
      quantity: o.quantity,
      placedAt: o.placedAt,
      placing: o.placing,
      status: o.status,
      lastSeq: o.lastSeq,
      steps: o.steps,
      cancel: o.cancel,
      amendment: o.amendment,
      valuesSeq: o.valuesSeq,
      amendClosed: o.amendClosed,
      error: o.error,
    }));
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(list));
  } catch (e) {
    console.warn('could not save orders', e);
  }
}

/**
 * Orders another tab saved that this tab does not know (placed and accepted there), added to `orders`.
 * @returns {OrderRecord[]}
 */
export function adoptSaved() {
  /** @type {any[]} */
  let list;
  try {
    list = readSaved();
  } catch {
    return [];
  }
  /** @type {OrderRecord[]} */
  const adopted = [];
  list.forEach((saved) => {
    if (!saved || typeof saved.orderId !== 'string' || orders.has(saved.orderId) || saved.placing) return;
    /** @type {OrderRecord} */
    const o = Object.assign({}, saved, {
      steps: Array.isArray(saved.steps) ? saved.steps : [],
      lastSeq: Number(saved.lastSeq) || 0,
      cancel: 'idle',
      // The tab that made the attempt sends it and gets its answer; this one sees its AMENDED push.
      amendment: undefined,
    });
    orders.set(o.orderId, o);
    adopted.push(o);
  });
  return adopted;
}
