/**
 * The WebSocket protocol, NestJS ws-adapter style: every frame is {"event": name, "data": payload}.
 * Client -> gateway: placeOrder. Gateway -> client: orderAccepted, error.
 */
import { z } from 'zod';

export const ClientFrame = z.strictObject({
  event: z.string().min(1).max(64),
  data: z.unknown(),
});

export const ErrorCode = {
  badJson: 'BAD_JSON',
  badFrame: 'BAD_FRAME',
  unknownEvent: 'UNKNOWN_EVENT',
  invalidOrder: 'INVALID_ORDER',
  rateLimited: 'RATE_LIMITED',
  kafkaUnavailable: 'KAFKA_UNAVAILABLE',
  shuttingDown: 'SHUTTING_DOWN',
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
  | { event: 'error'; data: ErrorData };

export function errorFrame(code: ErrorCode, message: string, orderId: string | null = null, field?: string): ServerFrame {
  return { event: 'error', data: field ? { code, message, orderId, field } : { code, message, orderId } };
}
