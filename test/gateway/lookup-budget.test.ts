// Bounded look-ups (gateway/lookup-budget.ts): a customer flooding the gateway with look-ups of
// random ids gets BUSY (retryable, with retryAfterMs) once past its share of the gateway's Temporal
// calls, while another customer's look-ups of its own order still answer, on both transports, with
// real Kafka and Temporal. The limits are small here so that a burst of frames crosses them.
import { io, Socket } from 'socket.io-client';
import { isRetryable, SERVER_FRAME_DATA } from '../../common/protocol';
import { jwtAuth } from '../../gateway/auth';
import { OrderLookup } from '../../gateway/order-lookup';
import { Gateway, startGateway } from '../../gateway/server';
import { useStack } from '../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId, waitUntil } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';

const stack = useStack({ stepDelayMs: 0, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
const closers: Array<() => Promise<unknown> | void> = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/**
 * 8 Temporal calls at once and 24 per second in all, a customer half of each (4 at once, 12 per
 * second): a getOrder in JWT mode reserves 3 calls, 2 at once, held until it is answered (a
 * NOT_FOUND: 1 s after it was asked), so Alice's look-ups fill her share within a burst.
 */
const LIMITS = { temporalCalls: { inFlight: 8, perSecond: 24, sharePercent: 50 } };

/** A gateway of its own per transport (its own budget), over the stack's Temporal; places no orders. */
async function budgetedGateway(): Promise<Gateway> {
  const gateway = await startGateway({
    port: 0,
    producer: { publish: () => Promise.reject(new Error('this gateway places no orders')) },
    orders: new OrderLookup(stack().client),
    auth: jwtAuth({ secret: TEST_JWT_SECRET }),
    limits: LIMITS,
    log: () => undefined,
  });
  closers.push(() => gateway.close());
  return gateway;
}

/** One client on either transport: what it sends, and every frame it received. */
interface Peer {
  send(event: string, data: Record<string, unknown>): void;
  received: Frame[];
}

async function wsPeer(gateway: Gateway, customerId: string): Promise<Peer> {
  const client = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`, { token: await customerToken(customerId) });
  closers.push(() => client.close());
  return { send: (event, data) => client.send({ event, data }), received: client.received };
}

async function sioPeer(gateway: Gateway, customerId: string): Promise<Peer> {
  const socket: Socket = io(`http://127.0.0.1:${gateway.port}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: await customerToken(customerId) },
  });
  closers.push(() => void socket.disconnect());
  const received: Frame[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => received.push({ event, data }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { send: (event, data) => void socket.emit(event, data), received };
}

const answerTo = (peer: Peer, orderId: string, events: string[]): Frame | undefined =>
  peer.received.find((f) => f.data.orderId === orderId && events.includes(f.event));

const until = <T>(find: () => T | undefined, what: string): Promise<NonNullable<T>> =>
  waitUntil(find, { timeoutMs: 30_000, intervalMs: 10, what });

describe('bounded look-ups', () => {
  const bobsOrder = uniqueId('bob-own');

  beforeAll(async () => {
    // Bob's order, completed, through the stack's own gateway.
    const placing = await TestClient.connect(stack().url, { token: await customerToken('bob') });
    closers.push(() => placing.close());
    expect((await placing.placeOrder({ orderId: bobsOrder, item: 'Lamp', price: 30 })).event).toBe('orderAccepted');
    await placing.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === bobsOrder && f.data.status === 'COMPLETED',
      60_000,
    );
  });

  for (const [transport, peerOf] of [
    ['raw WebSocket', wsPeer],
    ['Socket.IO', sioPeer],
  ] as const) {
    test(`${transport}: a flood of random-id getOrder and subscribeOrder from one customer is answered BUSY (retryable, retryAfterMs) past its share, while another customer's getOrder and subscribeOrder of its own order still answer`, async () => {
      const gateway = await budgetedGateway();
      const alice = await peerOf(gateway, 'alice');
      const bob = await peerOf(gateway, 'bob');

      // Alice: 40 getOrders, then 40 subscribeOrders, of ids nobody has, in one burst.
      const gets = Array.from({ length: 40 }, () => uniqueId('flood-get'));
      const subscribes = Array.from({ length: 40 }, () => uniqueId('flood-sub'));
      for (const orderId of gets) alice.send('getOrder', { orderId });
      for (const orderId of subscribes) alice.send('subscribeOrder', { orderId, fromSeq: 1 });
      const busyFor = (ids: string[]): Frame[] =>
        ids.map((id) => answerTo(alice, id, ['error'])).filter((f): f is Frame => f?.data.code === 'BUSY');
      await until(
        () => (busyFor(gets).length > 0 && busyFor(subscribes).length > 0) || undefined,
        'BUSY answers to both kinds of look-up',
      );

      // While Alice's admitted look-ups are still waiting for their answer (a customer's NOT_FOUND takes 1 s),
      // Bob reads and follows his own order.
      bob.send('getOrder', { orderId: bobsOrder });
      bob.send('subscribeOrder', { orderId: bobsOrder, fromSeq: 1 });
      const read = await until(() => answerTo(bob, bobsOrder, ['order', 'error']), "Bob's getOrder answer");
      expect(read).toMatchObject({ event: 'order', data: { orderId: bobsOrder, status: 'COMPLETED' } });
      expect(await until(() => answerTo(bob, bobsOrder, ['subscribed', 'error']), "Bob's subscribe answer")).toEqual({
        event: 'subscribed',
        data: { orderId: bobsOrder },
      });
      await until(
        () =>
          bob.received.find(
            (f) => f.event === 'orderStatus' && f.data.orderId === bobsOrder && f.data.status === 'COMPLETED',
          ),
        "Bob's order's statuses",
      );

      // Every look-up of Alice's is answered: most BUSY, each naming its order, retryable, with a retry
      // hint, as the published schema of an error frame says; the few admitted, NOT_FOUND or subscribed.
      const answers = await until(() => {
        const all = [...gets, ...subscribes].map((id) => answerTo(alice, id, ['error', 'subscribed']));
        return all.every(Boolean) ? (all as Frame[]) : undefined;
      }, 'an answer to every look-up of the flood');
      const busy = answers.filter((f) => f.data.code === 'BUSY');
      expect(busy.length).toBeGreaterThan(answers.length / 2);
      for (const frame of busy) {
        expect(isRetryable(String(frame.data.code))).toBe(true);
        expect(frame.data.retryAfterMs).toEqual(expect.any(Number));
        expect(SERVER_FRAME_DATA.error.safeParse(frame.data).success).toBe(true);
      }
      const admitted = answers.filter((f) => f.data.code !== 'BUSY');
      for (const frame of admitted)
        expect(frame.event === 'subscribed' || frame.data.code === 'NOT_FOUND').toEqual(true);
    });
  }
});
