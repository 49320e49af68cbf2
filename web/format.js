// @ts-check
// How the page writes times and amounts (the cards, the toasts and the "My orders" list).

/** @type {(n: number, w?: number) => string} */
const pad = (n, w) => String(n).padStart(w || 2, '0');

/**
 * A time of day to the millisecond, for steps and toasts.
 * @param {number} at epoch ms
 */
export function formatTime(at) {
  const d = new Date(at);
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
}

/**
 * A moment in a list: the time of day when it is today, else the date and the minute.
 * @param {number} at epoch ms
 * @param {number} [now] epoch ms
 */
export function formatWhen(at, now = Date.now()) {
  const d = new Date(at);
  const today = new Date(now);
  const time = pad(d.getHours()) + ':' + pad(d.getMinutes());
  if (d.toDateString() === today.toDateString()) return time + ':' + pad(d.getSeconds());
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + time;
}

/** @param {number} n */
export function formatMoney(n) {
  return Number(n).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
