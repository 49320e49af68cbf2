// Socket.IO clients (socket.io-client, as the seed's NestJS gateway had them) on the gateway port, on
// the whole pipeline: the seed payload answered through the ack and as an event, every status to
// COMPLETED, subscribe/get/cancel; the same validation, rate limit (pushback) and auth as raw WebSocket clients.
import { io, Socket } from 'socket.io-client';
import { workflowIdFor } from '../../common/order';
import { jwtAuth } from '../../gateway/auth';
import { startStack, Stack } from '../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId, waitUntil } from '../helpers/wait';

/** Long enough between steps to cancel before shipping starts. */
const STEP_DELAY_MS = 1500;
const HAPPY = ['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CHARGING', 'CHARGED', 'SHIPPING', 'SHIPPED', 'COMPLETED'];
let open: Stack;
let secured: Stack;
const sockets: Socket[] = [];

beforeAll(async () => {
  open = await startStack({ stepDelayMs: STEP_DELAY_MS });
  secured = await startStack({ stepDelayMs: 100, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await open?.stop();
  await secured?.stop();
});

interface Received {
  event: string;
  data: Record<string, unknown>;
}

/** A socket.io-client connection that records every event it receives. */
async function connect(
  stack: Stack,
  opts: { token?: string; transports?: string[] } = {},
): Promise<{ socket: Socket; received: Received[] }> {
  const socket = io(`http://127.0.0.1:${stack.gateway.port}`, {
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    auth: opts.token ? { token: opts.token } : {},
  });
  sockets.push(socket);
  const received: Received[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => received.push({ event, data }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, received };
}

const until = <T>(find: () => T | undefined, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> =>
  waitUntil(find, { timeoutMs, intervalMs: 25, what });

const statusesOf = (received: Received[], orderId: string): Received['data'][] =>
  received.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId).map((f) => f.data);

describe('Socket.IO transport', () => {
  test("the seed's payload is answered through the ack and as orderAccepted, then every status to COMPLETED", async () => {
    const { socket, received } = await connect(open);
    const seed = { orderId: '#102', item: 'Mechanical Keyboard', price: 150 };
    const ack = await socket.timeout(30_000).emitWithAck('placeOrder', seed);
    const accepted = { event: 'orderAccepted', data: { orderId: '#102', workflowId: 'order-#102' } };
    expect(ack).toEqual(accepted);
    expect(received).toContainEqual(accepted);
    await until(
      () =>
        received.find((f) => f.event === 'orderStatus' && f.data.orderId === '#102' && f.data.status === 'COMPLETED'),
      'COMPLETED',
    );
    const events = statusesOf(received, '#102');
    expect(events.map((e) => e.status)).toEqual(HAPPY);
    expect(events.map((e) => e.seq)).toEqual(HAPPY.map((_, i) => i + 1));

    // getOrder and subscribeOrder (from a second client, long-polling this time) on the same order.
    const second = await connect(open, { transports: ['polling'] });
    const view = await second.socket.timeout(30_000).emitWithAck('getOrder', { orderId: '#102' });
    expect(view).toMatchObject({ event: 'order', data: { orderId: '#102', status: 'COMPLETED' } });
    const subscribed = await second.socket
      .timeout(30_000)
      .emitWithAck('subscribeOrder', { orderId: '#102', fromSeq: 6 });
    expect(subscribed).toEqual({ event: 'subscribed', data: { orderId: '#102' } });
    await until(() => (statusesOf(second.received, '#102').length === 3 ? true : undefined), 'the missed statuses');
    expect(statusesOf(second.received, '#102').map((e) => e.status)).toEqual(HAPPY.slice(5));
    expect(open.ledger.lines().filter((e) => e.orderId === '#102' && e.kind === 'charge')).toHaveLength(1);
  });

  test('cancelOrder before shipping: orderCancelled through the ack and as an event, the order ends CANCELLED and is refunded', async () => {
    const { socket, received } = await connect(open);
    const orderId = uniqueId('sio-cancel');
    expect(
      await socket.timeout(30_000).emitWithAck('placeOrder', { orderId, item: 'Standing desk', price: 420 }),
    ).toMatchObject({ event: 'orderAccepted' });
    await until(
      () =>
        received.find((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'CHARGED'),
      'CHARGED',
    );
    const answer = await socket.timeout(60_000).emitWithAck('cancelOrder', { orderId });
    expect(answer).toEqual({ event: 'orderCancelled', data: { orderId } });
    expect(received).toContainEqual(answer);
    await until(
      () =>
        received.find((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'CANCELLED'),
      'CANCELLED',
    );
    expect(statusesOf(received, orderId).map((e) => e.status)).not.toContain('SHIPPING');
    expect(open.ledger.lines().filter((e) => e.orderId === orderId && e.kind === 'refund')).toHaveLength(1);
  });

  test('the same validation and errors as raw WebSocket clients: an error event and ack, nothing stored', async () => {
    const { socket, received } = await connect(open);
    const bad = await socket.timeout(10_000).emitWithAck('placeOrder', { orderId: 'sio-bad', item: 'Lamp', price: -1 });
    expect(bad).toMatchObject({ event: 'error', data: { code: 'INVALID_ORDER', field: 'price', orderId: 'sio-bad' } });
    expect(received).toContainEqual(bad);
    expect(await socket.timeout(10_000).emitWithAck('noSuchEvent', {})).toMatchObject({
      event: 'error',
      data: { code: 'UNKNOWN_EVENT' },
    });
    expect(await socket.timeout(10_000).emitWithAck('placeOrder', Buffer.from('binary'))).toMatchObject({
      event: 'error',
      data: { code: 'BAD_FRAME' },
    });
    expect(await socket.timeout(10_000).emitWithAck('getOrder', { orderId: uniqueId('nosuch') })).toMatchObject({
      event: 'error',
      data: { code: 'NOT_FOUND' },
    });
  });

  test('the same rate limit: a burst beyond the token bucket is answered up to the burst, with one RATE_LIMITED notice per pause, not one per frame', async () => {
    const { socket, received } = await connect(open);
    // 300 requests at once against a burst of 200 (refilled at 100/s).
    for (let i = 0; i < 300; i++) socket.emit('getOrder', { orderId: 'x y' });
    const invalid = (): number => received.filter((f) => f.data.code === 'INVALID_REQUEST').length;
    const limited = (): number => received.filter((f) => f.data.code === 'RATE_LIMITED').length;
    await until(() => (invalid() >= 200 && limited() >= 1 ? true : undefined), 'the burst answered and a notice');
    // Read after the pause: by its answer, every request before it was answered or dropped.
    expect(await socket.timeout(10_000).emitWithAck('getOrder', { orderId: 'x y' })).toMatchObject({
      data: { code: 'INVALID_REQUEST' },
    });
    expect(invalid() - 1).toBeGreaterThanOrEqual(200);
    expect(invalid() - 1 + limited()).toBeLessThan(300);
    expect(socket.connected).toBe(true);
  });

  test('the same auth: no token or a bad one ends in connect_error; with a token, only the customer’s own orders', async () => {
    await expect(connect(secured)).rejects.toThrow('unauthorized');
    await expect(connect(secured, { token: await customerToken('alice', { expiresInS: -10 }) })).rejects.toThrow(
      'unauthorized',
    );
    await expect(connect(secured, { token: 'garbage' })).rejects.toThrow('unauthorized');
    // Longer-lived than GATEWAY_JWT_MAX_LIFETIME_S (a day by default).
    await expect(connect(secured, { token: await customerToken('alice', { expiresInS: 2 * 86_400 }) })).rejects.toThrow(
      'unauthorized',
    );

    const alice = await connect(secured, { token: await customerToken('alice') });
    const bob = await connect(secured, { token: await customerToken('bob') });
    const orderId = uniqueId('sio-own');
    expect(
      await alice.socket.timeout(30_000).emitWithAck('placeOrder', { orderId, item: 'Mouse', price: 20 }),
    ).toMatchObject({ event: 'orderAccepted' });
    await until(
      () =>
        alice.received.find(
          (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED',
        ),
      'COMPLETED',
    );
    const bobGet = await bob.socket.timeout(30_000).emitWithAck('getOrder', { orderId });
    expect(bobGet).toEqual({ event: 'error', data: { code: 'NOT_FOUND', message: `no order ${orderId}`, orderId } });
    // The owner comes only from the token: a customerId in placeOrder is refused, even the token's own.
    expect(
      await alice.socket
        .timeout(30_000)
        .emitWithAck('placeOrder', { orderId: uniqueId('sio-spoof'), item: 'Mouse', price: 20, customerId: 'alice' }),
    ).toMatchObject({ event: 'error', data: { code: 'CUSTOMER_ID_NOT_ALLOWED', field: 'customerId' } });
  });

  test("two customers placing the seed's #101 each get their own order to COMPLETED, charged once each, on the ledger", async () => {
    const customers = [uniqueId('sio-alice'), uniqueId('sio-bob')];
    const orderId = '#101';
    const placed = await Promise.all(
      customers.map(async (customerId, i) => {
        const { socket, received } = await connect(secured, { token: await customerToken(customerId) });
        const ack = (await socket
          .timeout(30_000)
          .emitWithAck('placeOrder', { orderId, item: 'Mechanical Keyboard', price: 150 + i })) as Received;
        expect(ack).toMatchObject({ event: 'orderAccepted', data: { orderId } });
        return { received, workflowId: ack.data.workflowId as string, socket };
      }),
    );
    expect(placed.map((p) => p.workflowId)).toEqual(
      customers.map((customerId) => workflowIdFor({ orderId, customerId, idScope: 'customer' })),
    );
    for (const { received } of placed) {
      await until(
        () =>
          received.find(
            (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED',
          ),
        'COMPLETED',
      );
      expect(statusesOf(received, orderId).map((e) => e.status)).toEqual(HAPPY);
    }
    for (const [i, { socket, workflowId }] of placed.entries()) {
      const view = await socket.timeout(30_000).emitWithAck('getOrder', { orderId });
      expect(view).toMatchObject({ event: 'order', data: { orderId, workflowId, status: 'COMPLETED' } });
      const charges = secured.ledgerLines(orderId).filter((e) => e.kind === 'charge');
      expect(charges.filter((e) => e.idempotencyKey.startsWith(`${workflowId}:`)).map((e) => e.amount)).toEqual([
        150 + i,
      ]);
    }
  });

  test('a Socket.IO session whose token expires gets TOKEN_EXPIRED and is disconnected', async () => {
    const { socket, received } = await connect(secured, { token: await customerToken('alice', { expiresInS: 2 }) });
    const reason = await new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    expect(received).toContainEqual({ event: 'error', data: expect.objectContaining({ code: 'TOKEN_EXPIRED' }) });
  });

  test('a Socket.IO packet above 64 KiB closes the connection, as 1009 does on the raw WebSocket', async () => {
    const { socket } = await connect(open);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('placeOrder', { orderId: 'sio-big', item: 'x'.repeat(70_000), price: 1 });
    expect(await gone).toBe('transport close');
  });
});
