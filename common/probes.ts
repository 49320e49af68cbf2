/**
 * Liveness, readiness and metrics over HTTP, the same way in every process (served on each process's
 * admin listener, ./admin-listener, never on a port clients use):
 *  - GET /livez   200 while the process's event loop answers (nothing else is checked);
 *  - GET /readyz  200 when every readiness check passes, else 503; the body names the checks that fail
 *                 (`{"ready":false,"notReady":["kafka"]}`) and nothing else: an error's text carries
 *                 broker addresses and internals, so it goes to the process's log (`onChange`), not here;
 *  - GET /metrics Prometheus text from the process's prom-client registry.
 * Checks against Kafka and Temporal are `Probe`s: they run in the background on the process's
 * existing clients (no new connection per probe) and keep the last verdict, so a probe request
 * costs nothing and an outage shows within one interval plus one timeout.
 */
import type * as http from 'node:http';
import type { Admin, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';

export interface ProbeOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /**
   * Told when the verdict turns (a first check that fails counts as a turn; one that passes does not),
   * with the failure's first line: the detail /readyz leaves out, for the process's log.
   */
  onChange?: (ok: boolean, error?: string) => void;
}

export class Probe {
  private timer: NodeJS.Timeout | undefined;
  private state: { ok: boolean; error?: string; at: number } = { ok: false, error: 'not checked yet', at: 0 };

  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly check: () => Promise<unknown>,
    private readonly opts: ProbeOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
  }

  /** Checks once now, then every intervalMs. */
  async start(): Promise<void> {
    await this.run();
    const loop = (): void => {
      this.timer = setTimeout(() => void this.run().finally(() => this.timer && loop()), this.intervalMs);
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
    const before = this.state;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      this.state = { ok: true, at: Date.now() };
    } catch (err) {
      this.state = { ok: false, error: (err as Error).message.split('\n')[0], at: Date.now() };
    } finally {
      clearTimeout(timer);
    }
    const first = before.at === 0;
    if (first ? !this.state.ok : this.state.ok !== before.ok) this.opts.onChange?.(this.state.ok, this.state.error);
  }
}

/** Kafka reachability through one long-lived admin client: describeCluster on its connections. */
export function kafkaProbe(kafka: Kafka, opts?: ProbeOptions): Probe & { disconnect(): Promise<void> } {
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
  opts: ProbeOptions = {},
): Probe {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  return new Probe(
    'temporal',
    () => connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({})),
    { ...opts, timeoutMs },
  );
}

/** One thing /readyz waits for: its name (shown when it fails) and its verdict now. */
export interface ReadinessCheck {
  name: string;
  ok: () => boolean;
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
      const notReady = opts.checks.filter((c) => !c.ok()).map((c) => c.name);
      const ready = notReady.length === 0;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready, notReady }));
      return true;
    }
    if (url === '/metrics' && opts.registry) {
      const registry = opts.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () =>
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'metrics failed' })),
      );
      return true;
    }
    return false;
  };
}

/** An `onChange` that logs each turn of a probe's verdict: the failure's detail goes to the log, where /readyz only names the probe. */
export function logTurns(
  name: string,
  log: { info(line: string): void; warn(line: string): void },
): NonNullable<ProbeOptions['onChange']> {
  return (ok, error) => (ok ? log.info(`${name} check passes again`) : log.warn(`${name} check failing: ${error}`));
}
