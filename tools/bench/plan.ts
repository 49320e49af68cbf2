/**
 * Which configurations one `npm run bench` runs, in which order, with which ids. Every
 * configuration is bounded in count (its order count) and in time (--drain-timeout), and stops
 * by itself; the ratios and targets (verdicts.ts) look results up by these ids.
 */
import type { BenchContext, TemporalTarget } from './context';
import type { TemporalSettings } from './types';
import { lookupsPipeline, type FloodMode } from './lookup-flood';
import { runPipeline } from './pipeline';
import { runRawKafka } from './raw-kafka';
import { runSeedBaseline } from './seed-consumer';
import { runTemporalCeiling } from './temporal-ceiling';
import type { ConfigResult } from './types';

export const KINDS = [
  'kafka',
  'bare',
  'temporal',
  'pipeline',
  'postgres',
  'fanout',
  'history',
  'tracing',
  'codec',
  'seed',
  'idle',
  'lookups',
  'amend',
] as const;
export type SelKind = (typeof KINDS)[number];

/**
 * Kinds a run leaves out unless `--only` names them: the look-up flood (docs/SECURITY.md) adds about
 * 5 minutes, the amend pair two more pipelines at the slow step delay.
 */
export const ON_REQUEST_KINDS: ReadonlySet<SelKind> = new Set<SelKind>(['lookups', 'amend']);

export interface PlanOptions {
  kinds: Set<SelKind>;
  /** Orders per configuration at step delay 0. */
  orders: number;
  /** The seed's own step delay, and the orders for the steady-state configurations at it. */
  slowDelay: number;
  slowOrders: number;
  rate: number;
  /** Time cap of the seed-style consumer at the slow delay, seconds. */
  seedSeconds: number;
  /** Also measure the ceilings against a dev server at stock settings. */
  stock: boolean;
  /** The look-up flood: its connections, the look-ups it sends at most, and the other customer's offered orders/s. */
  floodConnections: number;
  floodLookups: number;
  lookupsRate: number;
}

export const ids = (o: Pick<PlanOptions, 'rate' | 'slowDelay'>) => ({
  kafka1: 'kafka-1msg',
  kafka100: 'kafka-batch100',
  bareTuned: 'bare-tuned',
  bareStock: 'bare-stock',
  barePostgres: 'bare-postgres',
  pipePostgres: 'pipe-full-d0-postgres',
  temporalD0: 'temporal-d0',
  temporalD0Stock: 'temporal-d0-stock',
  temporalSlow: `temporal-d${o.slowDelay}`,
  pipeFull: 'pipe-full-d0',
  pipeRated: `pipe-r${o.rate}-d0`,
  pipeSlow: `pipe-full-d${o.slowDelay}`,
  seedSlow: `seed-d${o.slowDelay}`,
  tracingOff: 'pipe-tracing-off-d0',
  tracingOn: 'pipe-tracing-on-d0',
  codecOff: 'pipe-codec-off-d0',
  codecOn: 'pipe-codec-on-d0',
  codecTopics: 'pipe-codec-topics-d0',
  lookupsQuiet: 'lookups-quiet',
  lookupsFlood: 'lookups-flood',
  lookupsFloodOpen: 'lookups-flood-open',
  lookupsQuietAfter: 'lookups-quiet-after',
  amendNone: `amend-none-d${o.slowDelay}`,
  amendOnce: `amend-once-d${o.slowDelay}`,
});

/**
 * In display order; run.ts runs the 'tuned' steps first, then the 'stock' ones (one stock server for
 * all), then the 'postgres' ones (one Temporal server on PostgreSQL for all).
 */
export interface Step {
  id: string;
  /**
   * 'stock': runs against the bench's own stock dev server; 'postgres': against its own Temporal server
   * on PostgreSQL (each started once for all its steps).
   */
  server: TemporalSettings;
  run(ctx: BenchContext, target: TemporalTarget): Promise<ConfigResult>;
}

/**
 * The Temporal server on PostgreSQL runs at a fraction of the dev server's rate on a shared 2-core box:
 * at most 600 orders each keep its two configurations within a few minutes (a rate needs no more).
 */
export const postgresOrders = (orders: number): number => Math.min(orders, 600);

export function planSteps(o: PlanOptions): Step[] {
  const id = ids(o);
  const steps: Step[] = [];
  const add = (kind: SelKind, step: Step): void => {
    if (o.kinds.has(kind)) steps.push(step);
  };
  add('kafka', { id: id.kafka1, server: 'tuned', run: (ctx) => runRawKafka(ctx, id.kafka1, o.orders, 1) });
  add('kafka', { id: id.kafka100, server: 'tuned', run: (ctx) => runRawKafka(ctx, id.kafka100, o.orders, 100) });
  const ceiling = (
    stepId: string,
    workflow: 'bare' | 'processOrder',
    server: TemporalSettings,
    orders: number,
    stepDelayMs: number,
  ): Step => ({
    id: stepId,
    server,
    run: (ctx, target) => runTemporalCeiling(ctx, { id: stepId, workflow, target, orders, stepDelayMs }),
  });
  add('bare', ceiling(id.bareTuned, 'bare', 'tuned', o.orders, 0));
  if (o.stock) add('bare', ceiling(id.bareStock, 'bare', 'stock', o.orders, 0));
  // The engine a team moves to: the bare engine on the Temporal server on PostgreSQL, beside the dev server's.
  add('postgres', ceiling(id.barePostgres, 'bare', 'postgres', postgresOrders(o.orders), 0));
  add('temporal', ceiling(id.temporalD0, 'processOrder', 'tuned', o.orders, 0));
  if (o.stock) add('temporal', ceiling(id.temporalD0Stock, 'processOrder', 'stock', o.orders, 0));
  add('pipeline', {
    id: id.pipeFull,
    server: 'tuned',
    run: (ctx) => runPipeline(ctx, { id: id.pipeFull, orders: o.orders, stepDelayMs: 0 }),
  });
  add('postgres', {
    id: id.pipePostgres,
    server: 'postgres',
    run: (ctx, target) =>
      runPipeline(ctx, { id: id.pipePostgres, orders: postgresOrders(o.orders), stepDelayMs: 0 }, target),
  });
  add('pipeline', {
    id: id.pipeRated,
    server: 'tuned',
    run: (ctx) => runPipeline(ctx, { id: id.pipeRated, orders: o.orders, stepDelayMs: 0, rate: o.rate }),
  });
  if (o.slowDelay > 0) {
    add('temporal', ceiling(id.temporalSlow, 'processOrder', 'tuned', o.slowOrders, o.slowDelay));
    add('pipeline', {
      id: id.pipeSlow,
      server: 'tuned',
      run: (ctx) => runPipeline(ctx, { id: id.pipeSlow, orders: o.slowOrders, stepDelayMs: o.slowDelay }),
    });
  }
  // The cost of tracing (docs/TRACING.md): the same full-speed pipeline with TRACING off, then on.
  for (const [stepId, tracing] of [
    [id.tracingOff, 'off'],
    [id.tracingOn, 'on'],
  ] as const) {
    add('tracing', {
      id: stepId,
      server: 'tuned',
      run: (ctx) => runPipeline(ctx, { id: stepId, orders: o.orders, stepDelayMs: 0, tracing }),
    });
  }
  // The cost of payload encryption (docs/SECURITY.md "Customers' data in Temporal"): the same full-speed
  // pipeline with PAYLOAD_ENCRYPTION off, on, and on with the order fields sealed on the topics too.
  for (const [stepId, codec] of [
    [id.codecOff, 'off'],
    [id.codecOn, 'on'],
    [id.codecTopics, 'topics'],
  ] as const) {
    add('codec', {
      id: stepId,
      server: 'tuned',
      run: (ctx) => runPipeline(ctx, { id: stepId, orders: o.orders, stepDelayMs: 0, codec }),
    });
  }
  // Bounded look-ups (docs/SECURITY.md): one customer's orders at the fixed offered rate alone, beside
  // another customer's flood of random-id look-ups (the default budget), alone again (the runs alone
  // bracket the flood, so the machine's drift meanwhile shows), and beside the same flood with the
  // budget opened wide (what it prevents).
  for (const [stepId, flood] of [
    [id.lookupsQuiet, 'none'],
    [id.lookupsFlood, 'limited'],
    [id.lookupsQuietAfter, 'none'],
    [id.lookupsFloodOpen, 'open'],
  ] as Array<[string, FloodMode]>) {
    add('lookups', {
      id: stepId,
      server: 'tuned',
      run: async (ctx) =>
        runPipeline(
          ctx,
          await lookupsPipeline({
            id: stepId,
            orders: o.orders,
            rate: o.lookupsRate,
            flood,
            floodConnections: o.floodConnections,
            floodLookups: o.floodLookups,
            floodSeconds: Math.round(ctx.drainTimeoutMs / 1000) + 120,
          }),
        ),
    });
  }
  // Amending an order (docs/DESIGN.md): the slow pipeline with every order followed to VALIDATED,
  // not amended, then the same with each one amended once right then. The window before payment is
  // the first step delay, so with none there is nothing to measure.
  if (o.slowDelay > 0) {
    for (const [stepId, amend] of [
      [id.amendNone, 'none'],
      [id.amendOnce, 'once'],
    ] as const) {
      add('amend', {
        id: stepId,
        server: 'tuned',
        run: (ctx) => runPipeline(ctx, { id: stepId, orders: o.slowOrders, stepDelayMs: o.slowDelay, amend }),
      });
    }
  }
  add('seed', {
    id: id.seedSlow,
    server: 'tuned',
    run: (ctx) => runSeedBaseline(ctx, id.seedSlow, o.slowOrders, o.slowDelay, o.seedSeconds * 1000),
  });
  return steps;
}
