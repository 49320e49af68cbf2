// OrderClient's onAttempt hook: each placeOrder attempt is reported once with its outcome (accepted,
// error with its code, closed, timeout, not-connected), and the bounds on attempts end the order.
// The socket is scripted (cli/socket replaced) so every outcome can be produced on demand.
import type { SocketHandlers } from '../../cli/socket';
import { OrderClient, type Attempt, type ClientOptions } from '../../cli/order-client';
import { waitUntil } from '../helpers/wait';

interface Gateway {
  /** Frames the client sent, parsed. */
  sent: { event: string; data: Record<string, unknown> }[];
  handlers?: SocketHandlers;
  /** How many upcoming connects fail. */
  refuse: number;
  /** Called (on the next turn of the event loop, before any timer can fire) after the n-th placeOrder is sent. */
  onPlaced?: (n: number) => void;
}
const gw: Gateway = { sent: [], refuse: 0 };

jest.mock('../../cli/socket', () => ({
  openSocket: (url: string, _token: unknown, handlers: SocketHandlers) => {
    if (gw.refuse > 0) {
      gw.refuse -= 1;
      return Promise.reject(new Error(`cannot connect to ${url}: refused`));
    }
    gw.handlers = handlers;
    const socket = {
      readyState: 1, // OPEN
      send: (text: string) => {
        const frame = JSON.parse(text) as Gateway['sent'][number];
        gw.sent.push(frame);
        if (frame.event === 'placeOrder' && gw.onPlaced) {
          const n = placed();
          const hook = gw.onPlaced;
          setImmediate(() => hook(n));
        }
      },
      close: () => undefined,
      removeAllListeners: () => undefined,
    };
    return Promise.resolve(socket);
  },
}));

const ORDER = { orderId: 'o-1', item: 'USB cable', price: 9.5, quantity: 1 };
const FAST: ClientOptions = { backoffMs: 5, maxBackoffMs: 10, framesPerSecond: 1000 };

const answer = (event: string, data: Record<string, unknown>): void =>
  gw.handlers?.onMessage(JSON.stringify({ event, data }));
const placed = (): number => gw.sent.filter((f) => f.event === 'placeOrder').length;
const outcomes = (attempts: Attempt[]): string[] => attempts.map((a) => a.outcome + (a.code ? `:${a.code}` : ''));

let client: OrderClient | undefined;
async function connected(opts: ClientOptions): Promise<OrderClient> {
  client = new OrderClient('ws://127.0.0.1:1', { ...FAST, ...opts });
  await client.connect();
  return client;
}

beforeEach(() => {
  gw.sent = [];
  gw.handlers = undefined;
  gw.refuse = 0;
  gw.onPlaced = undefined;
});
afterEach(() => client?.close());

describe('OrderClient onAttempt', () => {
  test('an acknowledged placeOrder is one attempt, accepted, timed from when it was sent', async () => {
    const c = await connected({});
    const attempts: Attempt[] = [];
    const before = Date.now();
    const result = c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    await waitUntil(() => placed() === 1);
    answer('orderAccepted', { orderId: ORDER.orderId, workflowId: 'order-o-1' });
    expect((await result).kind).toBe('accepted');
    expect(outcomes(attempts)).toEqual(['accepted']);
    expect(attempts[0].at).toBeGreaterThanOrEqual(before);
    expect(attempts[0].at).toBeLessThanOrEqual(Date.now());
  });

  test('a retryable error is an error attempt with its code, then the order is resent and accepted', async () => {
    const c = await connected({});
    const attempts: Attempt[] = [];
    const result = c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    await waitUntil(() => placed() === 1);
    answer('error', { orderId: ORDER.orderId, code: 'KAFKA_UNAVAILABLE', message: 'not stored' });
    await waitUntil(() => placed() === 2);
    answer('orderAccepted', { orderId: ORDER.orderId, workflowId: 'order-o-1' });
    expect((await result).kind).toBe('accepted');
    expect(outcomes(attempts)).toEqual(['error:KAFKA_UNAVAILABLE', 'accepted']);
  });

  test('place (the CLI) reports attempts too; a refusal ends the order with one error attempt', async () => {
    const c = await connected({});
    const attempts: Attempt[] = [];
    const result = c.place(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    await waitUntil(() => placed() === 1);
    answer('error', { orderId: ORDER.orderId, code: 'INVALID_ORDER', message: 'price', field: 'price' });
    expect((await result).kind).toBe('error');
    expect(outcomes(attempts)).toEqual(['error:INVALID_ORDER']);
    expect(placed()).toBe(1);
  });

  test('an unanswered placeOrder is a timeout attempt and is sent again', async () => {
    const c = await connected({ answerTimeoutMs: 30 });
    const attempts: Attempt[] = [];
    // The first send goes unanswered; the resend is answered at once, before its own timeout can
    // fire however slow the machine (an answer racing a timeout would make the count vary).
    gw.onPlaced = (n) => {
      if (n === 2) answer('orderAccepted', { orderId: ORDER.orderId, workflowId: 'order-o-1' });
    };
    const result = c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    expect((await result).kind).toBe('accepted');
    expect(outcomes(attempts)).toEqual(['timeout', 'accepted']);
    expect(placed()).toBe(2);
  });

  test('a connection lost while waiting is a closed attempt, a failed reconnect a not-connected one', async () => {
    const c = await connected({});
    const attempts: Attempt[] = [];
    const result = c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    await waitUntil(() => placed() === 1);
    gw.refuse = 1;
    gw.handlers?.onClose(1006, '');
    await waitUntil(() => placed() === 2); // reconnected (the second try) and resent
    answer('orderAccepted', { orderId: ORDER.orderId, workflowId: 'order-o-1' });
    expect((await result).kind).toBe('accepted');
    expect(outcomes(attempts)).toEqual(['closed', 'not-connected', 'accepted']);
  });

  test('an order whose connection was lost while the client was idle reconnects and is placed', async () => {
    const c = await connected({});
    gw.handlers?.onClose(1006, '');
    const attempts: Attempt[] = [];
    const result = c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    await waitUntil(() => placed() === 1);
    answer('orderAccepted', { orderId: ORDER.orderId, workflowId: 'order-o-1' });
    expect((await result).kind).toBe('accepted');
    expect(outcomes(attempts)).toEqual(['accepted']);
  });

  test('maxAttempts ends the order gave-up after that many attempts', async () => {
    const c = await connected({ answerTimeoutMs: 20, maxAttempts: 2 });
    const attempts: Attempt[] = [];
    const result = await c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    expect(result).toMatchObject({ kind: 'gave-up', attempts: 2 });
    expect(outcomes(attempts)).toEqual(['timeout', 'timeout']);
    expect(placed()).toBe(2);
  });

  test('no attempt starts at or after attemptDeadline', async () => {
    const c = await connected({ attemptDeadline: Date.now() - 1 });
    const attempts: Attempt[] = [];
    const result = await c.submit(ORDER, 5_000, { onAttempt: (a) => attempts.push(a) });
    expect(result).toMatchObject({ kind: 'gave-up', attempts: 0 });
    expect(attempts).toEqual([]);
    expect(placed()).toBe(0);
  });

  test('an attempt still waiting when the order times out is reported as a timeout', async () => {
    const c = await connected({});
    const attempts: Attempt[] = [];
    const result = await c.submit(ORDER, 50, { onAttempt: (a) => attempts.push(a) });
    expect(result.kind).toBe('timeout');
    expect(outcomes(attempts)).toEqual(['timeout']);
  });
});
