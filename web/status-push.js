// @ts-check
// Reads an orderStatus push by the one schema the gateway and the CLI use too
// (common/status-schemas.ts StatusPushSchema), as its JSON Schema in ./common.js. Like zod, a
// property the schema does not name is dropped, and a push that breaks any rule is refused whole.
import { STATUS_PUSH } from './common.js';

/**
 * The parts of JSON Schema the push's schema uses: strings, numbers and (AMENDED's `order`) an
 * object of them.
 * @typedef {{ type: string, enum?: readonly string[], minLength?: number, maxLength?: number,
 *   exclusiveMinimum?: number, minimum?: number, maximum?: number, description?: string,
 *   properties?: Record<string, Rule>, required?: string[], additionalProperties?: boolean }} Rule
 * @typedef {{ $schema: string, title: string, type: 'object', properties: Record<string, Rule>,
 *   required: string[], additionalProperties: boolean }} PushSchema
 */

/**
 * A status change as the page reads it; `order`: AMENDED's new values.
 * @typedef {{ orderId: string, status: string, seq: number, at: number, detail?: string,
 *   order?: { item: string, price: number, quantity: number } }} StatusPush
 */

/**
 * The object in `value` as `properties` and `required` read it (named properties only), or
 * undefined when any of them breaks its rule.
 * @param {Record<string, Rule>} properties
 * @param {readonly string[]} required
 * @param {unknown} value
 * @returns {Record<string, unknown> | undefined}
 */
function readObject(properties, required, value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = /** @type {Record<string, unknown>} */ (value);
  /** @type {Record<string, unknown>} */
  const read = {};
  for (const [name, rule] of Object.entries(properties)) {
    const field = record[name];
    if (field === undefined) {
      if (required.indexOf(name) >= 0) return undefined;
    } else if (rule.type === 'object') {
      const inner = readObject(rule.properties ?? {}, rule.required ?? [], field);
      if (!inner) return undefined;
      read[name] = inner;
    } else if (fits(rule, field)) read[name] = field;
    else return undefined;
  }
  return read;
}

/**
 * @param {Rule} rule
 * @param {unknown} value
 */
function fits(rule, value) {
  if (rule.type === 'string') {
    if (typeof value !== 'string') return false;
    if (rule.minLength !== undefined && value.length < rule.minLength) return false;
    if (rule.maxLength !== undefined && value.length > rule.maxLength) return false;
    return !rule.enum || rule.enum.indexOf(value) >= 0;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (rule.type === 'integer' && !Number.isInteger(value)) return false;
  if (rule.exclusiveMinimum !== undefined && value <= rule.exclusiveMinimum) return false;
  if (rule.minimum !== undefined && value < rule.minimum) return false;
  return rule.maximum === undefined || value <= rule.maximum;
}

/**
 * The push in `data`, or undefined when it does not fit the schema.
 * @param {unknown} data
 * @returns {StatusPush | undefined}
 */
export function readStatusPush(data) {
  const push = readObject(STATUS_PUSH.properties, STATUS_PUSH.required, data);
  return push && /** @type {StatusPush} */ (push);
}
