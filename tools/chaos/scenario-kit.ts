/**
 * What every chaos scenario is written in: the scenario names, the run's options, the context a
 * strike works on, a scenario's definition and the small helpers they share. ./scenarios,
 * ./multi-scenario and ./server-scenarios define scenarios with these; ./harness runs them.
 */
import type { AppProcess } from '../infra/app-process';
import type { IsolatedStack } from './isolated-stack';

export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The full matrix (what `npm run chaos` runs by default). */
export const SCENARIOS = [
  'gateway',
  'bridge',
  'bridge-rebalance',
  'worker-timer',
  'worker-payment',
  'kafka',
  'temporal',
  'multi',
] as const;
/**
 * Shorter combinations for the jest run: `bridge-pair` (two bridges, one SIGKILLed and restarted at
 * once: a kill, a restart and a rebalance in one ~30 s session expiry) and `worker` (one SIGKILL
 * while some runs sit in timers and others are charging).
 */
export const COMBINED_SCENARIOS = ['bridge-pair', 'worker'] as const;
export const ALL_SCENARIOS = [...SCENARIOS, ...COMBINED_SCENARIOS] as const;
export type ScenarioName = (typeof ALL_SCENARIOS)[number];

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
  /** Every gateway and worker (the first ones are `gateway` and `worker`). */
  gateways: AppProcess[];
  bridges: AppProcess[];
  worker: AppProcess;
  workers: AppProcess[];
  acked: () => number;
  notes: string[];
  failures: string[];
  /** When the struck process or server was gone (set by the strike; the time-to-recover starts here). */
  killedAt?: number;
  /** Processes the scenario killed on purpose (other exits are failures). */
  killedOnPurpose: Set<AppProcess>;
  /** The HTTP port of a gateway (WebSocket) or bridge (/healthz). */
  portOf: (proc: AppProcess) => number;
  /** The admin port of a gateway or bridge (/healthz, /readyz). */
  healthPortOf: (proc: AppProcess) => number;
  /** The payment ledger the workers write (JSON lines): the ground truth of charges. */
  ledgerFile: string;
}

export interface ScenarioDef {
  bridges: number;
  /** Gateways and workers (default one each). */
  gateways?: number;
  workers?: number;
  stepDelayMs?: number;
  latencyMs?: number;
  rate?: number;
  /** When to strike (polled every 200 ms while orders flow); default: a third acknowledged. */
  trigger?: (ctx: Ctx) => Promise<boolean>;
  strike: (ctx: Ctx) => Promise<void>;
}

export const third = (ctx: Ctx): Promise<boolean> => Promise.resolve(ctx.acked() >= Math.ceil(ctx.opts.orders / 3));

export interface KafkaCtx extends Ctx {
  outage?: { killedAt: number; restartAt: number };
}
