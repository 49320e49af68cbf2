/**
 * A client for the gateway's order protocol that follows orders to their final state.
 *
 * One WebSocket carries any number of tracked orders. Every request it makes is idempotent
 * (placeOrder with a fixed orderId, subscribeOrder with fromSeq), so when the connection drops it
 * reconnects with backoff and simply re-asks: orders still being placed are placed again (the
 * gateway never creates a second order for the same id), the others are re-subscribed from the
 * last status seen + 1. Status events are de-duplicated by seq, so nothing is reported twice.
 */
import type WebSocket from 'ws';
import {
  ClientRequest,
  frameOrderId,
  isRetryable,
  OrderRequest,
  parseServerFrame,
  ReceivedFrame,
} from '../common/protocol';
import { isFinal, OrderView, StatusEvent } from '../common/status';
import { StatusPushSchema } from '../common/status-schemas';
import { FramePacer } from './frame-pacer';
import { openSocket } from './socket';
import { AnswerWaiters } from './answer-waiters';
import { backoffDelay, beginAttempt, endAttempt } from './attempts';
import { verifyExists } from './follow-check';
import {
  newTracked,
  resultOf,
  type Attempt,
  type ClientOptions,
  type Ending,
  type GatewayError,
  type SubmitResult,
  type TrackHandlers,
  type Tracked,
  type TrackResult,
} from './tracking';

export type { Attempt, ClientOptions, GatewayError, SubmitResult, TrackHandlers, TrackResult };
export type { OrderRequest, StatusEvent };

/** The options without a default. */
type Unset = 'onConnection' | 'token' | 'answerTimeoutMs' | 'maxAttempts' | 'attemptDeadline';

export class OrderClient {
  private ws?: WebSocket;
  private readonly tracked = new Map<string, Tracked>();
  private readonly answers = new AnswerWaiters();
  private closedByUs = false;
  private reconnects = 0;
  private reconnectTimer?: NodeJS.Timeout;
  /** The connection was lost while no order was tracked: the next tracked order reconnects. */
  private idle = false;
  private readonly pacer: FramePacer;
  private readonly opts: Required<Omit<ClientOptions, Unset>> & Pick<ClientOptions, Unset>;

  constructor(
    readonly url: string,
    opts: ClientOptions = {},
  ) {
    this.opts = {
      maxReconnects: 8,
      backoffMs: 250,
      maxBackoffMs: 5_000,
      framesPerSecond: 50,
      notFoundGraceMs: 3_000,
      jitter: false,
      ...opts,
    };
    this.pacer = new FramePacer(this.opts.framesPerSecond, () => this.ws);
  }

  /** Opens the connection; rejects with a readable message when the gateway cannot be reached. */
  async connect(): Promise<void> {
    const ws = await openSocket(this.url, this.opts.token, {
      onMessage: (text) => this.onMessage(text),
      onClose: (code, reason) => {
        if (this.ws === ws) this.onDropped(code, reason);
      },
    });
    if (this.closedByUs) {
      ws.removeAllListeners('close');
      ws.close(); // close() was called while this connection was being opened
      return;
    }
    this.ws = ws;
    this.reconnects = 0;
    this.opts.onConnection?.('open');
    this.pacer.flush();
  }

  /** Places an order and resolves when it reaches a final state, fails, or the timeout passes. */
  place(request: OrderRequest, timeoutMs: number, handlers: TrackHandlers = {}): Promise<TrackResult> {
    return this.track<TrackResult>({ orderId: request.orderId, mode: 'place', request }, timeoutMs, handlers);
  }

  /** Places an order, resending it as place does, and resolves once the gateway acknowledges it (or not). */
  submit(request: OrderRequest, timeoutMs: number, handlers: TrackHandlers = {}): Promise<SubmitResult> {
    return this.track<SubmitResult>({ orderId: request.orderId, mode: 'submit', request }, timeoutMs, handlers);
  }

  /** Follows an existing order (every status from seq 1) until it reaches a final state. */
  follow(orderId: string, timeoutMs: number, handlers: TrackHandlers = {}): Promise<TrackResult> {
    return this.track<TrackResult>({ orderId, mode: 'follow' }, timeoutMs, handlers);
  }

  /** getOrder: the order's current view, or null when the gateway answers with an error or not in time. */
  async getOrder(orderId: string, timeoutMs = 3_000): Promise<OrderView | null> {
    const answer = await this.lookUp(orderId, timeoutMs);
    return answer?.event === 'order' ? (answer.data as unknown as OrderView) : null;
  }

  close(): void {
    this.closedByUs = true;
    clearTimeout(this.reconnectTimer);
    this.pacer.pause();
    for (const t of this.tracked.values()) this.finish(t, { kind: 'connection', message: 'client closed' });
    this.ws?.close();
    this.ws?.removeAllListeners('close');
  }

  private track<R extends TrackResult | SubmitResult>(
    init: Pick<Tracked, 'orderId' | 'mode' | 'request'>,
    timeoutMs: number,
    handlers: TrackHandlers,
  ): Promise<R> {
    if (this.tracked.has(init.orderId))
      return Promise.reject(new Error(`order ${init.orderId} is already being tracked`));
    return new Promise<R>((resolve) => {
      // place and follow never end 'accepted' (only submit does), so each resolves with its own result type.
      const t = newTracked(init, handlers, (result) => resolve(result as R));
      t.timer = setTimeout(() => {
        this.finish(t, { kind: 'timeout', lastStatus: t.events.at(-1)?.status });
      }, timeoutMs);
      this.tracked.set(t.orderId, t);
      if (this.idle) this.onDropped(1006, 'lost while no order was tracked');
      else this.ask(t);
    });
  }

  /** Sends the request that (re)starts the flow of status events for this order. */
  private ask(t: Tracked): void {
    if (t.mode === 'follow' || !t.pending || !t.request)
      this.enqueue({ event: 'subscribeOrder', data: { orderId: t.orderId, fromSeq: t.lastSeq + 1 } });
    else if (t.attemptAt !== undefined || this.beginAttempt(t)) this.enqueue({ event: 'placeOrder', data: t.request });
  }

  /** Starts a placeOrder attempt (an unanswered one is resent); when the order's bounds are spent it gives up. */
  private beginAttempt(t: Tracked): boolean {
    if (beginAttempt(t, this.opts, () => this.retry(t))) return true;
    this.finish(t, { kind: 'gave-up', attempts: t.attempts });
    return false;
  }

  /** Asks again after the order's next backoff delay. */
  private retry(t: Tracked): void {
    clearTimeout(t.retryTimer);
    t.retryTimer = setTimeout(() => this.ask(t), backoffDelay(t.retries++, this.opts));
  }

  private finish(t: Tracked, ending: Ending): void {
    if (this.tracked.get(t.orderId) !== t) return;
    this.tracked.delete(t.orderId);
    clearTimeout(t.timer);
    clearTimeout(t.retryTimer);
    endAttempt(t, ending.kind === 'timeout' ? 'timeout' : 'closed');
    t.done(resultOf(t, ending));
  }

  /** Sends getOrder and resolves with its answer (the order or an error frame), or null when none comes in time. */
  private lookUp(orderId: string, timeoutMs: number): Promise<ReceivedFrame | null> {
    const answer = this.answers.wait(orderId, (f) => f.event === 'order' || f.event === 'error', timeoutMs);
    this.enqueue({ event: 'getOrder', data: { orderId } });
    return answer;
  }

  private enqueue(frame: ClientRequest): void {
    this.pacer.push(frame);
  }

  private onMessage(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    const orderId = frameOrderId(frame) ?? null;

    if (orderId !== null && this.answers.deliver(orderId, frame)) return; // the answer to a getOrder, not news

    switch (frame.event) {
      case 'orderAccepted': {
        const t = orderId === null ? undefined : this.tracked.get(orderId);
        if (!t || t.mode === 'follow') return;
        t.workflowId = String(frame.data.workflowId);
        if (t.pending) {
          t.pending = false;
          endAttempt(t, 'accepted');
          const traceId = typeof frame.data.traceId === 'string' ? frame.data.traceId : undefined;
          t.handlers.onAccepted?.(t.orderId, t.workflowId, traceId);
          if (t.mode === 'submit') this.finish(t, { kind: 'accepted' });
        }
        return;
      }
      case 'subscribed': {
        const t = orderId === null ? undefined : this.tracked.get(orderId);
        if (t && t.mode === 'follow' && t.pending) {
          t.pending = false;
          void verifyExists(t, {
            graceMs: this.opts.notFoundGraceMs,
            tracking: () => this.tracked.get(t.orderId) === t,
            lookUp: () => this.lookUp(t.orderId, 5_000),
            notFound: (error) => this.finish(t, { kind: 'error', error }),
          });
        }
        return;
      }
      case 'orderStatus':
        this.onStatus(frame.data);
        return;
      case 'error':
        this.onError(frame.data as unknown as GatewayError);
        return;
      default:
        return;
    }
  }

  private onStatus(data: Record<string, unknown>): void {
    const push = StatusPushSchema.safeParse(data);
    if (!push.success) return; // garbage
    const event: StatusEvent = push.data;
    const t = this.tracked.get(event.orderId);
    if (!t || event.seq <= t.lastSeq) return; // not ours, or a repeat (after a resubscribe)
    t.lastSeq = event.seq;
    t.pending = false;
    t.events.push(event);
    t.handlers.onStatus?.(event);
    if (isFinal(event.status)) this.finish(t, { kind: 'final', status: event.status });
  }

  private onError(error: GatewayError): void {
    const targets =
      error.orderId !== null && error.orderId !== undefined
        ? [this.tracked.get(error.orderId)].filter((t): t is Tracked => !!t)
        : [...this.tracked.values()];
    for (const t of targets) {
      endAttempt(t, 'error', error.code);
      if (isRetryable(error.code)) {
        // Not stored / not served right now: the same request is safe to repeat.
        if (error.orderId === null && !t.pending) continue;
        this.retry(t);
        continue;
      }
      this.finish(t, { kind: 'error', error });
    }
  }

  private onDropped(code: number, reason: string): void {
    this.ws = undefined;
    this.idle = false;
    this.pacer.clear(); // everything is re-asked after the reconnect
    for (const t of this.tracked.values()) endAttempt(t, 'closed');
    if (this.closedByUs) return;
    if (this.tracked.size === 0) {
      this.idle = true;
      this.opts.onConnection?.('closed', `${code}${reason ? ` ${reason}` : ''}`);
      return;
    }
    if (this.reconnects >= this.opts.maxReconnects) {
      const message = `connection to ${this.url} lost (${code}${reason ? ` ${reason}` : ''}) and ${this.reconnects} reconnects failed`;
      this.opts.onConnection?.('closed', message);
      for (const t of [...this.tracked.values()]) this.finish(t, { kind: 'connection', message });
      return;
    }
    const delay = backoffDelay(this.reconnects++, this.opts);
    this.opts.onConnection?.(
      'reconnecting',
      `connection lost (${code}${reason ? ` ${reason}` : ''}); reconnecting in ${delay} ms`,
    );
    this.reconnectTimer = setTimeout(() => {
      // The reconnect is an attempt of every order still being placed: sent once connected, else 'not-connected'.
      for (const t of [...this.tracked.values()])
        if (t.mode !== 'follow' && t.pending && t.attemptAt === undefined) this.beginAttempt(t);
      this.connect().then(
        () => {
          for (const t of this.tracked.values()) this.ask(t);
        },
        () => {
          for (const t of this.tracked.values()) endAttempt(t, 'not-connected');
          this.onDropped(1006, 'reconnect failed');
        },
      );
    }, delay);
  }
}
