/**
 * The gateway process keeps its probes and metrics off the clients' port: GATEWAY_PORT serves the
 * page, WebSocket and Socket.IO and answers /metrics, /livez, /readyz and /healthz with 404 whatever
 * the Host; they answer on the admin port (GATEWAY_HEALTH_PORT) instead. With Kafka unreachable, the
 * admin /readyz names kafka and says nothing of why (no broker address, no error text): the why is in
 * the gateway's log. Real gateway processes (`gateway/main.ts`) on the real Kafka and Temporal.
 */
import * as http from 'node:http';
import WebSocket from 'ws';
import { AppProcess, whenAnswers200 } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';

const ADMIN_PATHS = ['/metrics', '/livez', '/readyz', '/healthz'];
/** The gateway's readiness checks: /readyz may name these and nothing else. */
const CHECK_NAMES = ['kafka', 'statusFeed', 'accepting'];

const procs: AppProcess[] = [];

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

async function gatewayProcess(env: Record<string, string>, ready?: (adminPort: number) => string) {
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const proc = new AppProcess({
    app: 'gateway',
    env: {
      ...process.env,
      GATEWAY_PORT: String(port),
      GATEWAY_HEALTH_PORT: String(adminPort),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    ready: ready && whenAnswers200(ready(adminPort)),
  });
  procs.push(proc);
  await proc.start(90_000);
  return { proc, port, adminPort };
}

/** One GET on 127.0.0.1:`port` with this Host header. */
function get(port: number, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: host ? { host } : {}, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** A raw WebSocket upgrade's outcome: 101 when it opened, else the HTTP status it was refused with. */
function wsStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
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

describe('gateway admin port', () => {
  test('the client port serves the page, WebSocket and Socket.IO, and 404 for /metrics, /livez, /readyz, /healthz under any Host; the admin port answers them', async () => {
    const { port, adminPort } = await gatewayProcess(
      { GATEWAY_ALLOWED_HOSTS: 'orders.example' },
      (admin) => `http://127.0.0.1:${admin}/readyz`,
    );

    expect((await get(port, '/')).status).toBe(200);
    expect(await wsStatus(port)).toBe(101);
    expect((await get(port, '/socket.io/?EIO=4&transport=polling')).status).toBe(200);
    for (const path of ADMIN_PATHS) {
      // Loopback and a listed name: served hosts, and still nothing of the admin's.
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `orders.example:${port}`])
        expect({ path, host, status: (await get(port, path, host)).status }).toEqual({ path, host, status: 404 });
      // Any other name (a rebound page): refused before any route.
      const rebound = await get(port, path, `attacker.example:${port}`);
      expect({ path, status: rebound.status }).toEqual({ path, status: 403 });
      expect(rebound.body).not.toMatch(/gateway_|ready|live|kafka/);
    }

    const live = await get(adminPort, '/livez');
    expect({ status: live.status, body: JSON.parse(live.body) }).toEqual({ status: 200, body: { status: 'live' } });
    const ready = await get(adminPort, '/readyz');
    expect({ status: ready.status, body: JSON.parse(ready.body) }).toEqual({
      status: 200,
      body: { ready: true, notReady: [] },
    });
    const metrics = await get(adminPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('gateway_open_connections');
    expect(metrics.body).toContain('gateway_placements_total');
    const health = await get(adminPort, '/healthz');
    expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({
      status: 200,
      body: { status: 'ok', kafka: 'up', connections: expect.any(Number) },
    });
  });

  test('with Kafka unreachable, the admin /readyz names kafka, without the broker address or the error text; the log says why', async () => {
    const deadPort = await freePort();
    const { proc, adminPort } = await gatewayProcess({ KAFKA_BROKERS: `127.0.0.1:${deadPort}` });
    // The gateway keeps trying Kafka for a while before it gives up; its admin port answers meanwhile.
    const answer = await waitUntil(
      async () => {
        if (!proc.running()) throw new Error(`the gateway exited before its /readyz answered:\n${proc.output()}`);
        const res = await get(adminPort, '/readyz').catch(() => undefined);
        return res && JSON.parse(res.body).notReady?.includes('kafka') ? res : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the admin /readyz to name kafka' },
    );
    expect(answer.status).toBe(503);
    const body = JSON.parse(answer.body) as { ready: boolean; notReady: string[] };
    // Exactly the verdict and the names of the failing checks: no field that could carry a detail.
    expect(Object.keys(body).sort()).toEqual(['notReady', 'ready']);
    expect(body.ready).toBe(false);
    expect(body.notReady.filter((name) => !CHECK_NAMES.includes(name))).toEqual([]);
    expect(answer.body).not.toContain(String(deadPort));
    expect(answer.body).not.toMatch(/ECONNREFUSED|[Cc]onnection|no answer|broker|\d+ ms/);

    const health = await get(adminPort, '/healthz');
    expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({
      status: 503,
      body: { status: 'degraded', kafka: 'unreachable', connections: 0 },
    });
    // The detail is not lost: the gateway's log has it.
    await waitUntil(() => /kafka check failing: \S/.test(proc.output()), { what: 'the failing check to be logged' });
    await proc.kill();
  });
});
