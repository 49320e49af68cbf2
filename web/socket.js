// @ts-check
// The page's WebSocket to the gateway: connects, shows the connection state, and reconnects with
// exponential backoff (and jitter) whenever the connection drops.
// Token mode (the gateway's /config.json says auth "jwt" or "shared-token"): the page takes the token
// from its URL fragment (#token=<token>: a fragment never reaches a server or its logs), keeps it
// for this tab in sessionStorage, and sends it as a `bearer.<token>` entry of the WebSocket
// subprotocol list: the one header a browser lets a page set on a WebSocket, so the gateway
// checks the token at the upgrade, before any WebSocket exists.
import { byId } from './dom.js';

const TOKEN_KEY = 'orders.token';
/** The gateway's subprotocol, offered next to the token (the gateway answers with it, never with the token). */
const APP_SUBPROTOCOL = 'orders.v1';
/** Close code of a session whose token expired. */
const TOKEN_EXPIRED = 4401;

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

/** The gateway that served the page, and no other: the token is never offered anywhere else. */
function socketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
}

/** The token from #token=… (then kept for this tab and removed from the address bar), or the kept one. */
export function token() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The subprotocols to offer: ours, plus the token when there is one. */
function protocols() {
  const t = token();
  return t ? [APP_SUBPROTOCOL, 'bearer.' + t] : [APP_SUBPROTOCOL];
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
    opened = new WebSocket(socketUrl(), protocols());
  } catch (e) {
    handlers.onError({
      code: 'CONNECTION',
      message: 'cannot open ' + socketUrl() + ': ' + (e instanceof Error ? e.message : String(e)),
      orderId: null,
    });
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
    if (frame && typeof frame.event === 'string' && frame.data && typeof frame.data === 'object')
      handlers.onFrame(frame);
  };
  opened.onclose = (ev) => {
    if (ws !== opened) return;
    if (ev.code === TOKEN_EXPIRED) {
      sessionStorage.removeItem(TOKEN_KEY);
      handlers.onError({
        code: 'TOKEN_EXPIRED',
        message: 'your session token expired: open the page with a fresh #token=…',
        orderId: null,
      });
    }
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
