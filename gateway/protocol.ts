/**
 * The WebSocket protocol, NestJS ws-adapter style: every frame is {"event": name, "data": payload}.
 * Client -> gateway: placeOrder, subscribeOrder, getOrder, cancelOrder.
 * Gateway -> client: orderAccepted, orderStatus, subscribed, order, orderCancelled, error.
 */
import { z } from 'zod';
import { OrderIdSchema } from '../common/order';
import type { OrderView, StatusEvent } from '../common/status';

export const ClientFrame = z.strictObject({
  event: z.string().min(1).max(64),
  data: z.unknown(),
});

export const OrderRef = z.strictObject({ orderId: OrderIdSchema });
export const CancelOrderInput = OrderRef;
export const SubscribeOrderInput = z.strictObject({
  orderId: OrderIdSchema,
  fromSeq: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000).default(1),
});

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
  temporalUnavailable: 'TEMPORAL_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorData {
  code: ErrorCode;
  message: string;
  orderId: string | null;
  field?: string;
}

export type ServerFrame =
  | { event: 'orderAccepted'; data: { orderId: string; workflowId: string } }
  | { event: 'orderStatus'; data: StatusEvent }
  | { event: 'subscribed'; data: { orderId: string } }
  | { event: 'order'; data: OrderView }
  | { event: 'orderCancelled'; data: { orderId: string } }
  | { event: 'error'; data: ErrorData };

export function errorFrame(code: ErrorCode, message: string, orderId: string | null = null, field?: string): ServerFrame {
  return { event: 'error', data: field ? { code, message, orderId, field } : { code, message, orderId } };
}
