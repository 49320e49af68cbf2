/**
 * The order: its schema (zod), the Kafka event that carries it, and the workflow id helper.
 * Shared by the gateway (validates what clients send), the bridge (validates what Kafka carries)
 * and the workflow/activities (types only).
 */
import { z } from 'zod';
import { CustomerIdSchema, OrderIdSchema, TRACEPARENT_PATTERN } from './protocol';

/** Largest accepted unit price: anything above is a typo or an attack, not an order. */
export const MAX_PRICE = 1_000_000;
export const MAX_QUANTITY = 1_000;

/** A UTF-16 surrogate without its partner: not text, and not encodable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Control characters (C0 incl. ESC, DEL, C1) and the bidirectional overrides: free text goes into
 * log lines, Temporal summaries and terminals, where these would forge lines, colours or reading order.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** What a client sends in `placeOrder`. Unknown fields are refused so that typos are not silently dropped. */
export const PlaceOrderInput = z.strictObject({
  orderId: OrderIdSchema.optional(),
  item: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
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
 * placeOrder's data as a whole: the order, plus the W3C trace context the client may send to make
 * the order part of its own trace (docs/TRACING.md). The trace context is not part of the order.
 */
export const PlaceOrderRequest = PlaceOrderInput.extend({
  traceparent: z
    .string()
    .regex(TRACEPARENT_PATTERN, 'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>')
    .optional()
    .meta({ description: 'W3C Trace Context: the span this order continues (a new trace without it)' }),
  tracestate: z
    .string()
    .max(512, 'must be at most 512 characters')
    .optional()
    .meta({ description: 'W3C Trace Context tracestate, passed on with traceparent' }),
});

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
}

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

export const ORDER_PLACED = 'ORDER_PLACED';
export const SCHEMA_VERSION = 1;

/**
 * The Kafka event. Same shape as the seed's producer (the NestJS system this replaces, docs/DESIGN.md
 * "What this replaces"): `type`, `payload.order`, `payload.timestamp`;
 * our producer adds `eventId` and `schemaVersion`, which the seed's consumer ignores, and which the
 * bridge treats as optional so it reads the seed's events too.
 */
export const OrderPlacedEvent = z.object({
  type: z.literal(ORDER_PLACED),
  payload: z.object({
    order: OrderSchema,
    timestamp: z.number().int().nonnegative().optional(),
  }),
  eventId: z.string().max(100).optional(),
  /** Absent in the seed's events (read as version 1); any other version is refused (the bridge dead-letters it). */
  schemaVersion: z.literal(SCHEMA_VERSION).optional(),
});
export type OrderPlacedEvent = z.infer<typeof OrderPlacedEvent>;

export function orderPlacedEvent(order: Order, eventId: string, timestamp: number): OrderPlacedEvent {
  return { type: ORDER_PLACED, payload: { order, timestamp }, eventId, schemaVersion: SCHEMA_VERSION };
}

/** The one place that derives a Temporal workflow id from an order id. */
export function workflowIdFor(orderId: string): string {
  return `order-${orderId}`;
}

/** Formats the first problem zod found as "field: message". */
export function describeZodError(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : '(root)';
  return { field, message: `${field}: ${issue?.message ?? 'invalid'}` };
}
