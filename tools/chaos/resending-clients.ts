/**
 * The harness's WebSocket clients: a client that behaves as the protocol asks of one, i.e. an order
 * that was not acknowledged (error answer, connection lost, no answer in time) is resent with the same
 * orderId until it is acknowledged, with backoff, reconnecting when the connection is gone. Every
 * loop is bounded by a deadline and an attempt count.
 */
import WebSocket from 'ws';
import { ClientRequest, frameOrderId, isRetryable, parseServerFrame, ReceivedFrame } from '../../common/protocol';
import { sleep } from '../infra/proc';

export interface OrderSpec {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
  /** The outcome the order must reach: COMPLETED, or FAILED after a refund (an unshippable item). */
  expect: 'COMPLETED' | 'REFUNDED';
}

export interface Attempt {
  at: number;
  outcome: 'accepted' | 'error' | 'closed' | 'timeout' | 'not-connected';
  code?: string;
}

export interface OrderRecord {
  spec: OrderSpec;
  attempts: Attempt[];
  acceptedAt?: number;
  gaveUp?: string;
}

type Answer = { kind: 'frame'; frame: ReceivedFrame } | { kind: 'closed' };

/** One WebSocket connection slot that reconnects on demand. */
export class ResilientClient {
  private ws?: WebSocket;
  private connecting?: Promise<WebSocket | undefined>;
  private readonly pending = new Map<string, (a: Answer) => void>();
  connects = 0;
  disconnects = 0;
  private closedForGood = false;

  constructor(
    readonly url: string,
    private readonly answerTimeoutMs = 15_000,
  ) {}

  private connect(): Promise<WebSocket | undefined> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<WebSocket | undefined>((resolve) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: 3_000 });
      let settled = false;
      const done = (value: WebSocket | undefined): void => {
        if (settled) return;
        settled = true;
        this.connecting = undefined;
        resolve(value);
      };
      ws.on('open', () => {
        this.ws = ws;
        this.connects += 1;
        done(ws);
      });
      ws.on('message', (raw) => {
        const frame = parseServerFrame(raw.toString());
        if (!frame) return;
        const orderId = frameOrderId(frame);
        if ((frame.event === 'orderAccepted' || frame.event === 'error') && orderId !== undefined) {
          const waiter = this.pending.get(orderId);
          if (waiter) {
            this.pending.delete(orderId);
            waiter({ kind: 'frame', frame });
          }
        }
      });
      ws.on('close', () => {
        if (this.ws === ws) {
          this.ws = undefined;
          this.disconnects += 1;
          // Everything still waiting on this connection will never be answered: resend elsewhere.
          const waiting = [...this.pending.values()];
          this.pending.clear();
          for (const w of waiting) w({ kind: 'closed' });
        }
        done(undefined);
      });
      ws.on('error', () => done(undefined));
    });
    return this.connecting;
  }

  /** One attempt: send placeOrder, wait for its answer (or the connection's end, or a timeout). */
  async attempt(spec: OrderSpec): Promise<Attempt> {
    const at = Date.now();
    if (this.closedForGood) return { at, outcome: 'not-connected' };
    const ws = await this.connect();
    if (!ws || ws.readyState !== WebSocket.OPEN) return { at, outcome: 'not-connected' };
    const answer = new Promise<Answer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(spec.orderId);
        resolve(undefined);
      }, this.answerTimeoutMs);
      this.pending.set(spec.orderId, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    const request: ClientRequest = {
      event: 'placeOrder',
      data: { orderId: spec.orderId, item: spec.item, price: spec.price, quantity: spec.quantity },
    };
    ws.send(JSON.stringify(request));
    const a = await answer;
    if (!a) return { at, outcome: 'timeout' };
    if (a.kind === 'closed') return { at, outcome: 'closed' };
    if (a.frame.event === 'orderAccepted') return { at, outcome: 'accepted' };
    return { at, outcome: 'error', code: typeof a.frame.data.code === 'string' ? a.frame.data.code : 'UNKNOWN' };
  }

  close(): void {
    this.closedForGood = true;
    this.ws?.terminate();
    for (const w of this.pending.values()) w({ kind: 'closed' });
    this.pending.clear();
  }
}

export interface PlaceOptions {
  url: string;
  connections: number;
  /** Orders per second, over all connections, for the first attempt of each order. */
  rate: number;
  /** No attempt starts after this. */
  deadline: number;
  maxAttempts?: number;
  onAccepted?: (record: OrderRecord) => void;
}

/**
 * Places every order over `connections` connections at `rate` per second, resending each until it
 * is acknowledged or the deadline/attempt budget is spent. Resolves with one record per order.
 */
export async function placeOrders(
  specs: OrderSpec[],
  opts: PlaceOptions,
): Promise<{ records: OrderRecord[]; clients: ResilientClient[] }> {
  const clients = Array.from({ length: opts.connections }, () => new ResilientClient(opts.url));
  const maxAttempts = opts.maxAttempts ?? 200;
  const started = Date.now();
  const records = specs.map((spec) => ({ spec, attempts: [] as Attempt[] }) as OrderRecord);
  try {
    await Promise.all(
      records.map(async (record, i) => {
        await sleep(Math.max(0, started + (i * 1000) / opts.rate - Date.now()));
        let backoff = 250;
        // Each order sticks to one connection slot (its reconnections included), like a real client would.
        const client = clients[i % clients.length];
        for (let n = 0; n < maxAttempts && Date.now() < opts.deadline; n++) {
          const attempt = await client.attempt(record.spec);
          record.attempts.push(attempt);
          if (attempt.outcome === 'accepted') {
            record.acceptedAt = Date.now();
            opts.onAccepted?.(record);
            return;
          }
          if (attempt.outcome === 'error' && !isRetryable(attempt.code ?? '')) {
            record.gaveUp = `refused with ${attempt.code}`;
            return;
          }
          await sleep(backoff + Math.floor(Math.random() * backoff));
          backoff = Math.min(2_000, backoff * 2);
        }
        record.gaveUp = `not acknowledged after ${record.attempts.length} attempts`;
      }),
    );
  } finally {
    for (const c of clients) c.close();
  }
  return { records, clients };
}
