/**
 * The app processes a chaos scenario runs (gateway, bridges, worker) on an isolated stack, each an
 * tools/infra/app-process.ts AppProcess with its own log file under the stack's work dir.
 */
import { LOAD_TOOL_GATEWAY_LIMITS } from '../infra/load-tool-limits';
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
  private readonly gatewayProcs: AppProcess[] = [];
  private readonly bridgeProcs: AppProcess[] = [];
  private readonly workerProcs: AppProcess[] = [];
  private readonly settings = new WeakMap<AppProcess, string>();
  /** The client port of each gateway (WebSocket) and the admin port of each bridge (/healthz). */
  private readonly ports = new WeakMap<AppProcess, number>();
  /** The admin port (/healthz, /readyz) of each gateway and bridge. */
  private readonly healthPorts = new WeakMap<AppProcess, number>();

  /**
   * `statusRouting`: partition routing on (docs/SCALING.md): gateway i gets home partition i of
   * order-status (GATEWAY_STATUS_PARTITION), so each gateway's orders have their status events on a
   * partition of their own.
   */
  constructor(
    readonly stack: IsolatedStack,
    private readonly options: { statusRouting?: boolean } = {},
  ) {
    this.ledgerFile = path.join(stack.workDir, 'ledger', 'payments.jsonl');
  }

  /** The HTTP port of a gateway (its clients' port) or bridge this fleet started (0 for a worker). */
  portOf(proc: AppProcess): number {
    return this.ports.get(proc) ?? 0;
  }

  /** The admin port (/healthz, /readyz) of a gateway or bridge this fleet started (0 for a worker). */
  healthPortOf(proc: AppProcess): number {
    return this.healthPorts.get(proc) ?? 0;
  }

  private logFile(name: string): string {
    return path.join(this.stack.workDir, 'logs', `${name}.log`);
  }

  private async gateway(i: number): Promise<AppProcess> {
    if (!this.gatewayProcs[i]) {
      const [port, healthPort] = [await freePort(), await freePort()];
      const proc = new AppProcess({
        app: 'gateway',
        name: i === 0 ? 'gateway' : `gateway-${String.fromCharCode(65 + i)}`,
        env: this.stack.appEnv({
          GATEWAY_PORT: String(port),
          GATEWAY_HEALTH_PORT: String(healthPort),
          BRIDGE_HEALTH_PORT: String(await freePort()),
          SIM_LEDGER_FILE: this.ledgerFile,
          // Every client of the matrix comes from 127.0.0.1 and keeps many orders in flight: the
          // per-client limits are not what it measures.
          ...LOAD_TOOL_GATEWAY_LIMITS,
          ...(this.options.statusRouting ? { GATEWAY_STATUS_PARTITION: String(i) } : {}),
        }),
        logFile: this.logFile(i === 0 ? 'gateway' : `gateway-${i}`),
        ready: () => answers200(`http://127.0.0.1:${healthPort}/healthz`),
      });
      this.ports.set(proc, port);
      this.healthPorts.set(proc, healthPort);
      this.gatewayProcs[i] = proc;
    }
    return this.gatewayProcs[i];
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
    this.healthPorts.set(proc, port);
    this.settings.set(proc, setting);
    this.bridgeProcs[i] = proc;
    return proc;
  }

  private async worker(i: number, latencyMs: number): Promise<AppProcess> {
    const setting = `latency=${latencyMs}`;
    const existing = this.workerProcs[i];
    if (existing && this.settings.get(existing) === setting) return existing;
    if (existing) await existing.stop();
    const proc = new AppProcess({
      app: 'worker',
      name: i === 0 ? 'worker' : `worker-${String.fromCharCode(65 + i)}`,
      env: this.stack.appEnv({
        SIM_LEDGER_FILE: this.ledgerFile,
        SIM_LATENCY_MS: String(latencyMs),
        GATEWAY_PORT: String(await freePort()),
        BRIDGE_HEALTH_PORT: String(await freePort()),
      }),
      logFile: this.logFile(i === 0 ? 'worker' : `worker-${i}`),
      ready: (p) => this.stack.workerPolling(p.pid),
    });
    this.settings.set(proc, setting);
    this.workerProcs[i] = proc;
    return proc;
  }

  /**
   * The processes a scenario needs (one gateway and one worker unless it asks for more), running and
   * ready (started or replaced as needed, in parallel). The first gateway and worker are `gateway`, `worker`.
   */
  async ensure(need: {
    bridges: number;
    gateways?: number;
    workers?: number;
    stepDelayMs: number;
    latencyMs: number;
  }): Promise<{
    gateway: AppProcess;
    gateways: AppProcess[];
    bridges: AppProcess[];
    worker: AppProcess;
    workers: AppProcess[];
  }> {
    // Surplus processes leave cleanly (SIGTERM): a bridge leaves the group, so the next rebalance does not wait.
    for (const extra of this.bridgeProcs.splice(need.bridges)) await extra.stop();
    for (const extra of this.gatewayProcs.splice(need.gateways ?? 1)) await extra.stop();
    for (const extra of this.workerProcs.splice(need.workers ?? 1)) await extra.stop();
    const gateways: AppProcess[] = [];
    for (let i = 0; i < (need.gateways ?? 1); i++) gateways.push(await this.gateway(i));
    const bridges: AppProcess[] = [];
    for (let i = 0; i < need.bridges; i++) bridges.push(await this.bridge(i, need.stepDelayMs));
    const workers: AppProcess[] = [];
    for (let i = 0; i < (need.workers ?? 1); i++) workers.push(await this.worker(i, need.latencyMs));
    await Promise.all([...gateways, ...bridges, ...workers].filter((p) => !p.running()).map((p) => p.start(120_000)));
    return { gateway: gateways[0], gateways, bridges, worker: workers[0], workers };
  }

  /** Stops every process; the next ensure() starts fresh ones (after a failed scenario, so it cannot spill over). */
  async recycle(): Promise<void> {
    await this.stopAll();
    this.gatewayProcs.splice(0);
    this.bridgeProcs.splice(0);
    this.workerProcs.splice(0);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.gatewayProcs, ...this.bridgeProcs, ...this.workerProcs].map((p) => p.stop()));
  }
}
