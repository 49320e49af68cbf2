/**
 * The rules an order's values (item, price, quantity) follow, in plain code with no imports, so that
 * workflow code can check an amendment with the same limits the gateway's zod schemas use
 * (common/order.ts PlaceOrderInput, AmendOrderInput build on these constants and patterns).
 * test/common/order-values.unit.test.ts keeps `amendmentProblem` in agreement with AmendOrderInput.
 */

/** Largest accepted unit price: anything above is a typo or an attack, not an order. */
export const MAX_PRICE = 1_000_000;
export const MAX_QUANTITY = 1_000;
export const MAX_ITEM_LENGTH = 200;
/** An amendment id is named like an order id: 1-64 of letters, digits and # _ . : - */
export const MAX_AMENDMENT_ID_LENGTH = 64;
export const AMENDMENT_ID_PATTERN = /^[A-Za-z0-9#_.:-]+$/;

/** A UTF-16 surrogate without its partner: not text, and not encodable as UTF-8. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Control characters (C0 incl. ESC, DEL, C1) and the bidirectional overrides: free text goes into
 * log lines, Temporal summaries and terminals, where these would forge lines, colours or reading order.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** What an order is for: the values a customer chooses, and may amend until payment starts. */
export interface OrderValues {
  item: string;
  price: number;
  quantity: number;
}

/** An amendment as the workflow's amend update takes it: its id, and at least one new value. */
export interface Amendment {
  amendmentId: string;
  item?: string;
  price?: number;
  quantity?: number;
}

/**
 * The first problem with an amendment as "field: message" (the gateway's wording), or undefined
 * when it is valid. The item is judged trimmed, as the gateway trims it.
 */
export function amendmentProblem(a: unknown): string | undefined {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return '(root): must be an object';
  const { amendmentId, item, price, quantity } = a as Record<string, unknown>;
  if (typeof amendmentId !== 'string') return 'amendmentId: must be a string';
  if (amendmentId.length < 1) return 'amendmentId: must not be empty';
  if (amendmentId.length > MAX_AMENDMENT_ID_LENGTH)
    return `amendmentId: must be at most ${MAX_AMENDMENT_ID_LENGTH} characters`;
  if (!AMENDMENT_ID_PATTERN.test(amendmentId)) return 'amendmentId: may contain only letters, digits and # _ . : -';
  if (item !== undefined) {
    if (typeof item !== 'string') return 'item: must be a string';
    const trimmed = item.trim();
    if (trimmed.length < 1) return 'item: must not be empty';
    if (trimmed.length > MAX_ITEM_LENGTH) return `item: must be at most ${MAX_ITEM_LENGTH} characters`;
    if (LONE_SURROGATE.test(trimmed)) return 'item: must be well-formed text (no lone surrogates)';
    if (CONTROL_CHARACTERS.test(trimmed))
      return 'item: must not contain control characters (line breaks, escapes, bidi overrides)';
  }
  if (price !== undefined) {
    if (typeof price !== 'number' || !Number.isFinite(price)) return 'price: must be a number';
    if (price <= 0) return 'price: must be greater than 0';
    if (price > MAX_PRICE) return `price: must be at most ${MAX_PRICE}`;
  }
  if (quantity !== undefined) {
    if (typeof quantity !== 'number' || !Number.isFinite(quantity)) return 'quantity: must be a number';
    if (!Number.isInteger(quantity)) return 'quantity: must be a whole number';
    if (quantity < 1) return 'quantity: must be at least 1';
    if (quantity > MAX_QUANTITY) return `quantity: must be at most ${MAX_QUANTITY}`;
  }
  if (item === undefined && price === undefined && quantity === undefined)
    return '(root): name at least one of item, price, quantity';
  return undefined;
}

/** The values after applying a (valid) amendment to `current`: what it names changes, the rest stays. */
export function amended(current: OrderValues, a: Amendment): OrderValues {
  return {
    item: a.item === undefined ? current.item : a.item.trim(),
    price: a.price ?? current.price,
    quantity: a.quantity ?? current.quantity,
  };
}
