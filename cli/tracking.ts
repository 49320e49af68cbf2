/**
 * The shapes an OrderClient user sees: how a tracked order ended, the callbacks while it runs, the
 * client's options; and the client's own record of one tracked order.
 */
import type { OrderRequest } from '../common/protocol';
import type { OrderStatus, StatusEvent } from '../common/status';

// The wire shapes are the protocol's (an orderStatus event is the one the workflow publishes).
export type { OrderRequest, StatusEvent };

export interface GatewayError {
  code: string;
  message: string;
  orderId: string | null;
  field?: string;
}

/** One placeOrder sent (or, with the connection down, due) and what came of it. */
export interface Attempt {
  /** When the attempt started (epoch ms). */
  at: number;
  outcome: 'accepted' | 'error' | 'closed' | 'timeout' | 'not-connected';
  /** outcome 'error': the gateway's error code. */
  code?: string;
}

/** How one tracked order ended. */
export type TrackResult =
  | { kind: 'final'; orderId: string; workflowId?: string; status: OrderStatus; events: StatusEvent[] }
  | { kind: 'error'; orderId: string; workflowId?: string; error: GatewayError; events: StatusEvent[] }
  | { kind: 'timeout'; orderId: string; workflowId?: string; lastStatus?: OrderStatus; events: StatusEvent[] }
  | { kind: 'connection'; orderId: string; workflowId?: string; message: string; events: StatusEvent[] }
  | { kind: 'gave-up'; orderId: string; workflowId?: string; attempts: number; events: StatusEvent[] };

/** How a submitted order ended: acknowledged, or any way a tracked order ends short of a final state. */
export type SubmitResult =
  | Exclude<TrackResult, { kind: 'final' }>
  | { kind: 'accepted'; orderId: string; workflowId?: string; events: StatusEvent[] };

export interface TrackHandlers {
  /** traceId: the order's trace, when the gateway traces it. */
  onAccepted?: (orderId: string, workflowId: string, traceId?: string) => void;
  onStatus?: (event: StatusEvent) => void;
  /** place and submit: every placeOrder attempt's outcome, once known (in order; the last may be 'accepted'). */
  onAttempt?: (attempt: Attempt) => void;
}

export interface ClientOptions {
  /** Reconnect attempts after a dropped connection before the tracked orders are given up. */
  maxReconnects?: number;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Client-side pacing so that bulk runs stay under the gateway's per-connection rate limit. */
  framesPerSecond?: number;
  /** follow: how long an order may stay NOT_FOUND (not started yet) before the follow fails. */
  notFoundGraceMs?: number;
  /** A placeOrder unanswered this long ends as a 'timeout' attempt and is sent again (default: no limit). */
  answerTimeoutMs?: number;
  /** placeOrder attempts per order before it ends 'gave-up' (default: no limit). */
  maxAttempts?: number;
  /** No placeOrder attempt starts at or after this time (epoch ms); a due one ends the order 'gave-up'. */
  attemptDeadline?: number;
  /** Every resend and reconnect waits its delay plus a random part of up to the same again. */
  jitter?: boolean;
  /** Token for a gateway in token mode (JWT or shared token), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Notified of connection state changes (for a human-readable log). */
  onConnection?: (state: 'open' | 'reconnecting' | 'closed', detail?: string) => void;
}

/** One order the client follows to its final state. */
export interface Tracked {
  orderId: string;
  /** submit: place, and stop tracking once accepted. */
  mode: 'place' | 'follow' | 'submit';
  request?: OrderRequest;
  /** place: not yet accepted; follow: not yet confirmed by "subscribed". */
  pending: boolean;
  workflowId?: string;
  lastSeq: number;
  events: StatusEvent[];
  handlers: TrackHandlers;
  timer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
  retries: number;
  /** placeOrder attempts started, and the start of the one still waiting for its outcome. */
  attempts: number;
  attemptAt?: number;
  answerTimer?: NodeJS.Timeout;
  done: (result: TrackResult | SubmitResult) => void;
}

/** A result without what every result carries. */
export type Ending = OmitEach<TrackResult | SubmitResult, 'orderId' | 'workflowId' | 'events'>;

/** Omit applied to each member of a union (plain Omit would merge the kinds into one shape). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A tracked order's result: `ending` plus what the order carries (its id, workflow id and the events seen). */
export function resultOf(t: Tracked, ending: Ending): TrackResult | SubmitResult {
  return { orderId: t.orderId, workflowId: t.workflowId, events: t.events, ...ending };
}

/** A tracked order about to be asked for the first time. */
export function newTracked(
  init: Pick<Tracked, 'orderId' | 'mode' | 'request'>,
  handlers: TrackHandlers,
  done: Tracked['done'],
): Tracked {
  return { ...init, pending: true, lastSeq: 0, events: [], handlers, retries: 0, attempts: 0, done };
}
