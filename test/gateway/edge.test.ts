// The gateway's edge against clients that never authenticate, on both transports (raw WebSocket and
// Socket.IO), on real Kafka: bare Engine.IO handshakes neither count as connections nor outlive a
// few seconds; per-address caps on open connections and on handshakes per second; the gateway's own
// origin only (Origin host = Host) unless an allow-list says otherwise, with CORS following it;
// a Host allow-list beyond loopback (DNS rebinding); Socket.IO CONNECT retries limited; slow headers cut.
// Different client addresses are 127.0.0.x loopback addresses (the whole 127/8 reaches this machine).
import * as http from 'node:http';
import * as net from 'node:net';
import WebSocket from 'ws';
import { io, Socket } from 'socket.io-client';
import { sharedTokenAuth } from '../../gateway/auth';
import { useGatewayFixture } from '../helpers/gateway';
import { waitUntil, within } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';

const fixture = useGatewayFixture('order-placement-edge');
const sockets: Socket[] = [];

afterAll(() => {
  for (const s of sockets) s.disconnect();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to the gateway on `port`, from `from` (a loopback address), with these headers. */
function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        localAddress: opts.from,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A bare Engine.IO polling handshake (no Socket.IO CONNECT ever follows): its status and session id. */
async function bareHandshake(
  port: number,
  opts: { from?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; sid?: string; headers: http.IncomingHttpHeaders }> {
  const answer = await request(port, '/socket.io/?EIO=4&transport=polling', opts);
  const sid = answer.status === 200 ? (JSON.parse(answer.body.slice(1)) as { sid: string }).sid : undefined;
  return { status: answer.status, sid, headers: answer.headers };
}

/** Posts Engine.IO packets to a session: 200 while it lives, 400 once the gateway has dropped it. */
async function postTo(port: number, sid: string, packets = '6', from?: string): Promise<number> {
  return (
    await request(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      body: packets,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      from,
    })
  ).status;
}

/** The HTTP status a raw WebSocket upgrade gets (101 when it opened; the socket is then closed at once). */
function wsStatus(port: number, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: opts.from, headers: opts.headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

/** An open raw WebSocket from `from` (kept open until closed by the test). */
function openWs(port: number, from?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: from });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A socket.io-client connection: resolves once connected, rejects with the connect_error. */
function sioConnect(
  port: number,
  opts: { from?: string; token?: string; transports?: string[] } = {},
): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    localAddress: opts.from,
    auth: opts.token ? { token: opts.token } : {},
  } as Parameters<typeof io>[1]);
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

describe('gateway edge: unauthenticated clients', () => {
  test('bare Socket.IO handshakes do not count as connections: a real client still gets in on both transports, and the bare sessions are dropped within seconds', async () => {
    const gw = await fixture.start({ limits: { maxConnections: 1 }, timeouts: { preAuthMs: 1_500 } });
    const bare = await Promise.all(Array.from({ length: 20 }, () => bareHandshake(gw.port, { from: '127.0.0.21' })));
    expect(bare.map((b) => b.status)).toEqual(bare.map(() => 200));
    expect(gw.connectionCount()).toBe(0);

    const client = await sioConnect(gw.port);
    expect(gw.connectionCount()).toBe(1);
    client.disconnect();
    await waitUntil(() => gw.connectionCount() === 0, { what: 'the Socket.IO client to be gone' });
    expect(await wsStatus(gw.port)).toBe(101);

    // Never authenticated: each session is forgotten within the pre-auth timeout (400: unknown session).
    await waitUntil(async () => (await Promise.all(bare.map((b) => postTo(gw.port, b.sid!)))).every((s) => s === 400), {
      timeoutMs: 10_000,
      intervalMs: 250,
      what: 'the bare sessions to be dropped',
    });
  });

  test('per-address cap on open connections: bare sessions and WebSockets of one address count against it, other addresses are unaffected, and the cap frees up when they go', async () => {
    const gw = await fixture.start({
      limits: { perIp: { maxConnections: 3, handshakesPerSecond: 0 } },
      timeouts: { preAuthMs: 1_500 },
    });
    const flooder = '127.0.0.31';
    for (let i = 0; i < 3; i++) expect((await bareHandshake(gw.port, { from: flooder })).status).toBe(200);
    expect((await bareHandshake(gw.port, { from: flooder })).status).toBe(403);
    expect(await wsStatus(gw.port, { from: flooder })).toBe(429);
    // Another address is served on both transports.
    expect(await wsStatus(gw.port, { from: '127.0.0.32' })).toBe(101);
    (await sioConnect(gw.port, { from: '127.0.0.32' })).disconnect();
    // Nothing the flooder opened is held after it stops: once its sessions are dropped it may connect again.
    await waitUntil(async () => (await bareHandshake(gw.port, { from: flooder })).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 500,
      what: 'the bare sessions to be released',
    });

    // Raw WebSockets count too, and the cap covers Socket.IO handshakes from that address.
    const holder = '127.0.0.33';
    const open = await Promise.all([1, 2, 3].map(() => openWs(gw.port, holder)));
    expect(await wsStatus(gw.port, { from: holder })).toBe(429);
    expect((await bareHandshake(gw.port, { from: holder })).status).toBe(403);
    await expect(sioConnect(gw.port, { from: holder })).rejects.toThrow();
    open[0].close();
    await waitUntil(async () => (await wsStatus(gw.port, { from: holder })) === 101, { what: 'a freed slot' });
    for (const ws of open) ws.close();
  });

  test('per-address cap on handshakes per second, on both transports', async () => {
    // 1/s sustained, bursts of 2.
    const gw = await fixture.start({ limits: { perIp: { maxConnections: 0, handshakesPerSecond: 1 } } });
    const wsFlooder = '127.0.0.41';
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await wsStatus(gw.port, { from: wsFlooder }));
    expect(statuses.filter((s) => s === 101).length).toBeLessThanOrEqual(3);
    expect(statuses.at(-1)).toBe(429);
    const sioFlooder = '127.0.0.42';
    const sio = [];
    for (let i = 0; i < 4; i++) sio.push((await bareHandshake(gw.port, { from: sioFlooder })).status);
    expect(sio.at(-1)).toBe(403);
    // The limit is per address.
    expect(await wsStatus(gw.port, { from: '127.0.0.43' })).toBe(101);
    (await sioConnect(gw.port, { from: '127.0.0.43' })).disconnect();
  });

  test('a Socket.IO session that fails its CONNECT three times is closed (no token guessing on one session)', async () => {
    const gw = await fixture.start({ auth: sharedTokenAuth('the-right-token'), timeouts: { preAuthMs: 60_000 } });
    const { sid } = await bareHandshake(gw.port);
    expect(await postTo(gw.port, sid!, '40{"token":"guess-1"}')).toBe(200);
    expect(await postTo(gw.port, sid!, '40{"token":"guess-2"}')).toBe(200);
    expect(await postTo(gw.port, sid!, '6')).toBe(200);
    await postTo(gw.port, sid!, '40{"token":"guess-3"}');
    await waitUntil(async () => (await postTo(gw.port, sid!, '6')) === 400, {
      timeoutMs: 5_000,
      intervalMs: 100,
      what: 'the session to be closed after the third failed CONNECT',
    });
    // The right token still opens a fresh session.
    (await sioConnect(gw.port, { token: 'the-right-token' })).disconnect();
  });
});

describe('gateway edge: origins and hosts', () => {
  test("without an allow-list only the gateway's own origin (or no Origin) is accepted, on both transports", async () => {
    const gw = await fixture.start();
    const own = { origin: `http://127.0.0.1:${gw.port}` };
    const evil = { origin: 'http://evil.example' };
    expect(await wsStatus(gw.port, { headers: evil })).toBe(403);
    expect(await wsStatus(gw.port, { headers: { origin: 'null' } })).toBe(403);
    expect(await wsStatus(gw.port, { headers: { origin: `http://127.0.0.1:${gw.port + 1}` } })).toBe(403);
    expect(await wsStatus(gw.port, { headers: own })).toBe(101);
    expect(await wsStatus(gw.port)).toBe(101);

    const refused = await bareHandshake(gw.port, { headers: evil });
    expect(refused.status).toBe(403);
    // CORS follows the same rule: no other origin is ever granted reads.
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const accepted = await bareHandshake(gw.port, { headers: own });
    expect(accepted.status).toBe(200);
    expect(accepted.headers['access-control-allow-origin']).toBeUndefined();
    expect((await bareHandshake(gw.port)).status).toBe(200);
  });

  test('with an allow-list, exactly the listed origins are accepted, and CORS grants only them', async () => {
    const gw = await fixture.start({ allowedOrigins: ['https://shop.example'] });
    expect(await wsStatus(gw.port, { headers: { origin: 'https://shop.example' } })).toBe(101);
    expect(await wsStatus(gw.port, { headers: { origin: `http://127.0.0.1:${gw.port}` } })).toBe(403);
    const listed = await bareHandshake(gw.port, { headers: { origin: 'https://shop.example' } });
    expect(listed.status).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await bareHandshake(gw.port, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('a Host that is not loopback and not allowed (DNS rebinding) is refused on both transports and the page', async () => {
    const gw = await fixture.start({ allowedHosts: ['orders.example'] });
    const rebound = { host: `attacker.example:${gw.port}`, origin: `http://attacker.example:${gw.port}` };
    expect(await wsStatus(gw.port, { headers: rebound })).toBe(403);
    expect((await bareHandshake(gw.port, { headers: rebound })).status).toBe(403);
    expect((await request(gw.port, '/', { headers: rebound })).status).toBe(403);
    expect((await request(gw.port, '/config.json', { headers: rebound })).status).toBe(403);

    const listed = { host: `orders.example:${gw.port}`, origin: `https://orders.example:${gw.port}` };
    expect(await wsStatus(gw.port, { headers: listed })).toBe(101);
    expect((await bareHandshake(gw.port, { headers: listed })).status).toBe(200);
    expect((await request(gw.port, '/', { headers: listed })).status).toBe(200);
    for (const loopback of [`localhost:${gw.port}`, `127.0.0.1:${gw.port}`, `[::1]:${gw.port}`])
      expect(await wsStatus(gw.port, { headers: { host: loopback } })).toBe(101);
  });
});

describe('gateway edge: HTTP', () => {
  test('the page, its files and /config.json carry CSP (own origin only, no framing), nosniff and Referrer-Policy', async () => {
    const gw = await fixture.start();
    for (const path of ['/', '/app.js', '/style.css', '/config.json']) {
      const answer = await request(gw.port, path);
      expect(answer.status).toBe(200);
      const csp = answer.headers['content-security-policy'] ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  test('a client sending its headers too slowly is cut off at the headers timeout', async () => {
    const gw = await fixture.start({ timeouts: { headersMs: 2_000 } });
    const socket = net.connect(gw.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One more header line every half second, never the blank line that ends them.
    const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 500);
    try {
      await within(closed, 8_000, 'the server to close the slow connection');
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });
});

describe('gateway edge: subscriptions', () => {
  test('a connection may follow at most maxSubscriptions orders (TOO_MANY_SUBSCRIPTIONS beyond, placeOrder included, nothing written); unsubscribeOrder frees a place — on both transports', async () => {
    const gw = await fixture.start({ limits: { maxSubscriptions: 3 } });
    const storedBefore = await fixture.stored();
    const ws = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    const sio = await sioConnect(gw.port);
    type Ask = (event: string, data: Record<string, unknown>) => Promise<Frame>;
    const overWs: Ask = (event, data) => {
      const before = ws.received.length;
      ws.send({ event, data });
      return ws.waitFor((f) => ws.received.indexOf(f) >= before && f.data.orderId === data.orderId);
    };
    const overSio: Ask = (event, data) => sio.timeout(10_000).emitWithAck(event, data) as Promise<Frame>;
    for (const [name, ask] of [
      ['ws', overWs],
      ['sio', overSio],
    ] as const) {
      for (const i of [1, 2, 3])
        expect((await ask('subscribeOrder', { orderId: `${name}-${i}` })).event).toBe('subscribed');
      // Following one again takes no further place.
      expect((await ask('subscribeOrder', { orderId: `${name}-1` })).event).toBe('subscribed');
      const refused = await ask('subscribeOrder', { orderId: `${name}-4` });
      expect(refused).toMatchObject({ event: 'error', data: { code: 'TOO_MANY_SUBSCRIPTIONS', orderId: `${name}-4` } });
      const placement = await ask('placeOrder', { orderId: `${name}-p`, item: 'Mouse', price: 5 });
      expect(placement).toMatchObject({ event: 'error', data: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
      expect(await ask('unsubscribeOrder', { orderId: `${name}-2` })).toEqual({
        event: 'unsubscribed',
        data: { orderId: `${name}-2` },
      });
      expect((await ask('subscribeOrder', { orderId: `${name}-4` })).event).toBe('subscribed');
    }
    expect(gw.subscriptionCount()).toBe(6);
    expect(await fixture.stored()).toBe(storedBefore);
    await ws.close();
    sio.disconnect();
    await waitUntil(() => gw.subscriptionCount() === 0, { what: 'the subscriptions to be freed' });
  });
});

describe('gateway edge: failed logins', () => {
  test('a refused token is reported (transport, address, reason; never the token) on both transports', async () => {
    const reports: string[] = [];
    const gw = await fixture.start({
      auth: sharedTokenAuth('the-right-token'),
      observer: { authFailure: (transport, reason, address) => reports.push(`${transport} ${address} ${reason}`) },
    });
    expect(await wsStatus(gw.port, { headers: { authorization: 'Bearer guessed-token-1' } })).toBe(401);
    await expect(sioConnect(gw.port, { token: 'guessed-token-2' })).rejects.toThrow('unauthorized');
    expect(reports).toEqual([
      'websocket 127.0.0.1 missing or wrong token',
      'socket.io 127.0.0.1 missing or wrong token',
    ]);
  });
});

describe('gateway edge: a failing token verifier', () => {
  test('is answered 503 (WebSocket) or "auth unavailable" with a correlation id (Socket.IO); its detail is only in the log, on both transports', async () => {
    const lines: string[] = [];
    const gw = await fixture.start({
      auth: {
        mode: 'jwt',
        verify: () => Promise.reject(new Error('JWKS fetch from 10.9.8.7:8443 failed: ECONNREFUSED')),
      },
      log: (line) => lines.push(line),
    });
    expect(await wsStatus(gw.port, { headers: { authorization: 'Bearer some-token' } })).toBe(503);
    const refusal = await sioConnect(gw.port, { token: 'some-token' }).then(
      () => undefined,
      (err: Error & { data?: { correlationId?: string } }) => err,
    );
    expect(refusal?.message).toBe('auth unavailable');
    expect(JSON.stringify(refusal?.data)).not.toContain('10.9.8.7');
    const correlationId = refusal?.data?.correlationId ?? 'none';
    expect(lines.find((l) => l.includes(correlationId))).toContain('10.9.8.7:8443');
    // Both transports' failures are in the log with their detail, and the server kept running.
    expect(lines.filter((l) => l.startsWith('internal error ') && l.includes('10.9.8.7:8443'))).toHaveLength(2);
    expect(await wsStatus(gw.port, { headers: { authorization: 'Bearer some-token' } })).toBe(503);
  });
});
