// @ts-check
// The orders page: places orders over the gateway's WebSocket, shows each order's steps live, and
// lists the caller's orders from the gateway's order history ("My orders", newest first).
// Native ES modules, no build step (checked by `tsc -p web`, linted by ESLint). Orders placed from
// this browser are remembered in localStorage (with the steps seen so far); after a reload or a
// dropped connection every order that is not final is re-subscribed from the last seen seq + 1.
//   model.js   the order record, protocol frames, status rules     store.js   localStorage, other tabs
//   socket.js  the WebSocket and reconnects                          frames.js  frames from the gateway
//   render.js  cards, steps, error toasts                            form.js    the form and buttons
//   history.js "My orders": listOrders pages, filter, live rows      history-view.js, history-model.js
import { bindControls } from './form.js';
import { onFrame, resume } from './frames.js';
import { historyOnOpen, startHistory } from './history.js';
import { isFinal } from './model.js';
import { pageConfig, refreshListChrome, renderOrder, showError } from './render.js';
import { connect, send, socket } from './socket.js';
import { adoptSaved, load, orders, sortedOrders, STORE_KEY } from './store.js';

/** Another tab of this page saved its list: show (and follow) the orders it placed that this tab does not know. */
function adoptFromOtherTab() {
  adoptSaved().forEach((o) => {
    renderOrder(o);
    if (!isFinal(o)) send('subscribeOrder', { orderId: o.orderId, fromSeq: o.lastSeq + 1 });
  });
  refreshListChrome();
}

/** Where the Temporal UI is, from the gateway (the defaults stay when it cannot say). */
function loadConfig() {
  return fetch('config.json', { cache: 'no-store' })
    .then((res) => (res.ok ? res.json() : null))
    .then((c) => {
      if (c && typeof c.temporalUiUrl === 'string') pageConfig.temporalUiUrl = c.temporalUiUrl;
      if (c && typeof c.namespace === 'string') pageConfig.namespace = c.namespace;
      if (c && typeof c.traceUrlTemplate === 'string') pageConfig.traceUrlTemplate = c.traceUrlTemplate;
      orders.forEach(renderOrder);
    })
    .catch(() => {
      // keep the defaults
    });
}

function start() {
  load();
  sortedOrders().reverse().forEach(renderOrder);
  refreshListChrome();
  bindControls();
  startHistory();
  window.addEventListener('storage', (ev) => {
    if (ev.key === STORE_KEY) adoptFromOtherTab();
  });
  void loadConfig();
  connect({
    onOpen: () => {
      resume();
      historyOnOpen();
    },
    onFrame,
    onError: showError,
  });
}

// A small hook for tests and the console.
/** @type {any} */ (window).ordersPage = {
  orders: () => sortedOrders().map((o) => JSON.parse(JSON.stringify(o))),
  socket,
  config: () => pageConfig,
};

start();
