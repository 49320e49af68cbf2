// The gateway's edge against clients that never authenticate, on both transports (raw WebSocket and
// Socket.IO), on real Kafka: bare Engine.IO handshakes neither count as connections nor outlive a
// few seconds; per-address caps on open connections and on handshakes per second; the gateway's own
// origin only (Origin host = Host) unless an allow-list says otherwise, with CORS following it;
// a Host allow-list beyond loopback (DNS rebinding); Socket.IO CONNECT retries limited; slow headers cut.
// Different client addresses are 127.0.0.x loopback addresses (the whole 127/8 reaches this machine).
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import WebSocket from 'ws';
import { io, Socket } from 'socket.io-client';
import { type Authenticator, sharedTokenAuth } from '../../gateway/auth';
import { GatewayMetrics, metricsObserver } from '../../gateway/metrics';
import { useGatewayFixture } from '../helpers/gateway';
import { Gate, gate, waitUntil, within } from '../helpers/wait';
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

/** The HTTP status a WebSocket upgrade to `path` (default /) gets (101 when it opened; the socket is then closed at once). */
function wsStatus(
  port: number,
  opts: { from?: string; headers?: Record<string, string>; path?: string } = {},
): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/'}`, {
      localAddress: opts.from,
      headers: opts.headers,
    });
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

/** An open raw WebSocket from `from` (kept open until closed by the test), with `token` as a bearer token. */
function openWs(port: number, from?: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: from, headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A raw WebSocket upgrade with a bearer token whose TCP connection stays open after the answer: its status, and the socket. */
function upgradeKeptOpen(port: number, token: string): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
          `Authorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    // Our side never ends it; the server may (half-close), which must not be what frees the slot.
    socket.on('end', () => undefined);
    socket.once('data', (chunk) =>
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString())?.[1]), socket }),
    );
    socket.once('error', reject);
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

  test("Engine.IO requests naming an unknown session are counted and spend the per-address handshake budget: beyond it they are refused 429 (polling and upgrade), and so is the address's next handshake", async () => {
    const metrics = new GatewayMetrics();
    const refusals: string[] = [];
    const observer = metricsObserver(metrics, () => undefined);
    // 1/s sustained, bursts of 2.
    const gw = await fixture.start({
      limits: { perIp: { maxConnections: 0, handshakesPerSecond: 1 } },
      observer: {
        ...observer,
        refusal: (transport, status, reason) => refusals.push(`${transport} ${status} ${reason}`),
      },
    });
    const prober = '127.0.0.51';
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postTo(gw.port, `no-such-session-${i}`, '6', prober)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
    expect(statuses.filter((s) => s !== 429 && s !== 400)).toEqual([]);
    const upgrade = { from: prober, path: '/socket.io/?EIO=4&transport=websocket&sid=no-such-session' };
    expect(await wsStatus(gw.port, upgrade)).toBe(429);
    expect((await bareHandshake(gw.port, { from: prober })).status).toBe(403);
    // Another address still gets Engine.IO's own answer, and its own handshakes.
    expect(await postTo(gw.port, 'no-such-session', '6', '127.0.0.52')).toBe(400);
    expect((await bareHandshake(gw.port, { from: '127.0.0.52' })).status).toBe(200);

    const text = await metrics.registry.metrics();
    expect(text).toContain('gateway_unknown_session_requests_total 12');
    expect(refusals.filter((r) => r === 'socket.io 429 too many requests for unknown sessions')).toHaveLength(
      statuses.filter((s) => s === 429).length + 1,
    );
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

/** Engine.IO v4 joins the packets of one polling request with this separator. */
const PACKET_SEPARATOR = '\x1e';

/** What a polling session has queued for the client (call it only when something is queued: an empty poll waits for a ping). */
async function pollFrom(port: number, sid: string): Promise<string[]> {
  const answer = await request(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
  return answer.status === 200 ? answer.body.split(PACKET_SEPARATOR) : [`HTTP ${answer.status}`];
}

/** A Socket.IO CONNECT packet to the main namespace, inside an Engine.IO message, with this token. */
const connectPacket = (token: string): string => `40${JSON.stringify({ token })}`;

/** A token check held at `held` until the test opens it: valid for the token 'good' only. */
function heldAuth(held: Gate): Authenticator {
  return {
    mode: 'shared-token',
    verify: async (token) => {
      await held.wait();
      return token === 'good' ? { ok: true, identity: {} } : { ok: false, reason: 'missing or wrong token' };
    },
  };
}

describe('gateway edge: one socket per session, slots taken before the token check', () => {
  test('a burst of Socket.IO CONNECTs in one polling request opens no more than one socket, and the session is closed', async () => {
    const held = gate();
    const gw = await fixture.start({ auth: heldAuth(held), timeouts: { preAuthMs: 60_000 } });
    const { sid } = await bareHandshake(gw.port);
    const burst = Array.from({ length: 50 }, () => connectPacket('good')).join(PACKET_SEPARATOR);
    expect(await postTo(gw.port, sid!, burst)).toBe(200);
    held.open();
    // Every packet of the request was read before the POST was answered, and each CONNECT that got
    // through has been answered by the time this poll is read.
    await pollFrom(gw.port, sid!);
    expect({ tokenChecks: held.waiters, sockets: gw.connectionCount() }).toEqual({ tokenChecks: 1, sockets: 0 });
    expect(await postTo(gw.port, sid!, '6')).toBe(400);

    // One CONNECT at a time is served; a second one on a connected session closes it too.
    const { sid: calm } = await bareHandshake(gw.port);
    await postTo(gw.port, calm!, connectPacket('good'));
    expect((await pollFrom(gw.port, calm!))[0]).toMatch(/^40\{"sid":/);
    expect(gw.connectionCount()).toBe(1);
    await postTo(gw.port, calm!, connectPacket('good'));
    await waitUntil(() => gw.connectionCount() === 0, { timeoutMs: 5_000, what: 'the second CONNECT to end it' });
    expect(await pollFrom(gw.port, calm!)).toContain('1'); // Engine.IO's close packet
    expect(await postTo(gw.port, calm!, '6')).toBe(400);
  });

  test('Socket.IO: a connection slot is taken before the token check, so CONNECTs waiting on it cannot go past GATEWAY_MAX_CONNECTIONS; a refused token frees its slot', async () => {
    const held = gate();
    const gw = await fixture.start({
      auth: heldAuth(held),
      limits: { maxConnections: 3, perIp: { maxConnections: 0, handshakesPerSecond: 0 } },
      timeouts: { preAuthMs: 60_000 },
    });
    const sessions = await Promise.all(Array.from({ length: 6 }, () => bareHandshake(gw.port)));
    for (const { sid } of sessions) expect(await postTo(gw.port, sid!, connectPacket('good'))).toBe(200);
    const tokenChecks = held.waiters;
    held.open();
    const answers = await Promise.all(sessions.map(async ({ sid }) => (await pollFrom(gw.port, sid!))[0]));
    expect({
      tokenChecks,
      connected: answers.filter((a) => a.startsWith('40{"sid":')).length,
      full: answers.filter((a) => a.startsWith('44') && a.includes('gateway full')).length,
      sockets: gw.connectionCount(),
    }).toEqual({ tokenChecks: 3, connected: 3, full: 3, sockets: 3 });

    // A refused token gives its slot back: with one place left, a wrong token, then a right one.
    const connected = sessions[answers.findIndex((a) => a.startsWith('40{"sid":'))];
    await postTo(gw.port, connected.sid!, '41');
    await waitUntil(() => gw.connectionCount() === 2, { what: 'a socket to leave' });
    const [wrong, right] = await Promise.all([bareHandshake(gw.port), bareHandshake(gw.port)]);
    await postTo(gw.port, wrong.sid!, connectPacket('guess'));
    expect((await pollFrom(gw.port, wrong.sid!))[0]).toMatch(/^44.*unauthorized/);
    await postTo(gw.port, right.sid!, connectPacket('good'));
    expect((await pollFrom(gw.port, right.sid!))[0]).toMatch(/^40\{"sid":/);
    expect(gw.connectionCount()).toBe(3);
  });

  test('raw WebSocket: a connection slot is taken before the token check, so upgrades waiting on it cannot go past GATEWAY_MAX_CONNECTIONS; a refused token frees its slot', async () => {
    const held = gate();
    const gw = await fixture.start({
      auth: heldAuth(held),
      limits: { maxConnections: 3, perIp: { maxConnections: 0, handshakesPerSecond: 0 } },
    });
    const answered: number[] = [];
    const attempts = Array.from({ length: 6 }, () =>
      wsStatus(gw.port, { headers: { authorization: 'Bearer good' } }).then((status) => {
        answered.push(status);
        return status;
      }),
    );
    await waitUntil(() => held.waiters + answered.length === 6, { what: 'every upgrade to be admitted or refused' });
    const tokenChecks = held.waiters;
    held.open();
    const statuses = await Promise.all(attempts);
    expect({
      tokenChecks,
      refusedAtOnce: answered.slice(0, 6 - tokenChecks),
      opened: statuses.filter((s) => s === 101).length,
    }).toEqual({ tokenChecks: 3, refusedAtOnce: [503, 503, 503], opened: 3 });

    // wsStatus closes each opened socket at once: the places come back; then a wrong token, then a right one.
    await waitUntil(() => gw.connectionCount() === 0, { what: 'the sockets to close' });
    const kept = await Promise.all([1, 2].map(() => openWs(gw.port, undefined, 'good')));
    // The refused client keeps its TCP connection open: the slot must come back with the 401, not with the close.
    const refused = await upgradeKeptOpen(gw.port, 'guess');
    expect(refused.status).toBe(401);
    expect(await wsStatus(gw.port, { headers: { authorization: 'Bearer good' } })).toBe(101);
    refused.socket.destroy();
    for (const ws of kept) ws.close();
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
