/**
 * The gateway's WebSocket protocol, NestJS ws-adapter style: every frame is {"event": name, "data": payload}.
 * Client -> gateway: placeOrder, subscribeOrder, unsubscribeOrder, getOrder, cancelOrder, amendOrder.
 * Gateway -> client: orderAccepted, orderStatus, subscribed, unsubscribed, order, orderCancelled,
 * orderAmended, error.
 * The client frames' table is ./client-frames. The gateway validates with the schemas here; the clients (cli/, tools/chaos/, tools/bench/, the tests) build
 * and read frames with the types here. The browser page (web/) mirrors them in JSDoc.
 */
import { z } from 'zod';
import { OrderViewSchema, StatusPushSchema } from './status-schemas';
import { ORDER_STATUSES } from './status';

export const ORDER_ID_MAX_LENGTH = 64;

/**
 * A W3C Trace Context `traceparent` a client may send with placeOrder (docs/TRACING.md): version
 * 00, a 32-hex trace id and a 16-hex parent span id (neither all zeros), 2 hex flags; lower case.
 */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** An order id (and a customer id): 1-64 of letters, digits and # _ . : - */
export const OrderIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(ORDER_ID_MAX_LENGTH, `must be at most ${ORDER_ID_MAX_LENGTH} characters`)
  .regex(/^[A-Za-z0-9#_.:-]+$/, 'may contain only letters, digits and # _ . : -');

/** A fresh order id: the prefix, "-" and 8 hex digits of a random UUID (e.g. "cli-3f9a0c1e"). */
export function newOrderId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export const CUSTOMER_ID_MAX_LENGTH = 128;

/**
 * A customer id: the `sub` of the customer's token in JWT mode (docs/PROTOCOL.md "Auth modes"), so it takes
 * what identity providers issue (e.g. `auth0|5f…`, UUIDs, e-mails): 1-128 visible ASCII characters.
 */
export const CustomerIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(CUSTOMER_ID_MAX_LENGTH, `must be at most ${CUSTOMER_ID_MAX_LENGTH} characters`)
  .regex(/^[\x21-\x7E]+$/, 'may contain only visible ASCII characters');

/**
 * WebSocket close codes of the gateway besides the standard ones (1001 shutting down, 1007 not
 * UTF-8, 1008 reader too slow, 1009 frame too large): 4401 = the session's token expired (like
 * HTTP 401: reconnect with a fresh token).
 */
export const CloseCode = { tokenExpired: 4401 } as const;

export const ClientFrame = z.strictObject({
  event: z.string().min(1).max(64),
  data: z.unknown(),
});

export const OrderRef = z.strictObject({ orderId: OrderIdSchema });
export const CancelOrderInput = OrderRef;
export const UnsubscribeOrderInput = OrderRef;
export const SubscribeOrderInput = z.strictObject({
  orderId: OrderIdSchema,
  fromSeq: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000).default(1),
});

/** Orders a listOrders page holds at most (history/list.ts MAX_PAGE_SIZE). */
export const LIST_PAGE_MAX = 50;

/** listOrders: the caller's orders from the order history, newest first, a page at a time. */
export const ListOrdersInput = z.strictObject({
  status: z
    .enum(['all', 'open', 'finished'])
    .default('all')
    .meta({ description: 'open: not in a final state yet; finished: in one' }),
  cursor: z.string().min(1).max(512).optional().meta({ description: "the previous page's cursor, for the next page" }),
  limit: z.number().int('must be a whole number').min(1).max(LIST_PAGE_MAX).default(LIST_PAGE_MAX),
  customerId: CustomerIdSchema.optional().meta({
    description:
      'no-auth and shared-token modes: the customer label placeOrder recorded (unverified:<customerId>); refused in JWT mode, where the token names the customer',
  }),
});

/** What a client puts in placeOrder's data (the gateway's full schema is PlaceOrderInput in ./order). */
export interface OrderRequest {
  orderId: string;
  item: string;
  price: number;
  quantity?: number;
  customerId?: string;
  /** W3C trace context to continue (docs/TRACING.md); the gateway starts a new trace without it. */
  traceparent?: string;
  tracestate?: string;
}

/** The frames a client sends. */
export type ClientRequest =
  | { event: 'placeOrder'; data: OrderRequest }
  | { event: 'subscribeOrder'; data: { orderId: string; fromSeq: number } }
  | { event: 'unsubscribeOrder'; data: { orderId: string } }
  | { event: 'getOrder'; data: { orderId: string } }
  | {
      event: 'listOrders';
      data: { status?: 'all' | 'open' | 'finished'; cursor?: string; limit?: number; customerId?: string };
    }
  | { event: 'cancelOrder'; data: { orderId: string } }
  | { event: 'amendOrder'; data: AmendRequest };

/** What a client puts in amendOrder's data (the gateway's schema is AmendOrderInput in ./order). */
export interface AmendRequest {
  orderId: string;
  /** Names the amendment: the same id sent again changes the order once. */
  amendmentId: string;
  item?: string;
  price?: number;
  quantity?: number;
}

export const ErrorCode = {
  badJson: 'BAD_JSON',
  badFrame: 'BAD_FRAME',
  unknownEvent: 'UNKNOWN_EVENT',
  invalidOrder: 'INVALID_ORDER',
  rateLimited: 'RATE_LIMITED',
  kafkaUnavailable: 'KAFKA_UNAVAILABLE',
  shuttingDown: 'SHUTTING_DOWN',
  invalidRequest: 'INVALID_REQUEST',
  notFound: 'NOT_FOUND',
  cannotCancel: 'CANNOT_CANCEL',
  /** amendOrder refused: payment has started, the order is cancelled or final, or it was amended too often. */
  cannotAmend: 'CANNOT_AMEND',
  temporalUnavailable: 'TEMPORAL_UNAVAILABLE',
  /** The connection follows as many orders as it may (GATEWAY_MAX_SUBSCRIPTIONS): unsubscribeOrder some, or wait for them to finish. */
  tooManySubscriptions: 'TOO_MANY_SUBSCRIPTIONS',
  /** JWT mode: placeOrder carried a customerId; the owner is the token's `sub` only, so leave customerId out. */
  customerIdNotAllowed: 'CUSTOMER_ID_NOT_ALLOWED',
  /** Socket.IO only (WebSocket clients get close code 4401 instead): the token expired; reconnect with a fresh one. */
  tokenExpired: 'TOKEN_EXPIRED',
  /** listOrders: the order history's database does not answer right now; ask again later. */
  historyUnavailable: 'HISTORY_UNAVAILABLE',
  /** getOrder, cancelOrder, amendOrder, subscribeOrder: the gateway's budget of Temporal calls (or this customer's share of it) is spent; resend after `retryAfterMs`. */
  busy: 'BUSY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Error codes after which the same request may simply be sent again later (the order was not
 * stored, or not served right now): resending a placeOrder with the same orderId never creates a
 * second order.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.kafkaUnavailable,
  ErrorCode.shuttingDown,
  ErrorCode.rateLimited,
  ErrorCode.historyUnavailable,
  ErrorCode.busy,
]);

export function isRetryable(code: string): boolean {
  return RETRYABLE_ERROR_CODES.has(code);
}

export type ErrorData = z.output<typeof ErrorDataSchema>;

export const ErrorDataSchema = z
  .object({
    code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    orderId: z.string().nullable().meta({ description: 'the order the error is about, when the request named one' }),
    field: z.string().optional().meta({ description: 'INVALID_ORDER / INVALID_REQUEST: the first bad field' }),
    correlationId: z.string().optional().meta({
      description:
        "KAFKA_UNAVAILABLE / TEMPORAL_UNAVAILABLE: names the gateway's log line that holds the failure's detail (the message stays generic)",
    }),
    retryAfterMs: z.number().int().min(1).optional().meta({
      description: 'BUSY: milliseconds after which the same request may be sent again',
    }),
  })
  .meta({ title: 'Error' });

/**
 * The data of each frame the gateway sends, by event name. The ServerFrame type is derived from
 * these schemas, and tools/dev/contract.ts publishes them (docs/schemas, docs/asyncapi.yaml).
 */
export const SERVER_FRAME_DATA = {
  orderAccepted: z
    .object({
      orderId: OrderIdSchema,
      workflowId: z.string(),
      traceId: z
        .string()
        .regex(/^[0-9a-f]{32}$/)
        .optional()
        .meta({ description: "the order's trace id, when the gateway traces (TRACING=1) and sampled it" }),
    })
    .meta({ title: 'Order stored in Kafka' }),
  orderStatus: StatusPushSchema,
  subscribed: z.object({ orderId: OrderIdSchema }).meta({ title: 'Subscription confirmed' }),
  unsubscribed: z
    .object({ orderId: OrderIdSchema })
    .meta({ title: 'Subscription ended (also when there was none): no more statuses of this order' }),
  order: OrderViewSchema,
  orderCancelled: z
    .object({ orderId: OrderIdSchema })
    .meta({ title: 'Order cancelled (refunded if it had been charged)' }),
  orders: z
    .object({
      orders: z.array(
        z.object({
          orderId: OrderIdSchema,
          item: z.string().nullable(),
          price: z.number().nullable(),
          quantity: z.number().int().nullable(),
          status: z.enum(ORDER_STATUSES),
          seq: z.number().int().meta({ description: 'the status event the row reflects (0: placed, no status yet)' }),
          placedAt: z.number().meta({ description: 'epoch ms' }),
          updatedAt: z.number().meta({ description: 'epoch ms of the newest event applied' }),
        }),
      ),
      cursor: z.string().optional().meta({ description: 'absent on the last page' }),
    })
    .meta({ title: "A page of the caller's orders (order history), newest first" }),
  orderAmended: z
    .object({
      orderId: OrderIdSchema,
      amendmentId: z.string(),
      item: z.string(),
      price: z.number(),
      quantity: z.number().int(),
    })
    .meta({ title: 'Order amended: its item, price and quantity from now on (the amount it will be charged)' }),
  error: ErrorDataSchema,
};

export type ServerFrame = {
  [K in keyof typeof SERVER_FRAME_DATA]: { event: K; data: z.output<(typeof SERVER_FRAME_DATA)[K]> };
}[keyof typeof SERVER_FRAME_DATA];

export function errorFrame(
  code: ErrorCode,
  message: string,
  orderId: string | null = null,
  field?: string,
): ServerFrame {
  return { event: 'error', data: field ? { code, message, orderId, field } : { code, message, orderId } };
}

/** A frame as a client receives it, before it trusts the payload: an event name and an object. */
export interface ReceivedFrame {
  event: string;
  data: Record<string, unknown>;
}

/** Parses a text frame from the gateway; undefined when it is not JSON of the {event, data: object} shape. */
export function parseServerFrame(text: string): ReceivedFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { event, data } = value as { event?: unknown; data?: unknown };
  if (typeof event !== 'string' || typeof data !== 'object' || data === null) return undefined;
  return { event, data: data as Record<string, unknown> };
}

/** The orderId a received frame names, if any. */
export function frameOrderId(frame: ReceivedFrame): string | undefined {
  return typeof frame.data.orderId === 'string' ? frame.data.orderId : undefined;
}
