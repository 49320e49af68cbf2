/**
 * The crash matrix's scenarios: the whole pipeline as separate OS processes on an isolated stack,
 * one process or server SIGKILLed partway through a stream of orders and restarted.
 *
 *   gateway           gateway SIGKILLed and restarted; clients resend what was not acknowledged
 *   bridge            the only bridge SIGKILLed and restarted
 *   bridge-rebalance  two bridges, one SIGKILLed for good: the other takes its partitions over
 *   worker-timer      worker SIGKILLed while runs sit in durable timers, restarted
 *   worker-payment    worker SIGKILLed while charges are in flight (SIM_LATENCY_MS), restarted
 *   kafka             the broker SIGKILLed, kept down, restarted on its data
 *   temporal          the dev server SIGKILLed, kept down, restarted on the same SQLite file
 *   multi             two of each process, orders through both gateways, one of each SIGKILLed
 *                     (./multi-scenario.ts; the server strikes are in ./server-scenarios.ts)
 *
 * Each scenario says how many bridges it needs, its step delay and payment latency, when to strike
 * (its trigger) and the strike itself, which notes what it saw and fails checks it can make on the spot.
 */
import type { Kafka } from 'kafkajs';
import type { AppProcess } from '../infra/app-process';
import { sleep } from '../infra/proc';
import { MULTI } from './multi-scenario';
import { bridgeAssignments, countInStatus, formatAssignments, probeKafka, waitFor } from './cluster-observations';
import { secs } from './report';
import { SERVER_DEFS } from './server-scenarios';
import type { IsolatedStack } from './isolated-stack';

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
  /** The HTTP port of a gateway or bridge (WebSocket, /healthz). */
  portOf: (proc: AppProcess) => number;
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
const inStatus = (ctx: Ctx, statuses: string[]): Promise<number> =>
  countInStatus(ctx.stack.temporal, ctx.prefix, statuses);

/** Notes the bridges' partitions before a kill, failing the check unless two bridges share them. */
async function assignmentsBefore(ctx: Ctx, kafka: Kafka): Promise<void> {
  const before = await bridgeAssignments(kafka).catch(() => []);
  ctx.notes.push(`before: ${formatAssignments(before)}`);
  if (before.length !== 2 || before.some((m) => m.partitions.length === 0)) {
    ctx.failures.push(
      `expected two bridges sharing the partitions before the kill, got ${JSON.stringify(before.map((m) => m.partitions))}`,
    );
  }
}

const killAndRestart =
  (pick: (ctx: Ctx) => AppProcess, downMs: number) =>
  async (ctx: Ctx): Promise<void> => {
    const proc = pick(ctx);
    const at = Date.now();
    ctx.killedOnPurpose.add(proc);
    await proc.kill();
    ctx.killedAt = Date.now();
    ctx.notes.push(`${proc.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
    await sleep(downMs);
    await proc.start();
    ctx.killedOnPurpose.delete(proc);
    ctx.notes.push(`${proc.name} back in ${secs(Date.now() - at)}`);
  };

export const DEFS: Record<ScenarioName, ScenarioDef> = {
  gateway: { bridges: 1, strike: killAndRestart((c) => c.gateway, 500) },

  bridge: { bridges: 1, strike: killAndRestart((c) => c.bridges[0], 0) },

  'bridge-pair': {
    bridges: 2,
    async strike(ctx) {
      const kafka = probeKafka(ctx.stack.kafkaBrokers);
      await assignmentsBefore(ctx, kafka);
      // Restarted at once: it can join only once the dead member's session (30 s) has expired.
      await killAndRestart((c) => c.bridges[1], 0)(ctx);
      const after = await bridgeAssignments(kafka).catch(() => []);
      ctx.notes.push(`after: ${formatAssignments(after)}`);
      if (after.length !== 2 || after.reduce((n, m) => n + m.partitions.length, 0) !== 6)
        ctx.failures.push(
          `expected two bridges holding all six partitions after the restart, got ${JSON.stringify(after)}`,
        );
    },
  },

  'bridge-rebalance': {
    bridges: 2,
    async strike(ctx) {
      const kafka = probeKafka(ctx.stack.kafkaBrokers);
      await assignmentsBefore(ctx, kafka);
      const victim = ctx.bridges[1];
      ctx.killedOnPurpose.add(victim);
      const at = Date.now();
      await victim.kill();
      ctx.killedAt = Date.now();
      ctx.notes.push(`${victim.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged (not restarted)`);
      // The dead member keeps its partitions until its session (30 s) expires; then the survivor holds all six.
      let after: Awaited<ReturnType<typeof bridgeAssignments>> = [];
      const tookOver = await waitFor(
        async () => {
          after = await bridgeAssignments(kafka).catch(() => []);
          return after.length === 1 && after[0].partitions.length === 6;
        },
        1_000,
        90_000,
      );
      ctx.notes.push(`after ${secs(Date.now() - at)}: ${formatAssignments(after)}`);
      if (!tookOver)
        ctx.failures.push(`the surviving bridge did not take all partitions over: ${JSON.stringify(after)}`);
    },
  },

  'worker-timer': {
    bridges: 1,
    stepDelayMs: 3_000,
    async trigger(ctx) {
      return (
        ctx.acked() >= Math.ceil(ctx.opts.orders / 3) &&
        (await inStatus(ctx, ['VALIDATED', 'CHARGED'])) >= Math.max(3, Math.floor(ctx.opts.orders / 10))
      );
    },
    async strike(ctx) {
      const inTimer = await inStatus(ctx, ['VALIDATED', 'CHARGED']);
      await killAndRestart((c) => c.worker, 1_000)(ctx);
      ctx.notes.unshift(`${inTimer} runs in a durable timer at the kill`);
    },
  },

  'worker-payment': {
    bridges: 1,
    stepDelayMs: 1_000,
    latencyMs: 1_500,
    async trigger(ctx) {
      return (await inStatus(ctx, ['CHARGING'])) >= Math.max(3, Math.floor(ctx.opts.orders / 10));
    },
    async strike(ctx) {
      const charging = await inStatus(ctx, ['CHARGING']);
      await killAndRestart((c) => c.worker, 1_000)(ctx);
      ctx.notes.unshift(`${charging} charges in flight at the kill`);
    },
  },

  worker: {
    bridges: 1,
    stepDelayMs: 1_500,
    latencyMs: 800,
    async trigger(ctx) {
      const [charging, inTimer, shipping] = await Promise.all([
        inStatus(ctx, ['CHARGING']),
        inStatus(ctx, ['VALIDATED', 'CHARGED']),
        inStatus(ctx, ['SHIPPING', 'REFUNDED']),
      ]);
      const enough = Math.max(2, Math.floor(ctx.opts.orders / 20));
      // Shipping in flight would add its 60 s start-to-close timeout to the wait: strike before it.
      return charging >= enough && inTimer >= enough && shipping === 0;
    },
    async strike(ctx) {
      const [charging, inTimer] = await Promise.all([
        inStatus(ctx, ['CHARGING']),
        inStatus(ctx, ['VALIDATED', 'CHARGED']),
      ]);
      await killAndRestart((c) => c.worker, 500)(ctx);
      ctx.notes.unshift(`${inTimer} runs in a durable timer and ${charging} charges in flight at the kill`);
    },
  },

  ...SERVER_DEFS,

  multi: MULTI,
};

export interface KafkaCtx extends Ctx {
  outage?: { killedAt: number; restartAt: number };
}
