/**
 * The order: its schema (zod), the Kafka event that carries it, and the workflow id helper.
 * Shared by the gateway (validates what clients send), the bridge (validates what Kafka carries)
 * and the workflow/activities (types only).
 */
import * as crypto from 'node:crypto';
import { z } from 'zod';
import {
  AMENDMENT_ID_PATTERN,
  CONTROL_CHARACTERS,
  LONE_SURROGATE,
  MAX_AMENDMENT_ID_LENGTH,
  MAX_ITEM_LENGTH,
  MAX_PRICE,
  MAX_QUANTITY,
} from './order-values';
import { CustomerIdSchema, OrderIdSchema, TRACEPARENT_PATTERN } from './protocol';

export { MAX_PRICE, MAX_QUANTITY };

/** What a client sends in `placeOrder`. Unknown fields are refused so that typos are not silently dropped. */
export const PlaceOrderInput = z.strictObject({
  orderId: OrderIdSchema.optional(),
  item: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_ITEM_LENGTH, `must be at most ${MAX_ITEM_LENGTH} characters`)
    .refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed text (no lone surrogates)')
    .refine(
      (v) => !CONTROL_CHARACTERS.test(v),
      'must not contain control characters (line breaks, escapes, bidi overrides)',
    ),
  price: z
    .number({ error: 'must be a number' })
    .finite('must be finite')
    .positive('must be greater than 0')
    .max(MAX_PRICE, `must be at most ${MAX_PRICE}`),
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_QUANTITY).default(1),
  /** In JWT mode the gateway fills it in from the token (a different value is refused). */
  customerId: CustomerIdSchema.optional(),
});
export type PlaceOrderInput = z.input<typeof PlaceOrderInput>;

/**
 * placeOrder's data as a whole: the order, plus the W3C trace context the client may send so the
 * order's trace links to its span (docs/TRACING.md). The trace context is not part of the order.
 */
export const PlaceOrderRequest = PlaceOrderInput.extend({
  traceparent: z
    .string()
    .regex(TRACEPARENT_PATTERN, 'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>')
    .optional()
    .meta({ description: "W3C Trace Context: the client's span, linked from the order's own new trace" }),
  tracestate: z
    .string()
    .max(512, 'must be at most 512 characters')
    .optional()
    .meta({ description: 'W3C Trace Context tracestate, kept with the link to traceparent' }),
});

/**
 * What a client sends in `amendOrder`: the order, the amendment's id (the same id sent again changes
 * the order once) and at least one new value, each by placeOrder's own rule. Unknown fields are refused.
 */
export const AmendOrderInput = z
  .strictObject({
    orderId: OrderIdSchema,
    amendmentId: z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_AMENDMENT_ID_LENGTH, `must be at most ${MAX_AMENDMENT_ID_LENGTH} characters`)
      .regex(AMENDMENT_ID_PATTERN, 'may contain only letters, digits and # _ . : -')
      .meta({ description: 'names the amendment: sent again (a retry), it changes the order once' }),
    item: PlaceOrderInput.shape.item.optional(),
    price: PlaceOrderInput.shape.price.optional(),
    quantity: PlaceOrderInput.shape.quantity.removeDefault().optional(),
  })
  .refine((a) => a.item !== undefined || a.price !== undefined || a.quantity !== undefined, {
    message: 'name at least one of item, price, quantity',
  })
  .meta({ description: 'at least one of item, price, quantity; accepted until payment starts' });
export type AmendOrderInput = z.output<typeof AmendOrderInput>;

/** An order once accepted: it always has an id and a quantity. */
export interface Order {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
  customerId?: string;
  /**
   * Partition routing (docs/SCALING.md): the order-status partition the worker publishes this order's
   * status events to, set by the gateway that placed it (GATEWAY_STATUS_PARTITION). Absent: the key's hash.
   */
  statusPartition?: number;
  /**
   * 'customer': the order id is its customer's own (JWT mode), so the workflow id names the customer
   * too (workflowIdFor). Absent: the global id of no-auth and shared-token modes, and of every order
   * placed before ids were scoped. Set by the bridge from the event's `idScope`, never by a client.
   */
  idScope?: IdScope;
}

/** How far an order id is unique: 'customer' (JWT mode), or globally (absent). */
export type IdScope = 'customer';

/**
 * The order as Kafka carries it: what the client sent, with an id, plus what the gateway adds. Clients
 * cannot set `statusPartition` (PlaceOrderInput refuses unknown fields); the seed's events have none.
 */
export const OrderSchema = PlaceOrderInput.required({ orderId: true }).extend({
  statusPartition: z
    .number()
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(100_000, 'must be at most 100000')
    .optional()
    .meta({ description: 'order-status partition for this order (partition routing); absent: the key hash' }),
});

/**
 * An order whose customer data is sealed (KAFKA_ENCRYPT_ORDER_FIELDS, common/codec/order-fields.ts):
 * in clear only what routing and dedupe read (the order id, the status partition); item, price,
 * quantity and customer id are one AES-256-GCM ciphertext under the customer's data key, named by
 * its key id beside it. Strict, like OrderSchema, so an event is one shape or the other, never both.
 */
export const SealedOrderSchema = z.strictObject({
  orderId: OrderIdSchema,
  statusPartition: OrderSchema.shape.statusPartition,
  sealed: z
    .strictObject({
      keyId: z
        .string()
        .min(1)
        .max(100)
        .meta({ description: 'the data key, as the key store names it (cust-<ref>.v<n>)' }),
      data: z
        .string()
        .max(8_192)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
        .meta({ description: 'base64 of IV (12 bytes), AES-256-GCM ciphertext of the fields as JSON, tag (16 bytes)' }),
    })
    .meta({ description: 'item, price, quantity and customerId, sealed with the customer data key keyId' }),
});
export type SealedOrder = z.infer<typeof SealedOrderSchema>;

/** The fields a sealed order holds in its ciphertext, as they are checked once opened. */
export const SealedFieldsSchema = OrderSchema.pick({ item: true, price: true, quantity: true, customerId: true });
export type SealedFields = z.infer<typeof SealedFieldsSchema>;

export const ORDER_PLACED = 'ORDER_PLACED';
export const SCHEMA_VERSION = 1;

/** The event around an order of either form. */
function orderPlacedEventOf<T extends z.ZodType>(order: T) {
  return z.object({
    type: z.literal(ORDER_PLACED),
    payload: z.object({
      order,
      timestamp: z.number().int().nonnegative().optional(),
    }),
    eventId: z.string().max(100).optional(),
    /**
     * 'customer': the order id is unique only within its customer (JWT mode), and so is its workflow id.
     * Outside the order, so that a bridge that predates it drops the field (and starts the order under
     * its global id, which the gateway falls back to) rather than refusing the order.
     */
    idScope: z.literal('customer').optional(),
    /** Absent in the seed's events (read as version 1); any other version is refused (the bridge dead-letters it). */
    schemaVersion: z.literal(SCHEMA_VERSION).optional(),
  });
}

/**
 * The Kafka event. Same shape as the seed's producer (the NestJS system this replaces, docs/DESIGN.md
 * "What this replaces"): `type`, `payload.order`, `payload.timestamp`;
 * our producer adds `eventId` and `schemaVersion`, which the seed's consumer ignores, and which the
 * bridge treats as optional so it reads the seed's events too. `payload.order` is the order in clear
 * (the seed's form, and the default), or a SealedOrder (KAFKA_ENCRYPT_ORDER_FIELDS).
 */
export const OrderPlacedEvent = orderPlacedEventOf(z.union([OrderSchema, SealedOrderSchema]));
/** The two forms apart, so that a refusal names the field at fault (a union's names only `payload.order`). */
export const ClearOrderPlacedEvent = orderPlacedEventOf(OrderSchema);
export const SealedOrderPlacedEvent = orderPlacedEventOf(SealedOrderSchema);

/** The schema an event's JSON is checked with: the sealed form when its order has `sealed`, else the clear one. */
export function orderPlacedSchemaOf(json: unknown): typeof ClearOrderPlacedEvent | typeof SealedOrderPlacedEvent {
  const order = (json as { payload?: { order?: unknown } } | null)?.payload?.order;
  return typeof order === 'object' && order !== null && 'sealed' in order
    ? SealedOrderPlacedEvent
    : ClearOrderPlacedEvent;
}
export type OrderPlacedEvent = z.infer<typeof OrderPlacedEvent>;

/** What an ORDER_PLACED event carries: `order` in clear, or (`sealed` set) only what its SealedOrder holds in clear. */
export function orderPlacedEvent(
  order: Order,
  eventId: string,
  timestamp: number,
  sealed?: SealedOrder,
): OrderPlacedEvent {
  const { idScope, ...clear } = order;
  const placed = sealed ?? clear;
  const event: OrderPlacedEvent = {
    type: ORDER_PLACED,
    payload: { order: placed, timestamp },
    eventId,
    schemaVersion: SCHEMA_VERSION,
  };
  return idScope ? { ...event, idScope } : event;
}

/** Whether an event's order is sealed (its fields to be opened with the key store first). */
export function isSealedOrder(order: OrderPlacedEvent['payload']['order']): order is SealedOrder {
  return 'sealed' in order;
}

/**
 * The order an ORDER_PLACED event carries, with its id scope; for a sealed order, `fields` are what
 * its ciphertext held (common/codec/order-fields.ts openOrderFields).
 */
export function orderOfEvent(event: OrderPlacedEvent, fields?: SealedFields): Order {
  const carried = event.payload.order;
  let order: Order;
  if (isSealedOrder(carried)) {
    if (!fields) throw new Error(`order ${carried.orderId}: its fields are sealed; open them first`);
    order = { orderId: carried.orderId, ...fields };
    if (order.customerId === undefined) delete order.customerId;
    if (carried.statusPartition !== undefined) order.statusPartition = carried.statusPartition;
  } else {
    order = { ...carried };
  }
  if (event.idScope === 'customer' && order.customerId !== undefined) order.idScope = event.idScope;
  return order;
}

/** What names an order: its id, and with a customer scope, its customer. */
export type OrderRef = Pick<Order, 'orderId' | 'customerId' | 'idScope'>;

/** Separates the order id from the customer part of a scoped workflow id; never in an order id. */
const SCOPE_SEPARATOR = '@';
/** Characters of a customer id shown as they are in a scoped workflow id; others become '_'. */
const READABLE_CUSTOMER = /[^A-Za-z0-9_.-]/g;
const READABLE_CUSTOMER_LENGTH = 24;
/** Hex digits of SHA-256(customer id) in a scoped workflow id: 64 bits, so distinct customers do not meet. */
const CUSTOMER_HASH_LENGTH = 16;

/**
 * The one place that derives a Temporal workflow id from an order (docs/DESIGN.md "Workflow ids").
 * Global (no-auth, shared token, and orders placed before ids were scoped): `order-<orderId>`.
 * Scoped to its customer (JWT mode): `order-<orderId>@<customer>-<hash>`, where <customer> is the
 * customer id's first 24 characters with any but `A-Za-z0-9_.-` as `_` (readable in the Temporal
 * UI) and <hash> the first 16 hex digits of SHA-256 of the whole customer id (so ids of customers
 * who share the readable part differ). Order ids never contain `@`, so the two forms never meet, and
 * an id stays below 130 characters whatever the customer id. Both start with `order-<orderId>`.
 */
export function workflowIdFor(order: OrderRef): string {
  const global = `order-${order.orderId}`;
  if (order.idScope !== 'customer' || order.customerId === undefined) return global;
  const readable = order.customerId.slice(0, READABLE_CUSTOMER_LENGTH).replace(READABLE_CUSTOMER, '_');
  return `${global}${SCOPE_SEPARATOR}${readable}-${customerRefOf(order.customerId)}`;
}

/**
 * A customer's reference: the first 16 hex digits of SHA-256 of the customer id, as a scoped workflow
 * id ends with (workflowIdFor). The payload codec names a customer's data key by it (common/codec).
 */
export function customerRefOf(customerId: string): string {
  return crypto.createHash('sha256').update(customerId).digest('hex').slice(0, CUSTOMER_HASH_LENGTH);
}

/** The customer reference a scoped workflow id ends with; undefined for a global id. */
export function customerRefOfWorkflowId(workflowId: string): string | undefined {
  if (!isScopedWorkflowId(workflowId)) return undefined;
  const ref = workflowId.slice(-CUSTOMER_HASH_LENGTH);
  return /^[0-9a-f]+$/.test(ref) && workflowId.at(-CUSTOMER_HASH_LENGTH - 1) === '-' ? ref : undefined;
}

/** Whether a workflow id is scoped to a customer (workflowIdFor). */
export function isScopedWorkflowId(workflowId: string): boolean {
  return workflowId.includes(SCOPE_SEPARATOR);
}

/** The order id (as its client knows it) in a workflow id of workflowIdFor's making. */
export function orderIdOfWorkflowId(workflowId: string): string {
  const end = workflowId.indexOf(SCOPE_SEPARATOR);
  return workflowId.slice('order-'.length, end < 0 ? undefined : end);
}

/** The global workflow id of the same order id: where an order of its customer placed before ids were scoped runs. */
export function globalWorkflowIdOf(workflowId: string): string {
  return workflowIdFor({ orderId: orderIdOfWorkflowId(workflowId) });
}

/**
 * The Kafka key of an order's events on order-placement and order-status (one order's events on one
 * partition, in order): the order id for a global id (the key the seed's and earlier producers use),
 * the workflow id for a scoped one (two customers' same order id are two orders).
 */
export function kafkaKeyOf(workflowId: string): string {
  return isScopedWorkflowId(workflowId) ? workflowId : orderIdOfWorkflowId(workflowId);
}

/** The workflow id a Kafka key of kafkaKeyOf's making names. */
export function workflowIdOfKafkaKey(key: string): string {
  return isScopedWorkflowId(key) ? key : workflowIdFor({ orderId: key });
}

/** Formats the first problem zod found as "field: message". */
export function describeZodError(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : '(root)';
  return { field, message: `${field}: ${issue?.message ?? 'invalid'}` };
}
