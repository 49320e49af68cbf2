/** How a command ends: the outcome of each order, and the exit code that says it. */
import { FINAL_STATUSES, OrderStatus, OrderView } from '../common/status';
import type { GatewayError, StatusEvent, TrackResult } from './order-client';

/** Exit codes, one per outcome. */
export const EXIT = {
  completed: 0,
  unexpected: 1,
  usage: 2,
  rejected: 3,
  paymentDeclined: 4,
  cancelled: 5,
  failed: 6,
  gatewayError: 7,
  timeout: 8,
  connection: 9,
  batchIncomplete: 10,
} as const;

const EXIT_BY_STATUS: Partial<Record<OrderStatus, number>> = {
  COMPLETED: EXIT.completed,
  REJECTED: EXIT.rejected,
  PAYMENT_DECLINED: EXIT.paymentDeclined,
  CANCELLED: EXIT.cancelled,
  FAILED: EXIT.failed,
};

export type OutcomeKind = (typeof FINAL_STATUSES)[number] | 'GATEWAY_ERROR' | 'TIMEOUT' | 'CONNECTION';

export interface OrderOutcome {
  orderId: string;
  workflowId?: string;
  outcome: OutcomeKind;
  exitCode: number;
  /** Every status event seen, in seq order, without repeats. */
  events: StatusEvent[];
  /** The gateway's error frame, for GATEWAY_ERROR. */
  error?: GatewayError;
  /** Human-readable reason for GATEWAY_ERROR, TIMEOUT and CONNECTION. */
  message?: string;
  /** getOrder's answer after a final state (null when the gateway could not say). */
  view?: OrderView | null;
}

export interface BatchOutcome {
  outcomes: OrderOutcome[];
  /** How many orders ended in each outcome. */
  counts: Partial<Record<OutcomeKind, number>>;
  exitCode: number;
  elapsedMs: number;
}

export function toOutcome(result: TrackResult, timeoutMs: number): OrderOutcome {
  const base = { orderId: result.orderId, workflowId: result.workflowId, events: result.events };
  switch (result.kind) {
    case 'final':
      return {
        ...base,
        outcome: result.status as OutcomeKind,
        exitCode: EXIT_BY_STATUS[result.status] ?? EXIT.unexpected,
      };
    case 'error':
      return {
        ...base,
        outcome: 'GATEWAY_ERROR',
        exitCode: EXIT.gatewayError,
        error: result.error,
        message: describeError(result.error),
      };
    case 'timeout':
      return {
        ...base,
        outcome: 'TIMEOUT',
        exitCode: EXIT.timeout,
        message: `no final state within ${formatSeconds(timeoutMs)}${result.lastStatus ? ` (last status ${result.lastStatus})` : ' (no status received)'}`,
      };
    case 'connection':
      return { ...base, outcome: 'CONNECTION', exitCode: EXIT.connection, message: result.message };
    case 'gave-up': // only with ClientOptions.maxAttempts or attemptDeadline, which the CLI does not set
      return {
        ...base,
        outcome: 'CONNECTION',
        exitCode: EXIT.connection,
        message: `not acknowledged after ${result.attempts} attempts`,
      };
  }
}

export function describeError(error: GatewayError): string {
  const hints: Record<string, string> = {
    NOT_FOUND: 'no such order',
    CANNOT_CANCEL: 'too late to cancel',
    INVALID_ORDER: 'the gateway refused the order',
    UNKNOWN_EVENT: 'the gateway does not support this request',
    KAFKA_UNAVAILABLE: 'the order could not be stored',
  };
  const hint = hints[error.code] ? ` (${hints[error.code]})` : '';
  return `${error.code}${hint}: ${error.message}${error.field ? ` [field ${error.field}]` : ''}`;
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
