// The orders page: places orders over the gateway's WebSocket and shows each order's steps live.
// Plain browser JavaScript, no build step. Orders placed from this browser are remembered in
// localStorage (with the steps seen so far); after a reload or a dropped connection every order that
// is not final is re-subscribed from the last seen seq + 1, so no step is missed or shown twice.
(function () {
  'use strict';

  var STORE_KEY = 'order-orchestrator.orders.v1';
  var MAX_ORDERS = 50;
  var FINAL = ['COMPLETED', 'REJECTED', 'PAYMENT_DECLINED', 'CANCELLED', 'FAILED'];
  var SHIPPING_STARTED = ['SHIPPING', 'SHIPPED'];
  var LABELS = {
    PLACING: 'Placing',
    ACCEPTED: 'Accepted',
    VALIDATING: 'Validating',
    VALIDATED: 'Validated',
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
  var TONES = {
    COMPLETED: 'good',
    REJECTED: 'bad',
    PAYMENT_DECLINED: 'bad',
    FAILED: 'bad',
    REFUNDED: 'warn',
    CANCELLED: 'warn',
  };
  var FORM_FIELDS = { item: 'item', price: 'price', quantity: 'quantity', orderId: 'order-id' };

  var config = { temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default' };
  /** @type {Map<string, any>} orderId -> order record (newest first when listed). */
  var orders = new Map();
  var ws = null;
  var attempt = 0;
  var reconnectTimer = null;
  /** The orderId the form is waiting on (placed, not yet accepted), for inline form errors. */
  var formPending = null;

  var $ = function (id) { return document.getElementById(id); };

  // ---------------------------------------------------------------------------------------------
  // Storage

  function load() {
    try {
      var list = JSON.parse(localStorage.getItem(STORE_KEY) || '[]');
      if (!Array.isArray(list)) return;
      list.forEach(function (o) {
        if (o && typeof o.orderId === 'string') {
          o.steps = Array.isArray(o.steps) ? o.steps : [];
          o.lastSeq = Number(o.lastSeq) || 0;
          o.cancel = o.cancel === 'refused' || o.cancel === 'done' ? o.cancel : 'idle';
          orders.set(o.orderId, o);
        }
      });
    } catch (e) {
      console.warn('ignoring unreadable saved orders', e);
    }
  }

  function save() {
    var list = sortedOrders().slice(0, MAX_ORDERS).map(function (o) {
      return {
        orderId: o.orderId, workflowId: o.workflowId, item: o.item, price: o.price, quantity: o.quantity,
        placedAt: o.placedAt, placing: o.placing, status: o.status, lastSeq: o.lastSeq, steps: o.steps,
        cancel: o.cancel, error: o.error,
      };
    });
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(list));
    } catch (e) {
      console.warn('could not save orders', e);
    }
  }

  function sortedOrders() {
    return Array.from(orders.values()).sort(function (a, b) { return (b.placedAt || 0) - (a.placedAt || 0); });
  }

  // ---------------------------------------------------------------------------------------------
  // Order state

  function isFinal(o) { return FINAL.indexOf(o.status) >= 0; }

  function shippingStarted(o) {
    return o.steps.some(function (s) { return SHIPPING_STARTED.indexOf(s.status) >= 0; }) || SHIPPING_STARTED.indexOf(o.status) >= 0;
  }

  function canCancel(o) {
    return !o.placing && !isFinal(o) && !shippingStarted(o) && o.cancel === 'idle';
  }

  function toneOf(status) {
    if (TONES[status]) return TONES[status];
    return status === 'PLACING' ? 'neutral' : 'progress';
  }

  function runUrl(o) {
    var wf = o.workflowId || 'order-' + o.orderId;
    return config.temporalUiUrl.replace(/\/+$/, '') + '/namespaces/' + encodeURIComponent(config.namespace) + '/workflows/' + encodeURIComponent(wf);
  }

  // ---------------------------------------------------------------------------------------------
  // WebSocket

  function socketUrl() {
    var override = new URLSearchParams(location.search).get('ws');
    if (override) return override;
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  }

  function setConnection(state, text) {
    var el = $('connection');
    el.dataset.state = state;
    $('connection-text').textContent = text;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    setConnection('connecting', attempt === 0 ? 'Connecting…' : 'Reconnecting…');
    var socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (e) {
      showError({ code: 'CONNECTION', message: 'cannot open ' + socketUrl() + ': ' + e.message, orderId: null });
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.onopen = function () {
      attempt = 0;
      setConnection('open', 'Connected');
      resume();
    };
    socket.onmessage = function (ev) {
      var frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame.event === 'string' && frame.data && typeof frame.data === 'object') onFrame(frame);
    };
    socket.onclose = function () {
      if (ws !== socket) return;
      ws = null;
      scheduleReconnect();
    };
    socket.onerror = function () { /* onclose follows and schedules the reconnect */ };
  }

  function scheduleReconnect() {
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 15 s.
    var base = Math.min(15000, 500 * Math.pow(2, attempt));
    var delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt++;
    var until = Date.now() + delay;
    setConnection('closed', 'Disconnected, retrying in ' + Math.ceil(delay / 1000) + ' s');
    var tick = setInterval(function () {
      var left = until - Date.now();
      if (left <= 0 || ws) clearInterval(tick);
      else setConnection('closed', 'Disconnected, retrying in ' + Math.ceil(left / 1000) + ' s');
    }, 1000);
    reconnectTimer = setTimeout(function () {
      clearInterval(tick);
      connect();
    }, delay);
  }

  function send(event, data) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ event: event, data: data }));
    return true;
  }

  /** After (re)connecting: re-place orders that were never accepted, re-subscribe the unfinished ones. */
  function resume() {
    sortedOrders().reverse().forEach(function (o) {
      if (o.placing) send('placeOrder', placement(o));
      else if (!isFinal(o)) send('subscribeOrder', { orderId: o.orderId, fromSeq: o.lastSeq + 1 });
    });
  }

  function placement(o) {
    return { orderId: o.orderId, item: o.item, price: o.price, quantity: o.quantity };
  }

  // ---------------------------------------------------------------------------------------------
  // Frames from the gateway

  function onFrame(frame) {
    var d = frame.data;
    var o = typeof d.orderId === 'string' ? orders.get(d.orderId) : undefined;
    switch (frame.event) {
      case 'orderAccepted':
        if (!o) return;
        o.workflowId = d.workflowId || o.workflowId;
        if (o.placing) {
          o.placing = false;
          if (!o.status || o.status === 'PLACING') o.status = 'ACCEPTED';
        }
        if (formPending === o.orderId) finishForm(null);
        changed(o);
        return;
      case 'subscribed':
        return;
      case 'orderStatus':
        if (o) onStatus(o, d);
        return;
      case 'order':
        if (o) onView(o, d);
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

  function onStatus(o, d) {
    var seq = Number(d.seq);
    if (!Number.isInteger(seq) || seq <= o.lastSeq) return; // already shown (a resubscribe may repeat)
    var step = { seq: seq, status: String(d.status), at: Number(d.at) || Date.now() };
    if (typeof d.detail === 'string' && d.detail) step.detail = d.detail;
    o.steps.push(step);
    o.lastSeq = seq;
    o.status = step.status;
    if (o.placing) o.placing = false;
    changed(o);
  }

  /** getOrder's answer: fills in steps we never saw (e.g. the order was known before seq existed here). */
  function onView(o, view) {
    if (!Array.isArray(view.steps)) return;
    if (view.steps.length > o.steps.length) {
      o.steps = view.steps.map(function (s, i) { return { seq: i + 1, status: s.status, at: s.at, detail: s.detail }; });
      o.lastSeq = o.steps.length;
    }
    if (view.status) o.status = view.status;
    if (view.workflowId) o.workflowId = view.workflowId;
    changed(o);
  }

  function onError(o, d) {
    var error = { code: String(d.code || 'ERROR'), message: String(d.message || ''), orderId: typeof d.orderId === 'string' ? d.orderId : null, field: d.field };
    if (o && o.placing && (error.code === 'INVALID_ORDER' || error.code === 'BAD_FRAME')) {
      // The gateway refused the placement: the order does not exist, take it off the list.
      orders.delete(o.orderId);
      removeCard(o.orderId);
      if (formPending === o.orderId) finishForm(error);
      save();
      refreshListChrome();
    } else if (o && o.placing && (error.code === 'KAFKA_UNAVAILABLE' || error.code === 'SHUTTING_DOWN' || error.code === 'RATE_LIMITED')) {
      // Not stored: resending with the same orderId is safe and never creates a second order.
      setTimeout(function () { if (o.placing && orders.get(o.orderId) === o) send('placeOrder', placement(o)); }, 2000);
    } else if (o) {
      if (error.code === 'CANNOT_CANCEL') o.cancel = 'refused';
      else if (o.cancel === 'pending') o.cancel = 'idle';
      o.error = { code: error.code, message: error.message };
      changed(o);
    }
    showError(error);
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering

  function changed(o) {
    save();
    renderOrder(o);
    refreshListChrome();
  }

  function refreshListChrome() {
    var all = sortedOrders();
    $('order-count').textContent = String(all.length);
    $('empty').hidden = all.length > 0;
    $('clear-finished').disabled = !all.some(isFinal);
    // Keep the cards in newest-first order.
    var container = $('orders');
    all.forEach(function (o, i) {
      var card = cardFor(o.orderId);
      if (card && container.children[i] !== card) container.insertBefore(card, container.children[i] || null);
    });
  }

  function cardFor(orderId) {
    var cards = $('orders').children;
    for (var i = 0; i < cards.length; i++) if (cards[i].dataset.orderId === orderId) return cards[i];
    return null;
  }

  function removeCard(orderId) {
    var card = cardFor(orderId);
    if (card) card.remove();
  }

  function part(card, role) { return card.querySelector('[data-role="' + role + '"]'); }

  function formatTime(at) {
    var d = new Date(at);
    var pad = function (n, w) { return String(n).padStart(w || 2, '0'); };
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }

  function formatMoney(n) {
    return Number(n).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function renderOrder(o) {
    var card = cardFor(o.orderId);
    if (!card) {
      card = $('order-template').content.firstElementChild.cloneNode(true);
      card.dataset.orderId = o.orderId;
      card.id = 'order-' + o.orderId.replace(/[^A-Za-z0-9_-]/g, '_');
      card.querySelector('[data-action="cancel"]').dataset.orderId = o.orderId;
      card.querySelector('[data-action="forget"]').dataset.orderId = o.orderId;
      $('orders').prepend(card);
    }
    var status = o.placing ? 'PLACING' : o.status || 'ACCEPTED';
    card.dataset.status = status;
    card.dataset.final = String(isFinal(o));
    card.dataset.tone = toneOf(status);

    part(card, 'order-id').textContent = o.orderId;
    part(card, 'summary').textContent = o.quantity + ' × ' + o.item + ' at ' + formatMoney(o.price) + ' = ' + formatMoney(o.price * o.quantity);

    var badge = part(card, 'status');
    badge.textContent = LABELS[status] || status;
    badge.dataset.tone = toneOf(status);
    badge.dataset.status = status;

    renderSteps(part(card, 'steps'), o);

    var err = part(card, 'order-error');
    err.hidden = !o.error;
    err.textContent = o.error ? o.error.code + ': ' + o.error.message : '';
    err.dataset.errorCode = o.error ? o.error.code : '';

    var link = part(card, 'temporal-link');
    link.href = runUrl(o);
    link.setAttribute('aria-disabled', String(!!o.placing));
    link.title = 'Workflow ' + (o.workflowId || 'order-' + o.orderId) + ' in the Temporal UI';

    var cancel = card.querySelector('[data-action="cancel"]');
    cancel.disabled = !canCancel(o);
    cancel.textContent = o.cancel === 'pending' ? 'Cancelling…' : 'Cancel';
    cancel.title = isFinal(o) ? 'The order is finished' : shippingStarted(o) ? 'Shipping has started: too late to cancel' : o.cancel === 'refused' ? 'The gateway refused to cancel' : '';
    card.querySelector('[data-action="forget"]').hidden = !isFinal(o);
  }

  function renderSteps(list, o) {
    var shown = {};
    Array.prototype.forEach.call(list.querySelectorAll('li[data-seq]'), function (li) { shown[li.dataset.seq] = true; });
    var first = o.steps.length ? o.steps[0].at : 0;
    o.steps.forEach(function (s) {
      if (shown[String(s.seq)]) return;
      var li = document.createElement('li');
      li.dataset.seq = String(s.seq);
      li.dataset.stepStatus = s.status;
      li.dataset.tone = toneOf(s.status);
      var dot = document.createElement('span');
      dot.className = 'step-dot';
      var name = document.createElement('span');
      name.className = 'step-name';
      name.textContent = LABELS[s.status] || s.status;
      var time = document.createElement('time');
      time.className = 'step-time';
      time.dateTime = new Date(s.at).toISOString();
      time.textContent = s.at === first ? formatTime(s.at) : '+' + ((s.at - first) / 1000).toFixed(2) + ' s';
      time.title = new Date(s.at).toLocaleString();
      var detail = document.createElement('span');
      detail.className = 'step-detail';
      detail.textContent = s.detail || '';
      li.append(dot, name, time, detail);
      list.appendChild(li);
    });
    var waiting = list.querySelector('li.waiting');
    var needWaiting = !isFinal(o) && o.steps.length === 0;
    if (needWaiting && !waiting) {
      waiting = document.createElement('li');
      waiting.className = 'waiting';
      var d = document.createElement('span');
      d.className = 'step-dot';
      var t = document.createElement('span');
      t.textContent = o.placing ? 'Sending to the gateway…' : 'Waiting for the first step…';
      waiting.append(d, t);
      list.appendChild(waiting);
    } else if (waiting && !needWaiting) {
      waiting.remove();
    } else if (waiting) {
      waiting.lastChild.textContent = o.placing ? 'Sending to the gateway…' : 'Waiting for the first step…';
    }
  }

  function showError(error) {
    var box = $('errors');
    var el = document.createElement('div');
    el.className = 'error';
    el.setAttribute('role', 'alert');
    el.dataset.errorCode = error.code;
    if (error.orderId) el.dataset.orderId = error.orderId;
    if (error.field) el.dataset.field = error.field;
    var body = document.createElement('div');
    body.className = 'error-body';
    var code = document.createElement('span');
    code.className = 'error-code';
    code.textContent = error.code;
    var msg = document.createElement('span');
    msg.className = 'error-message';
    msg.textContent = error.message;
    var meta = document.createElement('div');
    meta.className = 'error-meta';
    meta.textContent = [formatTime(Date.now()), error.orderId ? 'order ' + error.orderId : null, error.field ? 'field ' + error.field : null].filter(Boolean).join(' · ');
    body.append(code, msg, meta);
    var close = document.createElement('button');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss');
    close.dataset.action = 'dismiss-error';
    close.textContent = '×';
    close.addEventListener('click', function () { el.remove(); });
    el.append(body, close);
    box.prepend(el);
    while (box.children.length > 5) box.lastElementChild.remove();
  }

  // ---------------------------------------------------------------------------------------------
  // The form

  function newOrderId() {
    var bytes = new Uint8Array(4);
    crypto.getRandomValues(bytes);
    return 'web-' + Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  function clearFieldErrors() {
    Object.keys(FORM_FIELDS).forEach(function (f) { $(FORM_FIELDS[f]).removeAttribute('aria-invalid'); });
    $('form-error').hidden = true;
    $('form-error').textContent = '';
  }

  function formError(message, field) {
    $('form-error').textContent = message;
    $('form-error').hidden = false;
    if (field && FORM_FIELDS[field]) {
      $(FORM_FIELDS[field]).setAttribute('aria-invalid', 'true');
      $(FORM_FIELDS[field]).focus();
    }
  }

  function finishForm(error) {
    formPending = null;
    $('place-order').disabled = false;
    $('place-order').textContent = 'Place order';
    if (error) {
      formError(error.message, error.field);
    } else {
      $('order-id').value = '';
    }
  }

  function onSubmit(ev) {
    ev.preventDefault();
    clearFieldErrors();
    var item = $('item').value.trim();
    var price = Number($('price').value);
    var quantity = $('quantity').value === '' ? 1 : Number($('quantity').value);
    var orderId = $('order-id').value.trim();
    if (!item) return formError('Item: enter what to order.', 'item');
    if ($('price').value === '' || !(price > 0)) return formError('Price: enter an amount greater than 0.', 'price');
    if (!Number.isInteger(quantity) || quantity < 1) return formError('Quantity: enter a whole number of at least 1.', 'quantity');
    if (orderId && orders.has(orderId)) return formError('Order ' + orderId + ' is already in your list.', 'orderId');

    var o = {
      orderId: orderId || newOrderId(), item: item, price: price, quantity: quantity, placedAt: Date.now(),
      placing: true, status: 'PLACING', lastSeq: 0, steps: [], cancel: 'idle',
    };
    orders.set(o.orderId, o);
    formPending = o.orderId;
    $('place-order').disabled = true;
    $('place-order').textContent = 'Placing…';
    changed(o);
    if (!send('placeOrder', placement(o))) {
      // Offline: the order is kept and sent as soon as the connection is back.
      finishForm(null);
      formError('Not connected: the order will be sent when the connection is back.');
    }
  }

  function onListClick(ev) {
    var button = ev.target.closest('button[data-action]');
    if (!button || button.disabled) return;
    var o = orders.get(button.dataset.orderId || '');
    if (button.dataset.action === 'cancel' && o) {
      if (!canCancel(o)) return;
      o.error = undefined;
      if (!send('cancelOrder', { orderId: o.orderId })) {
        showError({ code: 'NOT_CONNECTED', message: 'cannot cancel while disconnected; try again when connected', orderId: o.orderId });
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

  /** Another tab of this page saved its list: show (and follow) the orders it placed that this tab does not know. */
  function adoptFromOtherTab() {
    var list;
    try {
      list = JSON.parse(localStorage.getItem(STORE_KEY) || '[]');
    } catch (e) {
      return;
    }
    if (!Array.isArray(list)) return;
    list.forEach(function (saved) {
      if (!saved || typeof saved.orderId !== 'string' || orders.has(saved.orderId) || saved.placing) return;
      var o = Object.assign({}, saved, { steps: Array.isArray(saved.steps) ? saved.steps : [], lastSeq: Number(saved.lastSeq) || 0, cancel: 'idle' });
      orders.set(o.orderId, o);
      renderOrder(o);
      if (!isFinal(o)) send('subscribeOrder', { orderId: o.orderId, fromSeq: o.lastSeq + 1 });
    });
    refreshListChrome();
  }

  function clearFinished() {
    sortedOrders().filter(isFinal).forEach(function (o) {
      orders.delete(o.orderId);
      removeCard(o.orderId);
    });
    save();
    refreshListChrome();
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  function loadConfig() {
    return fetch('config.json', { cache: 'no-store' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (c) {
        if (c && typeof c.temporalUiUrl === 'string') config.temporalUiUrl = c.temporalUiUrl;
        if (c && typeof c.namespace === 'string') config.namespace = c.namespace;
        orders.forEach(renderOrder);
      })
      .catch(function () { /* keep the defaults */ });
  }

  function start() {
    load();
    sortedOrders().reverse().forEach(renderOrder);
    refreshListChrome();
    $('order-form').addEventListener('submit', onSubmit);
    $('orders').addEventListener('click', onListClick);
    $('clear-finished').addEventListener('click', clearFinished);
    window.addEventListener('storage', function (ev) {
      if (ev.key === STORE_KEY) adoptFromOtherTab();
    });
    loadConfig();
    connect();
  }

  // A small hook for tests and the console.
  window.ordersPage = {
    orders: function () { return sortedOrders().map(function (o) { return JSON.parse(JSON.stringify(o)); }); },
    socket: function () { return ws; },
    config: function () { return config; },
  };

  start();
})();
