/**
 * The engine ceilings: workflows started straight on Temporal by a bare client, no gateway, Kafka
 * or bridge in front, against one Temporal server (the tuned or stock dev server, or the server on PostgreSQL):
 *  - bare engine: tools/bench/bare-workflow.ts (three no-op activities) on the bench's bare worker;
 *  - raw Temporal: processOrder on the order worker, at a given step delay, started with the
 *    bridge's own start call (bridge/starter.ts: same input, memo and search attributes), so it runs
 *    the same workflow path as the pipeline whatever that input grows into.
 * Starts are fire-and-forget: each start is issued without waiting for the earlier ones (at most
 * START_WINDOW start requests in flight, or paced at an offered rate), and completions are counted
 * through visibility, so neither the client's concurrency nor the workflows' duration bounds the
 * start rate: the rate measured is what the server and worker complete.
 */
import { performance } from 'node:perf_hooks';
import { startOrderWorkflow } from '../../bridge/starter';
import { workflowIdFor } from '../../common/order';
import { BARE_TASK_QUEUE } from './bare-activities';
import { AppName, BenchContext, cpuLine, drainNote, makeOrders, TemporalTarget, withApps } from './context';
import { percentiles, round } from './stats';
import { historyPerRun, listExecutions, summarizeRuns, waitForClosed } from './temporal-results';
import type { ConfigResult, LoadSpec } from './types';
import { sleep } from '../infra/proc';

/** Start requests in flight at once: a backstop for the client's memory, far above what any run needs. */
const START_WINDOW = 500;

export interface CeilingSpec extends LoadSpec {
  workflow: 'bare' | 'processOrder';
  target: TemporalTarget;
}

export async function runTemporalCeiling(ctx: BenchContext, spec: CeilingSpec): Promise<ConfigResult> {
  const { progress } = ctx;
  const { id, target, stepDelayMs } = spec;
  const bare = spec.workflow === 'bare';
  const prefix = `${ctx.runId}-${id}-`;
  const orders = makeOrders(prefix, spec.orders);
  const wfIdOf = (orderId: string): string => (bare ? `bare-${orderId}` : workflowIdFor({ orderId: orderId }));
  const wfPrefix = wfIdOf(prefix);
  progress.log(
    `${id}: starting the ${bare ? 'bare' : 'order'} worker against the ${target.settings} Temporal server at ${target.address}`,
  );
  const workerName: AppName = bare ? 'bare-worker' : 'worker';
  const start = { stepDelayMs, names: [workerName], target };
  return withApps(ctx, id, start, wfPrefix, async ({ apps, sampler: samplerOf }) => {
    const sampler = samplerOf({ worker: apps[workerName]?.pid });
    await sampler.start();
    const requestedAt = new Map<string, number>();
    const ack: number[] = [];
    const errors: Record<string, number> = {};
    const inFlight = new Set<Promise<void>>();
    progress.start(`${id}: started`, orders.length, 'workflows');
    const t0 = Date.now();
    const startDeadline = t0 + ctx.drainTimeoutMs;
    for (let i = 0; i < orders.length && Date.now() < startDeadline; i += 1) {
      if (spec.rate) {
        const due = t0 + (i * 1000) / spec.rate;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      while (inFlight.size >= START_WINDOW) await Promise.race(inFlight);
      const order = orders[i];
      const workflowId = wfIdOf(order.orderId);
      const p0 = performance.now();
      requestedAt.set(workflowId, Date.now());
      const started = (
        bare
          ? target.client.workflow.start('bareThreeActivities', { taskQueue: BARE_TASK_QUEUE, workflowId, args: [] })
          : startOrderWorkflow(target.client, order, stepDelayMs)
      ).then(
        () => {
          ack.push(performance.now() - p0);
          progress.update(ack.length);
        },
        (err: unknown) => {
          requestedAt.delete(workflowId);
          const key = (err as Error).name || 'Error';
          errors[key] = (errors[key] ?? 0) + 1;
        },
      );
      inFlight.add(started);
      void started.finally(() => inFlight.delete(started));
    }
    await Promise.all(inFlight);
    const startSeconds = (Date.now() - t0) / 1000;
    const startedCount = requestedAt.size;
    progress.start(`${id}: completed`, startedCount, 'workflows');
    const timeLeft = Math.max(10_000, startDeadline - Date.now());
    const drain = await waitForClosed(target.client, wfPrefix, startedCount, timeLeft, ctx.stallMs, (n) =>
      progress.update(n),
    );
    progress.stop();
    const usage = await sampler.stop();
    const execs = await listExecutions(target.client, wfPrefix);
    const runs = summarizeRuns(requestedAt, execs);
    const seconds = runs.lastClose > t0 ? (runs.lastClose - t0) / 1000 : usage.windowSeconds;
    const what = bare ? 'bare engine (3 no-op activities)' : `raw Temporal processOrder, delay ${stepDelayMs} ms`;
    const result: ConfigResult = {
      id,
      kind: bare ? 'bare-engine' : 'raw-temporal',
      label: `${what}, ${target.settings === 'postgres' ? 'Temporal on PostgreSQL' : `${target.settings} dev server`}`,
      stepDelayMs: bare ? undefined : stepDelayMs,
      temporalSettings: target.settings,
      load: spec.rate ? `${spec.rate} starts/s, fire-and-forget` : 'fire-and-forget starts, full speed',
      orders: orders.length,
      completed: runs.completed,
      failed: runs.failed,
      errors,
      throughput: round(runs.completed / seconds),
      steadyThroughput: runs.steadyPerSecond,
      throughputUnit: 'orders/s',
      seconds: round(seconds, 2),
      offeredPerSecond: spec.rate,
      acceptedPerSecond: round(startedCount / Math.max(0.001, startSeconds)),
      ackMs: percentiles(ack),
      e2eMs: runs.e2e,
      usage,
      historyPerOrder: await historyPerRun(target.client, execs).catch(() => undefined),
      notes: drain.timedOut ? [drainNote(drain, startedCount, ctx)] : [],
    };
    progress.log(
      `${id}: ${runs.completed}/${orders.length} completed, ${result.throughput} orders/s (steady ${result.steadyThroughput ?? '–'}); CPU ${cpuLine(usage)}`,
    );
    return result;
  });
}
