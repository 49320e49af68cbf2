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
  ErrorCode,
  frameOrderId,
  isRetryable,
  OrderRequest,
  parseServerFrame,
  ReceivedFrame,
} from '../common/protocol';
import { FINAL_STATUSES, ORDER_STATUSES, OrderStatus, OrderView, StatusEvent } from '../common/status';
import { FramePacer } from './frame-pacer';
import { openSocket } from './socket';
import { AnswerWaiters } from './answer-waiters';
import {
  resultOf,
  type ClientOptions,
  type Ending,
  type GatewayError,
  type TrackHandlers,
  type Tracked,
  type TrackResult,
} from './tracking';

export type { ClientOptions, GatewayError, OrderRequest, StatusEvent, TrackHandlers, TrackResult };

const FINAL = new Set<string>(FINAL_STATUSES);
const KNOWN = new Set<string>(ORDER_STATUSES);

export class OrderClient {
  private ws?: WebSocket;
  private readonly tracked = new Map<string, Tracked>();
  private readonly answers = new AnswerWaiters();
  private closedByUs = false;
  private reconnects = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly pacer: FramePacer;
  private readonly opts: Required<Omit<ClientOptions, 'onConnection' | 'token'>> &
    Pick<ClientOptions, 'onConnection' | 'token'>;

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
    return this.track({ orderId: request.orderId, mode: 'place', request }, timeoutMs, handlers);
  }

  /** Follows an existing order (every status from seq 1) until it reaches a final state. */
  follow(orderId: string, timeoutMs: number, handlers: TrackHandlers = {}): Promise<TrackResult> {
    return this.track({ orderId, mode: 'follow' }, timeoutMs, handlers);
  }

  /** getOrder: the order's current view, or null when the gateway answers with an error or not in time. */
  async getOrder(orderId: string, timeoutMs = 3_000): Promise<OrderView | null> {
    const answer = await this.request(
      { event: 'getOrder', data: { orderId } },
      (f) => (f.event === 'order' || f.event === 'error') && f.data.orderId === orderId,
      timeoutMs,
    );
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

  private track(
    init: Pick<Tracked, 'orderId' | 'mode' | 'request'>,
    timeoutMs: number,
    handlers: TrackHandlers,
  ): Promise<TrackResult> {
    if (this.tracked.has(init.orderId))
      return Promise.reject(new Error(`order ${init.orderId} is already being tracked`));
    return new Promise<TrackResult>((resolve) => {
      const t: Tracked = { ...init, pending: true, lastSeq: 0, events: [], handlers, retries: 0, done: resolve };
      t.timer = setTimeout(() => {
        this.finish(t, { kind: 'timeout', lastStatus: t.events.at(-1)?.status });
      }, timeoutMs);
      this.tracked.set(t.orderId, t);
      this.ask(t);
    });
  }

  /** Sends the request that (re)starts the flow of status events for this order. */
  private ask(t: Tracked): void {
    if (t.mode === 'place' && t.pending && t.request) this.enqueue({ event: 'placeOrder', data: t.request });
    else this.enqueue({ event: 'subscribeOrder', data: { orderId: t.orderId, fromSeq: t.lastSeq + 1 } });
  }

  /**
   * A subscription to an order that does not exist is simply quiet (the order may not have started yet),
   * so a followed order that shows no status is looked up: still NOT_FOUND after the grace period ends the follow.
   */
  private async verifyExists(t: Tracked): Promise<void> {
    const deadline = Date.now() + this.opts.notFoundGraceMs;
    for (;;) {
      if (this.tracked.get(t.orderId) !== t || t.events.length > 0) return;
      const answer = await this.request(
        { event: 'getOrder', data: { orderId: t.orderId } },
        (f) => f.event === 'order' || f.event === 'error',
        5_000,
      );
      if (this.tracked.get(t.orderId) !== t || t.events.length > 0) return;
      if (answer?.event !== 'error' || answer.data.code !== ErrorCode.notFound) return; // it exists (or we cannot tell): keep following
      if (Date.now() >= deadline) {
        this.finish(t, { kind: 'error', error: answer.data as unknown as GatewayError });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private finish(t: Tracked, ending: Ending): void {
    if (this.tracked.get(t.orderId) !== t) return;
    this.tracked.delete(t.orderId);
    clearTimeout(t.timer);
    clearTimeout(t.retryTimer);
    t.done(resultOf(t, ending));
  }

  /** Sends a request and resolves with the first frame for its orderId that `match` accepts (null on timeout). */
  private request(
    frame: ClientRequest,
    match: (f: ReceivedFrame) => boolean,
    timeoutMs: number,
  ): Promise<ReceivedFrame | null> {
    const answer = this.answers.wait(String(frame.data.orderId), match, timeoutMs);
    this.enqueue(frame);
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
        if (!t || t.mode !== 'place') return;
        t.workflowId = String(frame.data.workflowId);
        if (t.pending) {
          t.pending = false;
          const traceId = typeof frame.data.traceId === 'string' ? frame.data.traceId : undefined;
          t.handlers.onAccepted?.(t.orderId, t.workflowId, traceId);
        }
        return;
      }
      case 'subscribed': {
        const t = orderId === null ? undefined : this.tracked.get(orderId);
        if (t && t.mode === 'follow' && t.pending) {
          t.pending = false;
          void this.verifyExists(t);
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
    const orderId = String(data.orderId);
    const t = this.tracked.get(orderId);
    if (!t) return;
    const seq = Number(data.seq);
    const status = String(data.status);
    if (!Number.isInteger(seq) || seq <= t.lastSeq || !KNOWN.has(status)) return; // repeat (after a resubscribe) or garbage
    const event: StatusEvent = { orderId, status: status as OrderStatus, seq, at: Number(data.at) };
    if (typeof data.detail === 'string') event.detail = data.detail;
    t.lastSeq = seq;
    t.pending = false;
    t.events.push(event);
    t.handlers.onStatus?.(event);
    if (FINAL.has(status)) this.finish(t, { kind: 'final', status: event.status });
  }

  private onError(error: GatewayError): void {
    const targets =
      error.orderId !== null && error.orderId !== undefined
        ? [this.tracked.get(error.orderId)].filter((t): t is Tracked => !!t)
        : [...this.tracked.values()];
    for (const t of targets) {
      if (isRetryable(error.code)) {
        // Not stored / not served right now: the same request is safe to repeat.
        if (error.orderId === null && !t.pending) continue;
        clearTimeout(t.retryTimer);
        const delay = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** t.retries++);
        t.retryTimer = setTimeout(() => this.ask(t), delay);
        continue;
      }
      this.finish(t, { kind: 'error', error });
    }
  }

  private onDropped(code: number, reason: string): void {
    this.ws = undefined;
    this.pacer.clear(); // everything is re-asked after the reconnect
    if (this.closedByUs) return;
    if (this.tracked.size === 0) {
      this.opts.onConnection?.('closed', `${code}${reason ? ` ${reason}` : ''}`);
      return;
    }
    if (this.reconnects >= this.opts.maxReconnects) {
      const message = `connection to ${this.url} lost (${code}${reason ? ` ${reason}` : ''}) and ${this.reconnects} reconnects failed`;
      this.opts.onConnection?.('closed', message);
      for (const t of [...this.tracked.values()]) this.finish(t, { kind: 'connection', message });
      return;
    }
    const delay = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** this.reconnects++);
    this.opts.onConnection?.(
      'reconnecting',
      `connection lost (${code}${reason ? ` ${reason}` : ''}); reconnecting in ${delay} ms`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          for (const t of this.tracked.values()) this.ask(t);
        },
        () => this.onDropped(1006, 'reconnect failed'),
      );
    }, delay);
  }
}
