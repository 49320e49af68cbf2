/**
 * The WebSocket load: places orders over M connections, either as fast as the gateway's
 * per-connection rate limit allows ("full speed") or at a fixed offered rate spread over the
 * connections, and times each placeOrder -> orderAccepted round trip. Raw sockets, not cli's
 * OrderClient: the bench measures the gateway, so the client adds no pacing, tracking or resubscribes
 * of its own, and times each frame where it is written and read.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { sleep } from '../infra/proc';
import { frameOrderId, parseServerFrame, type ReceivedFrame } from '../../common/protocol';

export interface BenchOrder {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
}

export interface OrderTiming {
  orderId: string;
  /** Epoch ms when placeOrder was sent (comparable with Temporal's start/close times). */
  sentAt: number;
  /** Epoch ms when orderAccepted arrived. */
  acceptedAt?: number;
  /** placeOrder -> orderAccepted in ms (monotonic clock). */
  acceptMs?: number;
  error?: string;
}

export interface PlacementResult {
  timings: OrderTiming[];
  accepted: number;
  errors: Record<string, number>;
  /** First send to last answer, seconds. */
  seconds: number;
  /** Orders/s actually offered (sends over the send window). */
  offeredPerSecond: number;
}

export interface PlacementOptions {
  url: string;
  orders: BenchOrder[];
  connections: number;
  /** Orders per second over all connections; undefined = full speed. */
  rate?: number;
  /** A customer's token (a gateway in JWT mode), sent as `Authorization: Bearer`. */
  token?: string;
  /** Called once every connection is open, before the first order is sent (a load beside the orders starts here). */
  beforeSending?: () => Promise<void>;
  timeoutMs: number;
  onAnswer?: (answered: number) => void;
  /** Follows the orders after they are accepted (status pushes, requests of its own) before the connections close. */
  follow?: Follower;
}

/**
 * What follows the orders on their own connections once they are placed (tools/bench/amend-load.ts).
 * `onFrame` sees every frame first, with a `send` on the connection it came from that waits for a
 * token of that connection's bucket (the one its placements took from, so the two together stay
 * within the gateway's per-connection rate limit).
 */
export interface Follower {
  onFrame(frame: ReceivedFrame, send: (message: object) => Promise<void>): void;
  /** Called once every order is answered, with the accepted ones: resolves when it is done with them (bounded by itself). */
  settle(acceptedOrderIds: string[]): Promise<void>;
}

/** Mirrors the gateway's per-connection token bucket (burst 200, 100/s) with a small margin. */
export class ClientBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly burst = 190,
    private readonly perSecond = 95,
  ) {
    this.tokens = burst;
  }
  /** ms to wait before a token is available (0 = take it now). */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}

interface Pending {
  timing: OrderTiming;
  sentPerf: number;
}

export async function openConnections(
  url: string,
  count: number,
  timeoutMs = 15_000,
  token?: string,
): Promise<WebSocket[]> {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, { headers });
          const timer = setTimeout(() => {
            ws.terminate();
            reject(new Error(`WebSocket ${url} did not open within ${timeoutMs} ms`));
          }, timeoutMs);
          ws.once('open', () => {
            clearTimeout(timer);
            resolve(ws);
          });
          ws.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        }),
    ),
  );
}

export async function placeOrders(opts: PlacementOptions): Promise<PlacementResult> {
  const sockets = await openConnections(opts.url, opts.connections, undefined, opts.token);
  const pending = new Map<string, Pending>();
  const timings: OrderTiming[] = [];
  const errors: Record<string, number> = {};
  let answered = 0;
  let lastAnswerPerf = 0;
  const countError = (code: string): void => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const finish = (orderId: string, error?: string): void => {
    const p = pending.get(orderId);
    if (!p) return;
    pending.delete(orderId);
    const now = performance.now();
    lastAnswerPerf = now;
    if (error) {
      p.timing.error = error;
      countError(error);
    } else {
      p.timing.acceptedAt = Date.now();
      p.timing.acceptMs = now - p.sentPerf;
    }
    answered += 1;
    opts.onAnswer?.(answered);
  };

  const buckets = new Map(sockets.map((ws) => [ws, new ClientBucket()]));
  const sendOn = (ws: WebSocket) => async (message: object) => {
    const bucket = buckets.get(ws) ?? new ClientBucket();
    for (let wait = bucket.take(); wait > 0; wait = bucket.take()) await sleep(wait);
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  for (const ws of sockets) {
    const sendHere = sendOn(ws);
    ws.on('message', (raw) => {
      const frame = parseServerFrame(raw.toString());
      if (!frame) {
        countError('BAD_REPLY');
        return;
      }
      opts.follow?.onFrame(frame, sendHere);
      const orderId = frameOrderId(frame);
      const code = typeof frame.data.code === 'string' ? frame.data.code : 'ERROR';
      if (frame.event === 'orderAccepted' && orderId) finish(orderId);
      else if (frame.event === 'error') {
        if (orderId) finish(orderId, code);
        // An error without an order id (e.g. RATE_LIMITED) cannot be matched; that order stays unanswered.
        else countError(code);
      }
    });
    ws.on('close', () => countError('CONNECTION_CLOSED'));
    ws.on('error', () => countError('CONNECTION_ERROR'));
  }

  const send = (ws: WebSocket, order: BenchOrder): void => {
    const timing: OrderTiming = { orderId: order.orderId, sentAt: Date.now() };
    timings.push(timing);
    pending.set(order.orderId, { timing, sentPerf: performance.now() });
    ws.send(JSON.stringify({ event: 'placeOrder', data: order }));
  };

  await opts.beforeSending?.();
  const t0 = performance.now();
  const deadline = Date.now() + opts.timeoutMs;
  if (opts.rate === undefined) {
    // Full speed: each connection sends its share back to back, held only by the rate limit.
    await Promise.all(
      sockets.map(async (ws, c) => {
        const bucket = buckets.get(ws) ?? new ClientBucket();
        for (let i = c; i < opts.orders.length && Date.now() < deadline; i += sockets.length) {
          for (let wait = bucket.take(); wait > 0; wait = bucket.take()) await sleep(wait);
          send(ws, opts.orders[i]);
        }
      }),
    );
  } else {
    // Fixed offered rate: order i is due at t0 + i / rate, sent on connection i mod M.
    const rate = opts.rate;
    let next = 0;
    while (next < opts.orders.length && Date.now() < deadline) {
      const due = Math.min(opts.orders.length, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; next < due; next += 1) send(sockets[next % sockets.length], opts.orders[next]);
      await sleep(Math.max(1, Math.floor(1000 / rate)));
    }
  }
  const sendSeconds = Math.max(0.001, (performance.now() - t0) / 1000);

  while (pending.size > 0 && Date.now() < deadline) await sleep(20);
  for (const p of pending.values()) {
    p.timing.error = 'UNANSWERED';
    countError('UNANSWERED');
  }
  pending.clear();
  await opts.follow?.settle(timings.filter((t) => t.acceptMs !== undefined).map((t) => t.orderId));
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000);
          ws.removeAllListeners('close');
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1000, 'bench done');
        }),
    ),
  );
  const accepted = timings.filter((t) => t.acceptMs !== undefined).length;
  return {
    timings,
    accepted,
    errors,
    seconds: ((lastAnswerPerf || performance.now()) - t0) / 1000,
    offeredPerSecond: timings.length / sendSeconds,
  };
}
