/**
 * Metrics, probes and logs of the real processes: gateway, bridge and worker run as child
 * processes (as in production, through their entry points) against the real Kafka and Temporal.
 * Each process's admin listener (GATEWAY_HEALTH_PORT, BRIDGE_HEALTH_PORT, WORKER_HEALTH_PORT)
 * answers /livez, /readyz and /metrics; after one order completes, each /metrics endpoint shows its
 * counters moved, and the worker's JSON log lines name the order's run.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { AppName, AppProcess } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';

const procs: AppProcess[] = [];

async function start(app: AppName, env: Record<string, string>): Promise<AppProcess> {
  const proc = new AppProcess({ app, env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env } });
  procs.push(proc);
  await proc.start();
  return proc;
}

const waitFor = <T>(what: string, check: () => Promise<T> | T, timeoutMs = 90_000): Promise<NonNullable<T>> =>
  waitUntil(check, { timeoutMs, intervalMs: 200, what });

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

async function metrics(url: string): Promise<string> {
  const res = await get(url);
  if (res?.status !== 200) throw new Error(`${url} answered ${res?.status ?? 'nothing'}`);
  return res.body;
}

/** Places one order over the gateway's WebSocket and resolves once its COMPLETED status arrives. */
function placeAndWait(url: string, orderId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`order ${orderId} did not complete`)), 120_000);
    ws.on('open', () =>
      ws.send(JSON.stringify({ event: 'placeOrder', data: { orderId, item: 'Metrics probe', price: 12 } })),
    );
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { event: string; data: { status?: string; code?: string } };
      if (frame.event === 'error') reject(new Error(`gateway refused the order: ${frame.data.code}`));
      if (frame.event === 'orderStatus' && frame.data.status === 'COMPLETED') {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    });
    ws.on('error', reject);
  });
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

describe('metrics, probes and logs of the app processes', () => {
  test('each admin listener answers /livez, /readyz and /metrics; after an order, the metrics of gateway, bridge and worker moved; logs name the run', async () => {
    const [gatewayPort, gatewayAdminPort, bridgePort, workerHealthPort, workerMetricsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const ledgerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'observability-'));
    const id = crypto.randomUUID().slice(0, 8);
    const worker = await start('worker', {
      WORKER_HEALTH_PORT: String(workerHealthPort),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      SIM_LEDGER_FILE: path.join(ledgerDir, 'ledger.jsonl'),
    });
    await start('bridge', {
      BRIDGE_HEALTH_PORT: String(bridgePort),
      BRIDGE_GROUP_ID: `observability-${id}`,
      STEP_DELAY_MS: '0',
    });
    await start('gateway', { GATEWAY_PORT: String(gatewayPort), GATEWAY_HEALTH_PORT: String(gatewayAdminPort) });

    const gateway = `http://127.0.0.1:${gatewayAdminPort}`;
    const bridge = `http://127.0.0.1:${bridgePort}`;
    const workerHealth = `http://127.0.0.1:${workerHealthPort}`;
    const workerMetrics = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    for (const base of [gateway, bridge, workerHealth]) {
      await waitFor(`${base}/readyz`, async () => (await get(`${base}/readyz`))?.status === 200);
      expect(JSON.parse((await get(`${base}/readyz`))?.body ?? '')).toEqual({ ready: true, notReady: [] });
      expect((await get(`${base}/livez`))?.status).toBe(200);
      // Every admin listener has the process's own metrics (the worker's SDK metrics are on their own port, below).
      expect(sample(await metrics(`${base}/metrics`), 'process_cpu_user_seconds_total')).toBeDefined();
    }

    const before = {
      accepted: sample(await metrics(`${gateway}/metrics`), 'gateway_placements_total', { outcome: 'accepted' }) ?? 0,
      started: sample(await metrics(`${bridge}/metrics`), 'bridge_workflow_starts_total', { outcome: 'started' }) ?? 0,
    };
    const orderId = `metrics-${id}`;
    await placeAndWait(`ws://127.0.0.1:${gatewayPort}`, orderId);

    const gw = await metrics(`${gateway}/metrics`);
    expect(sample(gw, 'gateway_placements_total', { outcome: 'accepted' })).toBe(before.accepted + 1);
    expect(sample(gw, 'gateway_accept_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(gw, 'gateway_kafka_produce_latency_seconds_count', { result: 'stored' })).toBeGreaterThanOrEqual(1);
    expect(sample(gw, 'gateway_open_connections')).toBeDefined();

    const br = await metrics(`${bridge}/metrics`);
    expect(sample(br, 'bridge_workflow_starts_total', { outcome: 'started' })).toBeGreaterThanOrEqual(
      before.started + 1,
    );
    expect(sample(br, 'bridge_workflow_start_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(br, 'bridge_consumer_lag', { topic: 'order-placement' })).toBeDefined();
    expect(sample(br, 'bridge_dead_lettered_total')).toBeDefined();
    expect(sample(br, 'bridge_start_retries_total')).toBeDefined();

    // The Temporal SDK's own metrics, from the worker's Runtime exporter. COMPLETED is published just
    // before the run's last workflow task completes, so the SDK may count it a moment later.
    const completed = (text: string): number =>
      sample(text, 'temporal_workflow_completed_total') ?? sample(text, 'temporal_workflow_completed') ?? 0;
    const wk = await waitFor('the worker to count the completed run', async () => {
      const text = await metrics(workerMetrics);
      return completed(text) >= 1 ? text : undefined;
    });
    expect(sample(wk, 'temporal_activity_execution_latency_count')).toBeGreaterThanOrEqual(3);

    // The worker's JSON log lines for this order carry its run.
    const lines = worker
      .output()
      .split('\n')
      // Complete JSON lines only (the last one may still be arriving).
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.orderId === orderId);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({ workflowId: `order-${orderId}`, runId: expect.any(String), name: 'worker' }),
      );
    }
    fs.rmSync(ledgerDir, { recursive: true, force: true });
  });
});
