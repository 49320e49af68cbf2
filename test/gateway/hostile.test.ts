// Hostile WebSocket input against a gateway on real Kafka: authentication and Origin checks at the
// upgrade, rate limiting, the connection cap, dead-peer heartbeat, and a fuzz of 10 000 malformed
// frames that must each get an error (or the right close code) and write nothing to Kafka.
import * as crypto from 'node:crypto';
import WebSocket from 'ws';
import { sharedTokenAuth } from '../../gateway/auth';
import { OrderProducer } from '../../gateway/order-producer';
import { upgradeStatus, useGatewayFixture, type UpgradeOptions } from '../helpers/gateway';
import { createTopic, deleteTopics, readAll } from '../helpers/kafka';
import { uniqueId, waitUntil, within } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const fixture = useGatewayFixture('order-placement-hostile');
const { kafka } = fixture;
const gatewayWith = fixture.start;

/** The HTTP status of an upgrade to the gateway on `port` (101 when it opened). */
const upgradeTo = (port: number, opts: UpgradeOptions & { path?: string } = {}): Promise<number> =>
  upgradeStatus(`ws://127.0.0.1:${port}${opts.path ?? '/'}`, opts);

describe('gateway under hostile input', () => {
  test('with a shared token, an upgrade without it is refused 401 before any WebSocket exists', async () => {
    const gw = await gatewayWith({ auth: sharedTokenAuth('s3cret-token') });
    expect(await upgradeTo(gw.port)).toBe(401);
    expect(await upgradeTo(gw.port, { headers: { authorization: 'Bearer wrong-token!' } })).toBe(401);
    expect(await upgradeTo(gw.port, { headers: { authorization: 'Bearer s3cret-token' } })).toBe(101);
    // Never from the query string (proxy logs, browser history): test/gateway/shared-token.test.ts.
    expect(await upgradeTo(gw.port, { path: '/?token=s3cret-token' })).toBe(401);
  });

  test('with an Origin allow-list, other origins are refused 403', async () => {
    const gw = await gatewayWith({ allowedOrigins: ['http://127.0.0.1:3000'] });
    expect(await upgradeTo(gw.port, { headers: { origin: 'http://evil.example' } })).toBe(403);
    expect(await upgradeTo(gw.port, { headers: { origin: 'http://127.0.0.1:3000' } })).toBe(101);
  });

  test('connections above the cap are refused 503', async () => {
    const gw = await gatewayWith({ limits: { maxConnections: 2 } });
    const a = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    const b = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    expect(await upgradeTo(gw.port)).toBe(503);
    await a.close();
    await b.close();
  });

  test('a connection sending faster than its token bucket gets one RATE_LIMITED (naming the first refused order), writes nothing for the refused frames, and stays open', async () => {
    const topic = await createTopic(kafka, 'order-placement-ratelimit');
    const ownProducer = new OrderProducer(kafka, 5_000, topic);
    await ownProducer.connect();
    try {
      const gw = await gatewayWith({ producer: ownProducer, limits: { rateLimit: { burst: 5, perSecond: 2 } } });
      const c = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
      const ids = Array.from({ length: 20 }, (_, i) => `${uniqueId('rl')}-${i}`);
      // All 20 in one write, so the gateway reads them at once.
      const tcp = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      tcp.cork();
      for (const orderId of ids) c.send({ event: 'placeOrder', data: { orderId, item: 'Mouse', price: 5 } });
      tcp.uncork();
      const answers = await Promise.all(ids.slice(0, 6).map((orderId) => c.waitFor((f) => f.data.orderId === orderId)));
      expect(answers.map((a) => a.event)).toEqual([...ids.slice(0, 5).map(() => 'orderAccepted'), 'error']);
      expect(answers[5].data.code).toBe('RATE_LIMITED');
      // A frame sent after the notice is read once a token is back; by its answer every frame before
      // it was decided, and the 14 after the refused one were dropped unanswered.
      const after = uniqueId('rl-after');
      expect((await c.placeOrder({ orderId: after, item: 'Mouse', price: 5 })).event).toBe('orderAccepted');
      expect(c.received.filter((f) => ids.slice(6).includes(f.data.orderId as string))).toEqual([]);
      expect(c.received.filter((f) => f.data.code === 'RATE_LIMITED')).toHaveLength(1);
      // Only the accepted orders are in Kafka.
      expect((await readAll(kafka, topic)).map((m) => m.key).sort()).toEqual([...ids.slice(0, 5), after].sort());
      expect(c.closed).toBeUndefined();
      await c.close();
    } finally {
      await ownProducer.disconnect();
      await deleteTopics(kafka, [topic]);
    }
  });

  test('a reader too far behind is closed with 1008 instead of being buffered for without bound', async () => {
    const gw = await gatewayWith({ limits: { maxBufferedBytes: 64 * 1024 } });
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}`);
    const frames: string[] = [];
    ws.on('message', (raw) => frames.push(raw.toString()));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    const orderId = uniqueId('slow');
    ws.send(JSON.stringify({ event: 'subscribeOrder', data: { orderId } }));
    await waitUntil(() => frames.some((f) => f.includes('"subscribed"')), { what: 'the subscription' });
    // Stop reading: what the gateway sends piles up in the socket buffers, then in its own.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const EVENTS = 2_000;
    const detail = 'x'.repeat(16 * 1024);
    for (let seq = 1; seq <= EVENTS; seq++) gw.deliverStatus({ orderId, status: 'VALIDATING', seq, at: seq, detail });
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await within(closed, 30_000, 'the close')).toBe(1008);
    // It stopped sending long before the end: the 32 MB were never all buffered.
    expect(frames.filter((f) => f.includes('"orderStatus"')).length).toBeLessThan(EVENTS / 2);
    await waitUntil(() => gw.connectionCount() === 0, { what: 'the connection to be freed' });
    expect(gw.subscriptionCount()).toBe(0);
  });

  test('a peer that stops answering pings is terminated by the heartbeat', async () => {
    const gw = await gatewayWith({ timeouts: { heartbeatMs: 100 } });
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}`);
    await new Promise((resolve) => ws.once('open', resolve));
    expect(gw.connectionCount()).toBe(1);
    // Stop reading: pings are never seen, so no pong goes back.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitUntil(() => gw.connectionCount() === 0, {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'the connections to be freed',
    });
    ws.terminate();
  });

  // --- fuzz ---------------------------------------------------------------------------------------

  /** A small deterministic PRNG (mulberry32), so a failing run can be repeated. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  type Fuzz = { payload: string | Buffer; binary: boolean; expectClose?: number };

  function fuzzFrame(rand: () => number): Fuzz {
    const valid = { event: 'placeOrder', data: { orderId: 'fz', item: 'Keyboard', price: 10 } };
    const pick = Math.floor(rand() * 12);
    const text = JSON.stringify(valid);
    switch (pick) {
      case 0:
        return { payload: text.slice(0, Math.floor(rand() * (text.length - 1))), binary: false }; // truncated JSON
      case 1:
        return { payload: crypto.randomBytes(1 + Math.floor(rand() * 64)), binary: true }; // binary frame
      case 2: {
        const depth = 50 + Math.floor(rand() * 5000);
        return { payload: `{"event":"placeOrder","data":${'['.repeat(depth)}${']'.repeat(depth)}}`, binary: false };
      }
      case 3:
        return {
          payload: JSON.stringify({ ...valid, data: { ...valid.data, price: 10 ** (20 + Math.floor(rand() * 280)) } }),
          binary: false,
        };
      case 4:
        return { payload: text.replace('{"orderId"', '{"__proto__":{"isAdmin":true},"orderId"'), binary: false };
      case 5:
        return {
          payload: JSON.stringify({
            event: 'placeOrder',
            data: { ...valid.data, constructor: { prototype: { x: 1 } } },
          }),
          binary: false,
        };
      case 6:
        return { payload: text.replace('Keyboard', 'Key\\ud800board'), binary: false }; // lone surrogate (escaped)
      case 7:
        return {
          payload: JSON.stringify({ event: 'x'.repeat(1 + Math.floor(rand() * 100)), data: null }),
          binary: false,
        };
      case 8:
        return { payload: JSON.stringify([rand(), null, 'placeOrder']), binary: false };
      case 9:
        return {
          payload: JSON.stringify({
            ...valid,
            data: { ...valid.data, item: 'x'.repeat(201 + Math.floor(rand() * 30_000)) },
          }),
          binary: false,
        };
      case 10:
        return {
          payload: JSON.stringify({
            ...valid,
            data: { ...valid.data, price: ['NaN', -1, 0, '1e999', true][Math.floor(rand() * 5)] },
          }),
          binary: false,
        };
      default:
        return {
          payload: String.fromCharCode(
            ...Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 0xd7ff)),
          ),
          binary: false,
        };
    }
  }

  /** Frames that end a connection: one above maxPayload (1009), and invalid UTF-8 in a text frame (1007). */
  function closingFrame(rand: () => number): Fuzz {
    if (rand() < 0.5) return { payload: 'x'.repeat(1024 * 1024), binary: false, expectClose: 1009 };
    return { payload: Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0xfe, 0x7d]), binary: false, expectClose: 1007 };
  }

  test('10 000 random and malformed frames: each gets an error or the right close, nothing reaches Kafka, the gateway stays up', async () => {
    const gw = await gatewayWith({ limits: { rateLimit: { burst: 100_000, perSecond: 100_000 } } });
    const rand = prng(20261125);
    const before = await fixture.stored();
    const TOTAL = 10_000;
    const CONNECTIONS = 5;
    const PER_CONNECTION_BATCH = 400; // frames sent on one connection before it is ended with a closing frame
    let sent = 0;
    let answered = 0;
    let closesAsExpected = 0;
    const heapBefore = process.memoryUsage().heapUsed;

    const worker = async (): Promise<void> => {
      while (sent < TOTAL) {
        // Reserve this batch before awaiting, so concurrent workers never overshoot or send empty batches.
        const batch = Math.min(PER_CONNECTION_BATCH, TOTAL - sent);
        sent += batch;
        const c = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
        for (let i = 0; i < batch; i++) {
          const f = fuzzFrame(rand);
          c.ws.send(f.payload, { binary: f.binary });
        }
        await c.waitFor(() => c.received.length === batch, 60_000);
        expect(
          c.received.every(
            (f) => f.event === 'error' && typeof f.data.code === 'string' && typeof f.data.message === 'string',
          ),
        ).toBe(true);
        answered += c.received.length;
        const closing = closingFrame(rand);
        const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
        c.ws.send(closing.payload, { binary: false });
        if ((await closed) === closing.expectClose) closesAsExpected += 1;
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, () => worker()));

    expect(answered).toBe(TOTAL);
    expect(closesAsExpected).toBe(Math.ceil(TOTAL / PER_CONNECTION_BATCH));
    expect(await fixture.stored()).toBe(before);
    // Still serving, and holding nothing for the connections that are gone.
    const c = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    expect(
      (await c.placeOrder({ orderId: `after-fuzz-${crypto.randomUUID().slice(0, 6)}`, item: 'Mouse', price: 5 })).event,
    ).toBe('orderAccepted');
    await c.close();
    await waitUntil(() => gw.connectionCount() === 0, {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'the connections to be freed',
    });
    expect(gw.subscriptionCount()).toBe(0);
    process.stderr.write(
      `fuzz: ${TOTAL} frames, heap ${(heapBefore / 1e6).toFixed(1)} MB before, ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB after\n`,
    );
  });
});
