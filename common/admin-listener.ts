/**
 * Each process's admin listener: /livez, /readyz and /metrics (./probes), and /healthz where the
 * process has one, on a port of its own (GATEWAY_HEALTH_PORT, BRIDGE_HEALTH_PORT,
 * WORKER_HEALTH_PORT), bound to loopback unless its host setting says otherwise. These answer
 * anyone who reaches them and tell how the process is doing, so they never share a port with
 * clients: only an orchestrator, a healthcheck or a metrics scraper should reach this one.
 */
import * as http from 'node:http';
import type { Registry } from 'prom-client';
import { probeRoutes, type ReadinessCheck } from './probes';

/** The /healthz summary: `ok` chooses 200 or 503; the other fields are the process's own (no error text). */
export type HealthSummary = { ok: boolean } & Record<string, unknown>;

export interface AdminListenerOptions {
  host: string;
  port: number;
  /** What /readyz waits for. */
  checks: ReadinessCheck[];
  /** What /metrics serves. */
  registry: Registry;
  /** GET /healthz, when the process has one: 200 `{"status":"ok",…}` or 503 `{"status":"degraded",…}`. */
  health?: () => HealthSummary;
}

export interface AdminListener {
  /** The port it listens on (the one asked for, or the one the system chose for port 0). */
  port: number;
  close(): Promise<void>;
}

/** Starts the listener; rejects when it cannot listen (a port in use is a start-up error, not a silent gap). */
export async function startAdminListener(opts: AdminListenerOptions): Promise<AdminListener> {
  const probes = probeRoutes({ checks: opts.checks, registry: opts.registry });
  const server = http.createServer((req, res) => {
    if (probes(req, res)) return;
    if (opts.health && req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz') {
      const { ok, ...fields } = opts.health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', ...fields }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
