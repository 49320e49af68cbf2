// Each process's admin listener (common/admin-listener.ts with common/probes.ts): /livez, /readyz,
// /metrics and /healthz on loopback, and a /readyz that names what is not ready and never says why
// (a failure's text carries broker addresses; it goes to the log). No servers: the Kafka probe here
// is a real kafkajs client pointed at a loopback port nothing listens on.
import * as net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { startAdminListener, type AdminListener } from '../../common/admin-listener';
import { kafkaProbe, logTurns, Probe } from '../../common/probes';
import { waitUntil } from '../helpers/wait';

const listeners: AdminListener[] = [];
const probes: Array<{ stop(): void; disconnect?(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await Promise.all(probes.splice(0).map((p) => (p.disconnect ? p.disconnect() : p.stop())));
});

/** A loopback port nothing listens on (taken from the system, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function listen(opts: Partial<Parameters<typeof startAdminListener>[0]> = {}): Promise<AdminListener> {
  const admin = await startAdminListener({ host: '127.0.0.1', port: 0, checks: [], registry: new Registry(), ...opts });
  listeners.push(admin);
  return admin;
}

describe('admin listener', () => {
  test('/livez, /readyz (200 when every check passes), /metrics from the registry, /healthz when the process has one; anything else 404', async () => {
    const registry = new Registry();
    new Counter({ name: 'admin_test_total', help: 'a counter', registers: [registry] }).inc(3);
    const admin = await listen({
      registry,
      checks: [{ name: 'kafka', ok: () => true }],
      health: () => ({ ok: true, connections: 2 }),
    });
    expect(await get(admin.port, '/livez')).toEqual({ status: 200, body: JSON.stringify({ status: 'live' }) });
    const ready = await get(admin.port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, notReady: [] });
    const metrics = await get(admin.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('admin_test_total 3');
    const health = await get(admin.port, '/healthz');
    expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({
      status: 200,
      body: { status: 'ok', connections: 2 },
    });
    expect((await get(admin.port, '/')).status).toBe(404);
    expect((await get(admin.port, '/config.json')).status).toBe(404);
  });

  test('/readyz with Kafka unreachable names kafka, and neither the broker address nor the error text; the log gets them', async () => {
    const port = await closedPort();
    const broker = `127.0.0.1:${port}`;
    const kafka = new Kafka({
      clientId: 'admin-test',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const logged: string[] = [];
    const probe = kafkaProbe(kafka, {
      onChange: logTurns('kafka', { info: (l) => logged.push(l), warn: (l) => logged.push(l) }),
    });
    probes.push(probe);
    await probe.start();
    // The failure does carry the address: that is what must not reach /readyz.
    expect(probe.ok).toBe(false);
    expect(probe.error).toContain(broker);

    const admin = await listen({
      checks: [
        { name: 'kafka', ok: () => probe.ok },
        { name: 'statusFeed', ok: () => true },
      ],
      health: () => ({ ok: probe.ok, kafka: probe.ok ? 'up' : 'unreachable' }),
    });
    const ready = await get(admin.port, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ ready: false, notReady: ['kafka'] });
    const health = await get(admin.port, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body)).toEqual({ status: 'degraded', kafka: 'unreachable' });
    for (const body of [ready.body, health.body]) {
      expect(body).not.toContain(String(port));
      expect(body).not.toMatch(/ECONNREFUSED|Connection error|connect/);
    }
    expect(logged).toEqual([`kafka check failing: ${probe.error}`]);
  });

  test('a probe reports each turn once: failing, passing again; a first check that passes is not reported', async () => {
    let up = true;
    const turns: Array<[boolean, string | undefined]> = [];
    const probe = new Probe(
      'dep',
      async () => {
        if (!up) throw new Error('dep down at 10.0.0.7:9092\nmore detail');
      },
      { intervalMs: 10, onChange: (ok, error) => turns.push([ok, error]) },
    );
    probes.push(probe);
    await probe.start();
    expect(turns).toEqual([]);
    up = false;
    await waitUntil(() => turns.length === 1, { intervalMs: 5, what: 'the failure to be reported' });
    up = true;
    await waitUntil(() => turns.length === 2, { intervalMs: 5, what: 'the recovery to be reported' });
    expect(turns).toEqual([
      [false, 'dep down at 10.0.0.7:9092'],
      [true, undefined],
    ]);
  });
});
