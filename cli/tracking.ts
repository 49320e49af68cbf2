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

/** How one tracked order ended. */
export type TrackResult =
  | { kind: 'final'; orderId: string; workflowId?: string; status: OrderStatus; events: StatusEvent[] }
  | { kind: 'error'; orderId: string; workflowId?: string; error: GatewayError; events: StatusEvent[] }
  | { kind: 'timeout'; orderId: string; workflowId?: string; lastStatus?: OrderStatus; events: StatusEvent[] }
  | { kind: 'connection'; orderId: string; workflowId?: string; message: string; events: StatusEvent[] };

export interface TrackHandlers {
  /** traceId: the order's trace, when the gateway traces it. */
  onAccepted?: (orderId: string, workflowId: string, traceId?: string) => void;
  onStatus?: (event: StatusEvent) => void;
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
  /** Token for a gateway in token mode (JWT or shared token), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Notified of connection state changes (for a human-readable log). */
  onConnection?: (state: 'open' | 'reconnecting' | 'closed', detail?: string) => void;
}

/** One order the client follows to its final state. */
export interface Tracked {
  orderId: string;
  mode: 'place' | 'follow';
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
  done: (result: TrackResult) => void;
}

/** A TrackResult without what every result carries. */
export type Ending = OmitEach<TrackResult, 'orderId' | 'workflowId' | 'events'>;

/** Omit applied to each member of a union (plain Omit would merge the kinds into one shape). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A tracked order's result: `ending` plus what the order carries (its id, workflow id and the events seen). */
export function resultOf(t: Tracked, ending: Ending): TrackResult {
  return { orderId: t.orderId, workflowId: t.workflowId, events: t.events, ...ending };
}
