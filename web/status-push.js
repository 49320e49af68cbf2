// @ts-check
// Reads an orderStatus push by the one schema the gateway and the CLI use too
// (common/status-schemas.ts StatusPushSchema), as its JSON Schema in ./common.js. Like zod, a
// property the schema does not name is dropped, and a push that breaks any rule is refused whole.
import { STATUS_PUSH } from './common.js';

/**
 * The parts of JSON Schema the push's schema uses.
 * @typedef {{ type: string, enum?: readonly string[], minLength?: number, maxLength?: number,
 *   exclusiveMinimum?: number, maximum?: number, description?: string }} Rule
 * @typedef {{ $schema: string, title: string, type: 'object', properties: Record<string, Rule>,
 *   required: string[], additionalProperties: boolean }} PushSchema
 */

/**
 * A status change as the page reads it.
 * @typedef {{ orderId: string, status: string, seq: number, at: number, detail?: string }} StatusPush
 */

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
  return rule.maximum === undefined || value <= rule.maximum;
}

/**
 * The push in `data`, or undefined when it does not fit the schema.
 * @param {unknown} data
 * @returns {StatusPush | undefined}
 */
export function readStatusPush(data) {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const record = /** @type {Record<string, unknown>} */ (data);
  /** @type {Record<string, unknown>} */
  const push = {};
  for (const [name, rule] of Object.entries(STATUS_PUSH.properties)) {
    const value = record[name];
    if (value === undefined) {
      if (STATUS_PUSH.required.indexOf(name) >= 0) return undefined;
    } else if (fits(rule, value)) push[name] = value;
    else return undefined;
  }
  return /** @type {StatusPush} */ (push);
}
