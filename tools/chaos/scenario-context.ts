/** What a crash-matrix scenario is given (options, the running processes) and what it defines. */
import type { AppProcess } from '../infra/app-process';
import type { IsolatedStack } from './isolated-stack';

export interface ScenarioOptions {
  orders: number;
  connections: number;
  /** First-attempt orders per second over all connections. */
  rate: number;
  /** STEP_DELAY_MS for scenarios that do not choose their own. */
  stepDelayMs: number;
  /** How long a killed Kafka broker stays down before it is restarted. */
  outageMs: number;
  /**
   * How long a killed Temporal server stays down. The Temporal client retries UNAVAILABLE by itself
   * for ~20 s (10 attempts, exponential backoff) before a start fails; only a longer outage shows
   * the bridge's own backoff and its degraded /healthz.
   */
  temporalOutageMs: number;
  /** Bound on waiting for every acknowledged order to finish. */
  completionTimeoutMs: number;
  /** Bound on placing (resends included). */
  placementTimeoutMs: number;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<ScenarioOptions, 'log'> = {
  orders: 300,
  connections: 6,
  rate: 30,
  stepDelayMs: 200,
  outageMs: 8_000,
  temporalOutageMs: 30_000,
  completionTimeoutMs: 240_000,
  placementTimeoutMs: 180_000,
};

/** Everything a scenario's strike can use. */
export interface Ctx {
  stack: IsolatedStack;
  opts: ScenarioOptions;
  prefix: string;
  gateway: AppProcess;
  bridges: AppProcess[];
  worker: AppProcess;
  acked: () => number;
  notes: string[];
  failures: string[];
  /** When the struck process or server was gone (set by the strike; the time-to-recover starts here). */
  killedAt?: number;
  /** Processes the scenario killed on purpose (other exits are failures). */
  killedOnPurpose: Set<AppProcess>;
  /** The HTTP port of a gateway or bridge (WebSocket, /healthz). */
  portOf: (proc: AppProcess) => number;
}

export interface ScenarioDef {
  bridges: number;
  stepDelayMs?: number;
  latencyMs?: number;
  rate?: number;
  /** When to strike (polled every 200 ms while orders flow); default: a third acknowledged. */
  trigger?: (ctx: Ctx) => Promise<boolean>;
  strike: (ctx: Ctx) => Promise<void>;
}

export interface KafkaCtx extends Ctx {
  outage?: { killedAt: number; restartAt: number };
}
