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
import { secs, type Ctx, type ScenarioDef, type ScenarioName } from './scenario-kit';
import { bridgeAssignments, countInStatus, formatAssignments, probeKafka, waitFor } from './cluster-observations';
import { SERVER_DEFS } from './server-scenarios';

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
