/**
 * A connected client as the request handlers see it, whatever transport carries it (a raw
 * WebSocket, ./connections; or a Socket.IO socket, ./socket-io): who it is, its rate limit, and how
 * to push a frame to it. Each transport is a small adapter that turns its messages into
 * `Dispatcher.handle` calls (./frame-handlers) and implements `send`.
 */
import type { ServerFrame } from '../common/protocol';
import type { StatusEvent } from '../common/status';
import type { Identity } from './auth';
import type { AbuseSettings, FrameThrottle, RateSettings } from './pushback';
import type { Subscriber } from './subscriptions';

export interface Client extends Subscriber {
  readonly customerId?: string;
  /** Its rate limit: frames pass, or reading pauses (./pushback). */
  readonly throttle: FrameThrottle;
  /** Pushes a frame (an answer or a status event) to the client. */
  send(frame: ServerFrame): void;
  sendStatus(event: StatusEvent): void;
  /** Closes the connection for breaking a policy (raw WebSocket 1008, Socket.IO a server disconnect), after what was sent. */
  closeForPolicy(reason: string): void;
}

/** How each client's link is kept, the same on both transports. */
export interface LinkOptions {
  /** Token bucket per client: burst size and sustained frames per second. */
  rate: RateSettings;
  /** Episodes of an empty bucket within a window after which a client is closed (./pushback). */
  rateAbuse: AbuseSettings;
  /** Above this many bytes queued for a client (a slow or absent reader), the gateway stops sending to it and closes it. */
  maxBufferedBytes: number;
  /** How often a peer must answer a ping (raw WebSocket) or Socket.IO's own ping, else it is dropped. */
  heartbeatMs: number;
}

/** Largest delay setTimeout takes (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpire` when the session's token expires (never when it has no expiry). Returns the
 * cancel function the transport calls when the connection ends first.
 */
export function onTokenExpiry(identity: Identity, onExpire: () => void): () => void {
  if (identity.expiresAt === undefined) return () => undefined;
  const expiresAt = identity.expiresAt;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = expiresAt - Date.now();
    if (left <= 0) return onExpire();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
