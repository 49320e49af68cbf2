// Pushback against clients over their rate limit, and the cap on what the gateway holds for a client
// that does not read, on a real gateway (real Kafka) and on every way in: raw WebSocket, Socket.IO
// over WebSocket and Socket.IO over long-polling. A flood gets one RATE_LIMITED notice per episode
// of an empty bucket and is closed with a policy code after repeated episodes; frames sent while a
// connection is paused wait and are read after the pause; what is queued for a client that never
// reads stays under GATEWAY_MAX_BUFFERED_BYTES, and the client is closed.
import * as http from 'node:http';
import WebSocket from 'ws';
import { io, Socket } from 'socket.io-client';
import type { GatewayLimits } from '../../common/config';
import type { Gateway } from '../../gateway/server';
import { useGatewayFixture } from '../helpers/gateway';
import { uniqueId, waitUntil, within } from '../helpers/wait';

const fixture = useGatewayFixture('order-placement-pushback');
const WAYS = ['websocket', 'socket.io websocket', 'socket.io polling'] as const;
type Way = (typeof WAYS)[number];

interface Received {
  event: string;
  data: Record<string, unknown>;
}

/** A client on one way in: sends `{event, data}` frames, records every frame it gets and how it ended. */
interface WayClient {
  send(event: string, data: Record<string, unknown>): void;
  received: Received[];
  /** Resolves when the gateway closed it: `1008 <reason>` (raw WebSocket) or the Socket.IO disconnect reason. */
  ended: Promise<string>;
  open(): boolean;
  /** Stops reading from the gateway (the TCP socket under it is paused), and starts again. */
  stopReading(): void;
  resumeReading(): void;
  close(): void;
}

const clients: WayClient[] = [];
afterAll(() => clients.forEach((c) => c.close()));

async function connectRaw(port: number): Promise<WayClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const received: Received[] = [];
  ws.on('message', (raw) => received.push(JSON.parse(raw.toString()) as Received));
  ws.on('error', () => undefined);
  const ended = new Promise<string>((resolve) => ws.once('close', (code, reason) => resolve(`${code} ${reason}`)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    send: (event, data) => ws.send(JSON.stringify({ event, data })),
    received,
    ended,
    open: () => ws.readyState === WebSocket.OPEN,
    stopReading: () => (ws as unknown as { _socket: { pause(): void } })._socket.pause(),
    resumeReading: () => (ws as unknown as { _socket: { resume(): void } })._socket.resume(),
    close: () => ws.terminate(),
  };
}

/** The TCP socket under a socket.io-client connection on the WebSocket transport. */
function tcpSocketOf(socket: Socket): { pause(): void; resume(): void } {
  const engine = socket.io.engine as unknown as { transport: { ws?: { _socket: { pause(): void; resume(): void } } } };
  if (!engine.transport.ws) throw new Error('only a WebSocket transport can stop reading here');
  return engine.transport.ws._socket;
}

async function connectSocketIo(port: number, transport: 'websocket' | 'polling'): Promise<WayClient> {
  const socket: Socket = io(`http://127.0.0.1:${port}`, { transports: [transport], reconnection: false });
  const received: Received[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => received.push({ event, data }));
  const ended = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    send: (event, data) => socket.emit(event, data),
    received,
    ended,
    open: () => socket.connected,
    stopReading: () => tcpSocketOf(socket).pause(),
    resumeReading: () => tcpSocketOf(socket).resume(),
    close: () => socket.disconnect(),
  };
}

async function connect(way: Way, port: number): Promise<WayClient> {
  const client =
    way === 'websocket'
      ? await connectRaw(port)
      : await connectSocketIo(port, way === 'socket.io websocket' ? 'websocket' : 'polling');
  clients.push(client);
  return client;
}

const notices = (c: WayClient): Received[] =>
  c.received.filter((f) => f.event === 'error' && f.data.code === 'RATE_LIMITED');

/** The gateway answers getOrder without Temporal with TEMPORAL_UNAVAILABLE naming the order: a cheap answer per frame. */
const answered = (c: WayClient): Received[] =>
  c.received.filter((f) => f.event === 'error' && f.data.code === 'TEMPORAL_UNAVAILABLE');

function startGateway(limits: Partial<GatewayLimits>): Promise<Gateway> {
  return fixture.start({ limits: { perIp: { maxConnections: 0, handshakesPerSecond: 0 }, ...limits } });
}

describe('pushback over the rate limit', () => {
  test.each(WAYS)(
    '%s: a flood gets one RATE_LIMITED notice per episode and is closed with a policy code after repeated episodes',
    async (way) => {
      const rate = { burst: 5, perSecond: 2 };
      const gw = await startGateway({ rateLimit: rate, rateAbuse: { episodes: 3, windowMs: 60_000 } });
      const client = await connect(way, gw.port);
      // 20 frames every 50 ms, for at most 15 s: far over 2/s.
      let sent = 0;
      const started = Date.now();
      const flood = setInterval(() => {
        if (!client.open() || sent >= 6_000) return;
        for (let i = 0; i < 20; i++) client.send('getOrder', { orderId: `flood-${sent++}` });
      }, 50);
      try {
        const ending = await within(client.ended, 20_000, 'the gateway to close the flooding client');
        expect(ending).toBe(way === 'websocket' ? '1008 rate limit exceeded repeatedly' : 'io server disconnect');
      } finally {
        clearInterval(flood);
      }
      const floodSeconds = (Date.now() - started) / 1000;
      // Three episodes, one notice each; the last says the connection closes.
      expect(notices(client)).toHaveLength(3);
      expect(notices(client)[2].data.message).toContain('closing the connection');
      // The burst, then frames read again after each pause (a token back each time); never more than
      // the bucket allows over the flood, of the hundreds sent.
      expect(answered(client).length).toBeGreaterThan(rate.burst);
      expect(answered(client).length).toBeLessThanOrEqual(rate.burst + Math.ceil(rate.perSecond * floodSeconds));
      expect(sent).toBeGreaterThan(100);
      await waitUntil(() => gw.connectionCount() === 0, { what: 'the connection to be freed' });
    },
  );

  test.each(WAYS)(
    '%s: a frame sent while the connection is paused waits and is read once a token is back',
    async (way) => {
      // One frame at once, one per second: the pause after the second frame lasts about a second.
      const gw = await startGateway({
        rateLimit: { burst: 1, perSecond: 1 },
        rateAbuse: { episodes: 100, windowMs: 60_000 },
      });
      const client = await connect(way, gw.port);
      const [a, b, c] = ['a', 'b', 'c'].map((name) => uniqueId(`paused-${name}`));
      client.send('getOrder', { orderId: a });
      client.send('getOrder', { orderId: b });
      await waitUntil(() => notices(client).find((f) => f.data.orderId === b), { what: "b's RATE_LIMITED notice" });
      // Sent at once on the notice, so it reaches the gateway during the pause: it is not read (and
      // so not dropped) until a token is back.
      client.send('getOrder', { orderId: c });
      await waitUntil(() => answered(client).find((f) => f.data.orderId === c), {
        timeoutMs: 10_000,
        what: "c's answer after the pause",
      });
      expect(answered(client).map((f) => f.data.orderId)).toEqual([a, c]);
      expect(notices(client)).toHaveLength(1);
      expect(client.open()).toBe(true);
    },
  );
});

/** One HTTP request to the gateway; resolves with its status and body. */
function request(port: number, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'text/plain;charset=UTF-8' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A Socket.IO client over long-polling, by hand: it connects and follows `orderId`, then never polls
 * again (so nothing it is sent ever leaves the gateway). Resolves with its session id.
 */
async function pollingClientThatStopsPolling(port: number, orderId: string): Promise<string> {
  const base = '/socket.io/?EIO=4&transport=polling';
  const open = await request(port, base);
  const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
  const session = `${base}&sid=${sid}`;
  expect((await request(port, session, '40')).status).toBe(200);
  expect((await request(port, session)).body).toContain('40{"sid"');
  expect((await request(port, session, `42${JSON.stringify(['subscribeOrder', { orderId }])}`)).status).toBe(200);
  expect((await request(port, session)).body).toContain('"subscribed"');
  return sid;
}

describe('a client that never reads', () => {
  test.each(WAYS)(
    '%s: what the gateway holds for it stays under GATEWAY_MAX_BUFFERED_BYTES, and it is closed',
    async (way) => {
      const cap = 64 * 1024;
      const gw = await startGateway({ maxBufferedBytes: cap });
      const orderId = uniqueId('never-reads');
      let client: WayClient | undefined;
      if (way === 'socket.io polling') {
        await pollingClientThatStopsPolling(gw.port, orderId);
      } else {
        client = await connect(way, gw.port);
        client.send('subscribeOrder', { orderId });
        await waitUntil(() => client?.received.find((f) => f.event === 'subscribed'), { what: 'the subscription' });
        client.stopReading();
      }
      expect(gw.connectionCount()).toBe(1);
      // 2 000 status events of 16 KiB each (32 MiB), the gateway's queued bytes read after each one.
      const EVENTS = 2_000;
      const detail = 'x'.repeat(16 * 1024);
      let most = 0;
      for (let seq = 1; seq <= EVENTS; seq++) {
        gw.deliverStatus({ orderId, status: 'VALIDATING', seq, at: seq, detail });
        most = Math.max(most, gw.bufferedBytes());
        if (seq % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(cap);
      // It was closed: once it reads again, it finds the close after a small part of the events.
      if (client) {
        client.resumeReading();
        const ending = await within(client.ended, 60_000, 'the close');
        expect(ending).toBe(way === 'websocket' ? '1008 reader too slow' : 'transport close');
        const got = client.received.filter((f) => f.event === 'orderStatus').length;
        expect(got).toBeLessThan(EVENTS / 2);
      }
      await waitUntil(() => gw.connectionCount() === 0 && gw.subscriptionCount() === 0, {
        what: 'the client to be closed and its subscription freed',
      });
    },
  );
});
