// @ts-check
// The page's controls: the order form (checked here first, then placed over the socket; the
// gateway's refusal is shown at the field it names), Amend (amend.js), Cancel and Remove on each
// card, Clear finished.
import { closeAmendForm, openAmendForm, submitAmendForm } from './amend.js';
import { buttonById, byId, inputById } from './dom.js';
import { canCancel, isFinal, newOrderId, placement } from './model.js';
import { changed, refreshListChrome, removeCard, showError } from './render.js';
import { send } from './socket.js';
import { orders, save, sortedOrders } from './store.js';

/** @typedef {import('./model.js').OrderRecord} OrderRecord */
/** @typedef {import('./model.js').PageError} PageError */

/** The form's inputs by the protocol field they fill. @type {Record<string, string>} */
const FORM_FIELDS = { item: 'item', price: 'price', quantity: 'quantity', orderId: 'order-id' };

/** The orderId the form is waiting on (placed, not yet accepted), for inline form errors. @type {string | null} */
let formPending = null;

function clearFieldErrors() {
  Object.keys(FORM_FIELDS).forEach((f) => byId(FORM_FIELDS[f]).removeAttribute('aria-invalid'));
  byId('form-error').hidden = true;
  byId('form-error').textContent = '';
}

/**
 * @param {string} message
 * @param {string} [field]
 */
function formError(message, field) {
  byId('form-error').textContent = message;
  byId('form-error').hidden = false;
  if (field && FORM_FIELDS[field]) {
    byId(FORM_FIELDS[field]).setAttribute('aria-invalid', 'true');
    byId(FORM_FIELDS[field]).focus();
  }
}

/** @param {PageError | null} error */
function finishForm(error) {
  formPending = null;
  buttonById('place-order').disabled = false;
  buttonById('place-order').textContent = 'Place order';
  if (error) formError(error.message, error.field);
  else inputById('order-id').value = '';
}

/**
 * The gateway answered the order the form placed: re-enable the form (showing the error, if any).
 * @param {string} orderId
 * @param {PageError | null} error
 */
export function finishFormIfPending(orderId, error) {
  if (formPending === orderId) finishForm(error);
}

/** @param {SubmitEvent} ev */
function onSubmit(ev) {
  ev.preventDefault();
  clearFieldErrors();
  const item = inputById('item').value.trim();
  const priceText = inputById('price').value;
  const price = Number(priceText);
  const quantity = inputById('quantity').value === '' ? 1 : Number(inputById('quantity').value);
  const orderId = inputById('order-id').value.trim();
  if (!item) return formError('Item: enter what to order.', 'item');
  if (priceText === '' || !(price > 0)) return formError('Price: enter an amount greater than 0.', 'price');
  if (!Number.isInteger(quantity) || quantity < 1)
    return formError('Quantity: enter a whole number of at least 1.', 'quantity');
  if (orderId && orders.has(orderId)) return formError('Order ' + orderId + ' is already in your list.', 'orderId');

  /** @type {OrderRecord} */
  const o = {
    orderId: orderId || newOrderId(),
    item,
    price,
    quantity,
    placedAt: Date.now(),
    placing: true,
    status: 'PLACING',
    lastSeq: 0,
    steps: [],
    cancel: 'idle',
  };
  orders.set(o.orderId, o);
  formPending = o.orderId;
  buttonById('place-order').disabled = true;
  buttonById('place-order').textContent = 'Placing…';
  changed(o);
  if (!send('placeOrder', placement(o))) {
    // Offline: the order is kept and sent as soon as the connection is back.
    finishForm(null);
    formError('Not connected: the order will be sent when the connection is back.');
  }
}

/** @param {MouseEvent} ev */
function onListClick(ev) {
  const target = /** @type {Element | null} */ (ev.target);
  const button = /** @type {HTMLButtonElement | null} */ (target?.closest('button[data-action]') ?? null);
  if (!button || button.disabled) return;
  const o = orders.get(button.dataset.orderId || '');
  const card = button.closest('article.order');
  if (button.dataset.action === 'amend' && o && card) openAmendForm(card, o);
  else if (button.dataset.action === 'amend-close' && o) closeAmendForm(o);
  else if (button.dataset.action === 'cancel' && o) {
    if (!canCancel(o)) return;
    o.error = undefined;
    if (!send('cancelOrder', { orderId: o.orderId })) {
      showError({
        code: 'NOT_CONNECTED',
        message: 'cannot cancel while disconnected; try again when connected',
        orderId: o.orderId,
      });
      return;
    }
    o.cancel = 'pending';
    changed(o);
  } else if (button.dataset.action === 'forget' && o && isFinal(o)) {
    orders.delete(o.orderId);
    removeCard(o.orderId);
    save();
    refreshListChrome();
  }
}

/** @param {SubmitEvent} ev */
function onListSubmit(ev) {
  const form = /** @type {Element | null} */ (ev.target);
  if (!(form instanceof HTMLFormElement) || form.dataset.role !== 'amend-form') return;
  ev.preventDefault();
  const o = orders.get(form.dataset.orderId || '');
  if (o) submitAmendForm(form, o);
}

function clearFinished() {
  sortedOrders()
    .filter(isFinal)
    .forEach((o) => {
      orders.delete(o.orderId);
      removeCard(o.orderId);
    });
  save();
  refreshListChrome();
}

/** Wires the form and the list's buttons. */
export function bindControls() {
  /** @type {HTMLFormElement} */ (byId('order-form')).addEventListener('submit', onSubmit);
  byId('orders').addEventListener('click', onListClick);
  byId('orders').addEventListener('submit', onListSubmit);
  byId('clear-finished').addEventListener('click', clearFinished);
}
