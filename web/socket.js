// @ts-check
// The page's WebSocket to the gateway: connects, shows the connection state, and reconnects with
// exponential backoff (and jitter) whenever the connection drops.
import { byId } from './dom.js';

/** @typedef {import('./model.js').ReceivedFrame} ReceivedFrame */
/** @typedef {import('./model.js').PageError} PageError */

/**
 * @typedef {{
 *   onOpen: () => void,
 *   onFrame: (frame: ReceivedFrame) => void,
 *   onError: (error: PageError) => void,
 * }} SocketHandlers
 */

/** @type {WebSocket | null} */
let ws = null;
let attempt = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let reconnectTimer;
/** @type {SocketHandlers} */
let handlers = { onOpen: () => undefined, onFrame: () => undefined, onError: () => undefined };

/** The open socket, or null. */
export function socket() {
  return ws;
}

/** ws://<this host>/ unless the page's URL says ?ws=<url>. */
function socketUrl() {
  const override = new URLSearchParams(location.search).get('ws');
  if (override) return override;
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
}

/**
 * @param {string} state
 * @param {string} text
 */
function setConnection(state, text) {
  byId('connection').dataset.state = state;
  byId('connection-text').textContent = text;
}

/**
 * Opens the connection (again, after a drop) and keeps it open.
 * @param {SocketHandlers} [next] the handlers (kept for reconnects)
 */
export function connect(next) {
  if (next) handlers = next;
  clearTimeout(reconnectTimer);
  setConnection('connecting', attempt === 0 ? 'Connecting…' : 'Reconnecting…');
  /** @type {WebSocket} */
  let opened;
  try {
    opened = new WebSocket(socketUrl());
  } catch (e) {
    handlers.onError({ code: 'CONNECTION', message: 'cannot open ' + socketUrl() + ': ' + (e instanceof Error ? e.message : String(e)), orderId: null });
    scheduleReconnect();
    return;
  }
  ws = opened;
  opened.onopen = () => {
    attempt = 0;
    setConnection('open', 'Connected');
    handlers.onOpen();
  };
  opened.onmessage = (ev) => {
    let frame;
    try {
      frame = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (frame && typeof frame.event === 'string' && frame.data && typeof frame.data === 'object') handlers.onFrame(frame);
  };
  opened.onclose = () => {
    if (ws !== opened) return;
    ws = null;
    scheduleReconnect();
  };
  opened.onerror = () => {
    // onclose follows and schedules the reconnect
  };
}

function scheduleReconnect() {
  // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 15 s.
  const base = Math.min(15000, 500 * Math.pow(2, attempt));
  const wait = Math.round(base * (0.8 + Math.random() * 0.4));
  attempt++;
  const until = Date.now() + wait;
  setConnection('closed', 'Disconnected, retrying in ' + Math.ceil(wait / 1000) + ' s');
  const tick = setInterval(() => {
    const left = until - Date.now();
    if (left <= 0 || ws) clearInterval(tick);
    else setConnection('closed', 'Disconnected, retrying in ' + Math.ceil(left / 1000) + ' s');
  }, 1000);
  reconnectTimer = setTimeout(() => {
    clearInterval(tick);
    connect();
  }, wait);
}

/**
 * Sends a frame; false when there is no open connection.
 * @param {string} event
 * @param {unknown} data
 */
export function send(event, data) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify({ event, data }));
  return true;
}
