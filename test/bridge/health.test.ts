/**
 * The bridge process reports Temporal's outage on /healthz and /readyz (its admin port) even when no
 * order is flowing (its own background probe, not the client's ~20 s internal retry), and recovers
 * when Temporal comes back. The probes name what is down and never why (no address, no error text:
 * that goes to the log). Temporal "goes down" for this bridge only: it reaches the real dev server
 * through a TCP relay in this test, which is closed (every socket cut) and reopened.
 */
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { loadConfig } from '../../common/config';
import { AppProcess } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';

/** A TCP relay to host:port that can be switched off (refusing and cutting connections) and on. */
class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async on(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async off(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function status(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return undefined;
  }
}

async function getJson(url: string): Promise<{ text: string; body: Record<string, unknown> }> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(3_000) })).text();
  return { text, body: JSON.parse(text) as Record<string, unknown> };
}

async function waitForStatus(url: string, wanted: number, what: string): Promise<void> {
  await waitUntil(async () => (await status(url)) === wanted, { timeoutMs: 60_000, intervalMs: 200, what });
}

let bridge: AppProcess | undefined;
let relay: Relay | undefined;

afterAll(async () => {
  await bridge?.kill();
  await relay?.off();
});

describe('bridge process health probes', () => {
  test('bridge health turns 503 when Temporal stops answering, with no order in flight, and 200 again when it is back', async () => {
    const [temporalHost, temporalPort] = loadConfig().temporalAddress.split(':');
    const [relayPort, healthPort] = await Promise.all([freePort(), freePort()]);
    relay = new Relay(relayPort, { host: temporalHost, port: Number(temporalPort) });
    await relay.on();
    bridge = new AppProcess({
      app: 'bridge',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: `127.0.0.1:${relayPort}`,
        BRIDGE_HEALTH_PORT: String(healthPort),
        BRIDGE_GROUP_ID: `bridge-health-${crypto.randomUUID().slice(0, 8)}`,
        LOG_LEVEL: 'warn',
      },
    });
    await bridge.start();
    const base = `http://127.0.0.1:${healthPort}`;
    await waitForStatus(`${base}/healthz`, 200, 'the bridge to be healthy');
    expect(await status(`${base}/readyz`)).toBe(200);

    await relay.off();
    await waitForStatus(`${base}/healthz`, 503, '/healthz to report the outage');
    expect(await status(`${base}/readyz`)).toBe(503);
    // What is down, never why: exactly the verdict and the failing checks' names, and no address or error text.
    const ready = await getJson(`${base}/readyz`);
    expect(Object.keys(ready.body).sort()).toEqual(['notReady', 'ready']);
    expect(ready.body.ready).toBe(false);
    expect(ready.body.notReady).toEqual(expect.arrayContaining(['temporal']));
    expect((ready.body.notReady as string[]).filter((n) => !['consumer', 'temporal'].includes(n))).toEqual([]);
    const health = await getJson(`${base}/healthz`);
    expect(health.body).toMatchObject({ status: 'degraded', temporal: 'unreachable' });
    for (const text of [ready.text, health.text]) {
      expect(text).not.toContain(String(relayPort));
      expect(text).not.toMatch(/UNAVAILABLE|ECONNREFUSED|[Cc]onnection|no answer|deadline/i);
    }
    await waitUntil(() => /temporal check failing: \S/.test(bridge?.output() ?? ''), {
      what: 'the failing check (and why) to be logged',
    });
    // Liveness is not readiness: the process itself is fine and must not be restarted for this.
    expect(await status(`${base}/livez`)).toBe(200);

    await relay.on();
    await waitForStatus(`${base}/healthz`, 200, '/healthz to recover');
    expect(await status(`${base}/readyz`)).toBe(200);
  });
});
