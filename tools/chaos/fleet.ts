/**
 * The app processes a chaos scenario runs (gateway, bridges, worker) on an isolated stack, each an
 * tools/infra/app-process.ts AppProcess with its own log file under the stack's work dir.
 */
import * as path from 'node:path';
import { AppProcess } from '../infra/app-process';
import { answers200, freePort } from '../infra/proc';
import { IsolatedStack } from './isolated-stack';

/**
 * The app processes on an isolated stack, kept across scenarios when a scenario needs them with
 * the same settings (starting a worker bundles the workflows: ~10 s on a small machine), replaced
 * when the settings differ. One payment ledger for the stack; scenarios tell their orders apart by
 * orderId prefix.
 */
export class Fleet {
  readonly ledgerFile: string;
  private gatewayProc?: AppProcess;
  private readonly bridgeProcs: AppProcess[] = [];
  private workerProc?: AppProcess;
  private readonly settings = new WeakMap<AppProcess, string>();
  /** The HTTP port of each gateway (WebSocket + /healthz) and bridge (/healthz). */
  private readonly ports = new WeakMap<AppProcess, number>();

  constructor(readonly stack: IsolatedStack) {
    this.ledgerFile = path.join(stack.workDir, 'ledger', 'payments.jsonl');
  }

  /** The HTTP port of a gateway or bridge this fleet started (0 for a worker). */
  portOf(proc: AppProcess): number {
    return this.ports.get(proc) ?? 0;
  }

  private logFile(name: string): string {
    return path.join(this.stack.workDir, 'logs', `${name}.log`);
  }

  private async gateway(): Promise<AppProcess> {
    if (!this.gatewayProc) {
      const port = await freePort();
      const proc = new AppProcess({
        app: 'gateway',
        name: 'gateway',
        env: this.stack.appEnv({
          GATEWAY_PORT: String(port),
          BRIDGE_HEALTH_PORT: String(await freePort()),
          SIM_LEDGER_FILE: this.ledgerFile,
        }),
        logFile: this.logFile('gateway'),
        ready: () => answers200(`http://127.0.0.1:${port}/healthz`),
      });
      this.ports.set(proc, port);
      this.gatewayProc = proc;
    }
    return this.gatewayProc;
  }

  private async bridge(i: number, stepDelayMs: number): Promise<AppProcess> {
    const setting = `step=${stepDelayMs}`;
    const existing = this.bridgeProcs[i];
    if (existing && this.settings.get(existing) === setting) return existing;
    if (existing) await existing.stop();
    const port = await freePort();
    const proc = new AppProcess({
      app: 'bridge',
      name: `bridge-${String.fromCharCode(65 + i)}`,
      env: this.stack.appEnv({
        BRIDGE_HEALTH_PORT: String(port),
        GATEWAY_PORT: String(await freePort()),
        STEP_DELAY_MS: String(stepDelayMs),
        SIM_LEDGER_FILE: this.ledgerFile,
      }),
      logFile: this.logFile(`bridge-${i}`),
      // /healthz answers 200 once the consumer joined the group and is not backing off.
      ready: () => answers200(`http://127.0.0.1:${port}/healthz`),
    });
    this.ports.set(proc, port);
    this.settings.set(proc, setting);
    this.bridgeProcs[i] = proc;
    return proc;
  }

  private async worker(latencyMs: number): Promise<AppProcess> {
    const setting = `latency=${latencyMs}`;
    const existing = this.workerProc;
    if (existing && this.settings.get(existing) === setting) return existing;
    if (existing) await existing.stop();
    const proc = new AppProcess({
      app: 'worker',
      name: 'worker',
      env: this.stack.appEnv({
        SIM_LEDGER_FILE: this.ledgerFile,
        SIM_LATENCY_MS: String(latencyMs),
        GATEWAY_PORT: String(await freePort()),
        BRIDGE_HEALTH_PORT: String(await freePort()),
      }),
      logFile: this.logFile('worker'),
      ready: (p) => this.stack.workerPolling(p.pid),
    });
    this.settings.set(proc, setting);
    this.workerProc = proc;
    return proc;
  }

  /** The processes a scenario needs, running and ready (started or replaced as needed, in parallel). */
  async ensure(need: {
    bridges: number;
    stepDelayMs: number;
    latencyMs: number;
  }): Promise<{ gateway: AppProcess; bridges: AppProcess[]; worker: AppProcess }> {
    // Surplus bridges leave the group cleanly (SIGTERM), so the next rebalance does not wait for them.
    for (const extra of this.bridgeProcs.splice(need.bridges)) await extra.stop();
    const gateway = await this.gateway();
    const bridges: AppProcess[] = [];
    for (let i = 0; i < need.bridges; i++) bridges.push(await this.bridge(i, need.stepDelayMs));
    const worker = await this.worker(need.latencyMs);
    await Promise.all([gateway, ...bridges, worker].filter((p) => !p.running()).map((p) => p.start(120_000)));
    return { gateway, bridges, worker };
  }

  /** Stops every process; the next ensure() starts fresh ones (after a failed scenario, so it cannot spill over). */
  async recycle(): Promise<void> {
    await this.stopAll();
    this.gatewayProc = undefined;
    this.bridgeProcs.splice(0);
    this.workerProc = undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [this.gatewayProc, ...this.bridgeProcs, this.workerProc]
        .filter((p): p is AppProcess => p !== undefined)
        .map((p) => p.stop()),
    );
  }
}
