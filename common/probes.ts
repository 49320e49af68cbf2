/**
 * Liveness, readiness and metrics over HTTP, the same way in every process:
 *  - GET /livez   200 while the process's event loop answers (nothing else is checked);
 *  - GET /readyz  200 when every readiness check passes, else 503; the body names each check;
 *  - GET /metrics Prometheus text from the process's prom-client registry.
 * Checks against Kafka and Temporal are `Probe`s: they run in the background on the process's
 * existing clients (no new connection per probe) and keep the last verdict, so a probe request
 * costs nothing and an outage shows within one interval plus one timeout.
 */
import type * as http from 'node:http';
import type { Admin, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';

export class Probe {
  private timer: NodeJS.Timeout | undefined;
  private state: { ok: boolean; error?: string; at: number } = { ok: false, error: 'not checked yet', at: 0 };

  constructor(
    readonly name: string,
    private readonly check: () => Promise<unknown>,
    private readonly opts: { intervalMs: number; timeoutMs: number } = { intervalMs: 1_000, timeoutMs: 2_000 },
  ) {}

  /** Checks once now, then every intervalMs. */
  async start(): Promise<void> {
    await this.run();
    const loop = (): void => {
      this.timer = setTimeout(() => void this.run().finally(() => this.timer && loop()), this.opts.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get ok(): boolean {
    return this.state.ok;
  }

  get error(): string | undefined {
    return this.state.error;
  }

  private async run(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.check(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)),
            this.opts.timeoutMs,
          );
        }),
      ]);
      this.state = { ok: true, at: Date.now() };
    } catch (err) {
      this.state = { ok: false, error: (err as Error).message.split('\n')[0], at: Date.now() };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Kafka reachability through one long-lived admin client: describeCluster on its connections. */
export function kafkaProbe(
  kafka: Kafka,
  opts?: { intervalMs: number; timeoutMs: number },
): Probe & { disconnect(): Promise<void> } {
  let admin: Admin | undefined;
  let connected: Promise<void> | undefined;
  const probe = new Probe(
    'kafka',
    async () => {
      admin ??= kafka.admin({ retry: { retries: 0 } });
      connected ??= admin.connect().catch((err: unknown) => {
        connected = undefined;
        throw err;
      });
      await connected;
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('no brokers');
    },
    opts,
  );
  return Object.assign(probe, {
    async disconnect() {
      probe.stop();
      await admin?.disconnect().catch(() => undefined);
    },
  });
}

/** Temporal reachability on an existing connection (client or worker): getSystemInfo with a deadline. */
export function temporalProbe(
  connection: {
    workflowService: { getSystemInfo(req: object): Promise<unknown> };
    withDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T>;
  },
  opts: { intervalMs: number; timeoutMs: number } = { intervalMs: 1_000, timeoutMs: 2_000 },
): Probe {
  return new Probe(
    'temporal',
    () => connection.withDeadline(Date.now() + opts.timeoutMs, () => connection.workflowService.getSystemInfo({})),
    opts,
  );
}

export interface ReadinessCheck {
  name: string;
  ok: () => boolean;
  detail?: () => string | undefined;
}

/** A request handler for /livez, /readyz and /metrics; answers false for any other path. */
export function probeRoutes(opts: {
  checks: ReadinessCheck[];
  registry?: Registry;
}): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = (req.url ?? '').split('?')[0];
    if (url === '/livez') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'live' }));
      return true;
    }
    if (url === '/readyz') {
      const checks = Object.fromEntries(opts.checks.map((c) => [c.name, c.ok() ? 'ok' : (c.detail?.() ?? 'failing')]));
      const ready = opts.checks.every((c) => c.ok());
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
      return true;
    }
    if (url === '/metrics' && opts.registry) {
      const registry = opts.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return true;
    }
    return false;
  };
}
