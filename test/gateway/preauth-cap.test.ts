// The gateway-wide cap on connections that have not authenticated yet (GATEWAY_MAX_UNAUTHENTICATED),
// on a real gateway (real Kafka) with the per-address limits off, as behind a proxy: raw WebSocket
// upgrades whose token is being checked and Socket.IO sessions that have not passed their CONNECT
// share one count, over all client addresses (127.0.0.x loopback addresses here); beyond it a new
// handshake is refused on both transports (503 / 403), and room comes back as they authenticate.
import * as http from 'node:http';
import WebSocket from 'ws';
import type { Authenticator } from '../../gateway/auth';
import { useGatewayFixture } from '../helpers/gateway';
import { gate, waitUntil } from '../helpers/wait';

const fixture = useGatewayFixture('order-placement-preauth');
const opened: WebSocket[] = [];
afterAll(() => opened.forEach((ws) => ws.terminate()));

/** A raw WebSocket upgrade with a token, from `from`: resolves with the HTTP status (101 when it opened). */
function upgrade(port: number, token: string, from: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
      localAddress: from,
      headers: { authorization: `Bearer ${token}` },
    });
    opened.push(ws);
    ws.on('open', () => resolve(101));
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

/** One HTTP request from `from`; resolves with its status and body. */
function request(port: number, path: string, from: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', localAddress: from, agent: false },
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

/** A bare Engine.IO polling handshake (a Socket.IO session with no CONNECT yet): its status and session id. */
async function bareHandshake(port: number, from: string): Promise<{ status: number; sid?: string }> {
  const answer = await request(port, '/socket.io/?EIO=4&transport=polling', from);
  const sid = answer.status === 200 ? (JSON.parse(answer.body.slice(1)) as { sid: string }).sid : undefined;
  return { status: answer.status, sid };
}

describe('the cap on unauthenticated connections', () => {
  test('with the cap at 2, a third handshake not yet authenticated is refused on both transports, whatever its address', async () => {
    // Tokens named "slow" are checked only once the test opens the gate: their upgrades stay unauthenticated.
    const slowCheck = gate();
    const auth: Authenticator = {
      mode: 'jwt',
      verify: async (token) => {
        if (token === 'slow') await slowCheck.wait();
        return token === undefined ? { ok: false, reason: 'missing token' } : { ok: true, identity: {} };
      },
    };
    const gw = await fixture.start({
      auth,
      limits: { maxUnauthenticated: 2, perIp: { maxConnections: 0, handshakesPerSecond: 0 } },
      timeouts: { preAuthMs: 60_000 },
    });

    // Two raw WebSocket upgrades held in their token check fill the cap.
    const held = [upgrade(gw.port, 'slow', '127.0.0.51'), upgrade(gw.port, 'slow', '127.0.0.52')];
    await waitUntil(() => slowCheck.waiters === 2, { what: 'both upgrades to be in their token check' });
    expect(await upgrade(gw.port, 'fast', '127.0.0.53')).toBe(503);
    expect((await bareHandshake(gw.port, '127.0.0.54')).status).toBe(403);
    // Authenticated, they leave the count (and do not count as unauthenticated any more).
    slowCheck.open();
    expect(await Promise.all(held)).toEqual([101, 101]);

    // Two Socket.IO sessions without a CONNECT fill it again.
    const first = await bareHandshake(gw.port, '127.0.0.55');
    const second = await bareHandshake(gw.port, '127.0.0.56');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((await bareHandshake(gw.port, '127.0.0.57')).status).toBe(403);
    expect(await upgrade(gw.port, 'fast', '127.0.0.58')).toBe(503);

    // A session that passes its CONNECT makes room for one more.
    const session = `/socket.io/?EIO=4&transport=polling&sid=${first.sid}`;
    expect((await request(gw.port, session, '127.0.0.55', '40{"token":"fast"}')).status).toBe(200);
    await waitUntil(async () => (await request(gw.port, session, '127.0.0.55')).body.includes('40{"sid"'), {
      what: 'the CONNECT to pass',
    });
    expect(await upgrade(gw.port, 'fast', '127.0.0.59')).toBe(101);
    expect(gw.connectionCount()).toBe(4);
  });
});
