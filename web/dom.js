// @ts-check
// Typed look-ups of the page's elements (index.html): a missing one is a bug in the page, so it throws.

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error('the page has no #' + id);
  return el;
}

/**
 * @param {string} id
 * @returns {HTMLInputElement}
 */
export function inputById(id) {
  return /** @type {HTMLInputElement} */ (byId(id));
}

/**
 * @param {string} id
 * @returns {HTMLButtonElement}
 */
export function buttonById(id) {
  return /** @type {HTMLButtonElement} */ (byId(id));
}

/**
 * An element inside a card, by its data-role.
 * @param {Element} card
 * @param {string} role
 * @returns {HTMLElement}
 */
export function part(card, role) {
  const el = card.querySelector('[data-role="' + role + '"]');
  if (!(el instanceof HTMLElement)) throw new Error('an order card has no ' + role);
  return el;
}

/**
 * A button inside a card, by its data-action.
 * @param {Element} card
 * @param {string} action
 * @returns {HTMLButtonElement}
 */
export function actionButton(card, action) {
  const el = card.querySelector('[data-action="' + action + '"]');
  if (!(el instanceof HTMLButtonElement)) throw new Error('an order card has no ' + action + ' button');
  return el;
}
