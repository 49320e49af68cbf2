/**
 * The pipeline configuration: WebSocket clients -> gateway -> Kafka -> bridge -> Temporal ->
 * worker, each app its own process, at full speed or at a fixed offered rate, at one step delay.
 * The gateway's event-loop delay is read from tools/bench/loop-probe.ts over the placement phase.
 */
import * as fs from 'node:fs';
import { CONSUMER_GROUPS, TOPICS } from '../../common/names';
import { workflowIdFor } from '../../common/order';
import { AppName, BenchContext, cpuLine, drainNote, makeOrders, TemporalTarget, withApps } from './context';
import { waitForNoLag } from './kafka-util';
import { advanceGroupPastOwnOrders, describeAdvance } from './leftover-orders';
import { groupAtTopicEnd } from '../infra/app-resources';
import { SpanReceiver } from '../infra/span-receiver';
import type { LoopDelay } from './loop-probe';
import { httpGet } from '../infra/proc';
import { percentiles, round } from './stats';
import { historyPerRun, listExecutions, summarizeRuns, waitForClosed } from './temporal-results';
import type { ConfigResult, LoadSpec } from './types';
import { placeOrders } from './ws-load';
import { AMEND_HISTORY_SAMPLE, AmendFollower, type AmendMode } from './amend-load';
import { sleep } from '../infra/proc';

/** The bridge's consumer group (BRIDGE_GROUP_ID's default). */
export const BRIDGE_GROUP = CONSUMER_GROUPS.bridge;

/** Asks the gateway's loop probe for the histogram since the last ask; undefined if it does not answer. */
async function readLoopDelay(pid: number | undefined, file: string): Promise<LoopDelay | undefined> {
  if (pid === undefined || !file) return undefined;
  fs.rmSync(file, { force: true });
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 40; i += 1) {
    await sleep(50);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as LoopDelay;
    } catch {
      // not written yet
    }
  }
  return undefined;
}

/**
 * The offered rate is spread over all connections. `tracing`: run the apps with TRACING off or on
 * (sampler at 100 %, exporting OTLP/HTTP to a receiver in this process that only counts the spans),
 * under a bridge group of their own that starts at the topic's end (as on the bench's own Temporal on PostgreSQL).
 * `customer`: the gateway in JWT mode, the orders placed by this customer (so their workflow ids are
 * scoped to it); `env`: more settings for the apps; `beside`: a load started just before the first
 * order is placed and stopped after the last one closed (the look-up flood), its result kept in the
 * configuration's evidence. `amend`: the orders are followed until VALIDATED and (`once`) amended
 * once then (./amend-load), the connections held open until that is done.
 */
export type PipelineSpec = LoadSpec & {
  amend?: AmendMode;
  tracing?: 'off' | 'on';
  /**
   * Payload encryption for the apps: `off` (PAYLOAD_ENCRYPTION=off), `on` (Temporal's payloads sealed),
   * `topics` (also the order fields on order-placement, KAFKA_ENCRYPT_ORDER_FIELDS=on); under a bridge
   * group of their own, as the tracing pair.
   */
  codec?: 'off' | 'on' | 'topics';
  customer?: { secret: string; customerId: string; token: string };
  env?: Record<string, string>;
  beside?: { what: string; start(url: string): Promise<{ stop(): Promise<object> }> };
};

/** The apps' settings for a PipelineSpec `codec`. */
export function codecEnv(codec: NonNullable<PipelineSpec['codec']>): Record<string, string> {
  return {
    PAYLOAD_ENCRYPTION: codec === 'off' ? 'off' : 'on',
    KAFKA_ENCRYPT_ORDER_FIELDS: codec === 'topics' ? 'on' : 'off',
  };
}

export async function runPipeline(
  ctx: BenchContext,
  spec: PipelineSpec,
  target: TemporalTarget = ctx.temporal,
): Promise<ConfigResult> {
  const { progress } = ctx;
  const { id, stepDelayMs, rate } = spec;
  const prefix = `${ctx.runId}-${id}-`;
  const orders = makeOrders(prefix, spec.orders);
  const notes: string[] = [];
  progress.log(`${id}: starting worker, bridge and gateway (STEP_DELAY_MS=${stepDelayMs})`);
  const receiver = spec.tracing === undefined ? undefined : await SpanReceiver.start({ keep: false });
  // A group of its own at the topic's end for the tracing pair, and on the bench's own Temporal on
  // PostgreSQL: orders left on the topic by others belong to the shared dev server, not to this engine.
  const ownGroup = spec.tracing !== undefined || spec.codec !== undefined || target !== ctx.temporal;
  const group = ownGroup ? `${ctx.runId}-${id}` : BRIDGE_GROUP;
  if (ownGroup) await groupAtTopicEnd(ctx.kafka, group, TOPICS.orderPlacement);
  const env: Record<string, string> = { ...(ownGroup ? { BRIDGE_GROUP_ID: group } : {}), ...spec.env };
  if (spec.customer) env.GATEWAY_JWT_SECRET = spec.customer.secret;
  const workflowIdOf = (orderId: string): string =>
    workflowIdFor(spec.customer ? { orderId, customerId: spec.customer.customerId, idScope: 'customer' } : { orderId });
  if (spec.tracing !== undefined)
    Object.assign(env, {
      TRACING: spec.tracing === 'on' ? '1' : '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver?.url ?? '',
      OTEL_TRACES_SAMPLER: 'always_on',
    });
  if (spec.codec !== undefined) Object.assign(env, codecEnv(spec.codec));
  const start = { stepDelayMs, names: ['worker', 'bridge', 'gateway'] as AppName[], target, env };
  try {
    return await withApps(ctx, id, start, `order-${prefix}`, async ({ apps, sampler: samplerOf }) => {
      const { gateway, bridge, worker } = apps;
      // Whatever is still on order-placement for the group (e.g. from a dev run) is consumed first.
      const lag = await waitForNoLag(ctx.kafka, group, TOPICS.orderPlacement, 120_000);
      if (lag.initial > 0)
        notes.push(`bridge caught up on ${lag.initial} older events before the load (lag left: ${lag.final})`);

      const sampler = samplerOf({ gateway: gateway?.pid, bridge: bridge?.pid, worker: worker?.pid });
      await sampler.start();
      await readLoopDelay(gateway?.pid, apps.loopProbeFile);
      progress.start(`${id}: accepted`, orders.length, 'orders');
      const url = `ws://127.0.0.1:${ctx.gatewayPort}`;
      let beside: { stop(): Promise<object> } | undefined;
      const follower = spec.amend ? new AmendFollower(orders, spec.amend, ctx.drainTimeoutMs) : undefined;
      const placement = await placeOrders({
        url,
        orders,
        connections: ctx.connections,
        rate,
        token: spec.customer?.token,
        // The orders' connections are open before the load beside them starts (a flood must not keep them out).
        beforeSending: async () => void (beside = await spec.beside?.start(url)),
        timeoutMs: Math.max(120_000, rate ? (orders.length / rate) * 3_000 : 0),
        onAnswer: (n) => progress.update(n),
        follow: follower,
      });
      const amend = follower?.summary();
      if (amend?.unfinished) notes.push(`${amend.unfinished} followed orders not done when the follow gave up`);
      const loopDelay = await readLoopDelay(gateway?.pid, apps.loopProbeFile);
      if (!loopDelay) notes.push('the gateway event-loop probe did not answer');
      progress.start(`${id}: completed`, placement.accepted, 'workflows');
      const drain = await waitForClosed(
        target.client,
        `order-${prefix}`,
        placement.accepted,
        ctx.drainTimeoutMs,
        ctx.stallMs,
        (n) => progress.update(n),
      );
      progress.stop();
      const besideResult = await beside?.stop();
      if (besideResult) notes.push(`${spec.beside?.what}: ${JSON.stringify(besideResult)}`);
      const usage = await sampler.stop();
      if (drain.timedOut) notes.push(drainNote(drain, placement.accepted, ctx));

      const bridgeHealth = await httpGet(`http://127.0.0.1:${ctx.bridgePort}/healthz`);
      const bridgeStats = bridgeHealth ? (JSON.parse(bridgeHealth.body) as Record<string, unknown>) : undefined;
      const execs = await listExecutions(target.client, `order-${prefix}`);

      const ack: number[] = [];
      const toStart: number[] = [];
      const placedAt = new Map<string, number>();
      for (const t of placement.timings) {
        if (t.acceptMs !== undefined) ack.push(t.acceptMs);
        const wfId = workflowIdOf(t.orderId);
        placedAt.set(wfId, t.sentAt);
        const exec = execs.get(wfId);
        if (exec && t.acceptedAt !== undefined) toStart.push(exec.startMs - t.acceptedAt);
      }
      const runs = summarizeRuns(placedAt, execs);
      const firstSent = Math.min(...placement.timings.map((t) => t.sentAt));
      const seconds = runs.lastClose > firstSent ? (runs.lastClose - firstSent) / 1000 : usage.windowSeconds;
      const spans = receiver?.count;
      if (spans !== undefined)
        notes.push(
          `tracing ${spec.tracing}: ${spans} spans exported (${round(spans / Math.max(1, runs.completed), 1)} per completed order)`,
        );
      const result: ConfigResult = {
        id,
        kind: 'pipeline',
        label:
          `pipeline, ${rate ? `${rate}/s offered` : 'full speed'}, delay ${stepDelayMs} ms` +
          (target.settings === 'postgres' ? ', Temporal on PostgreSQL' : '') +
          (spec.tracing ? `, tracing ${spec.tracing}` : '') +
          (spec.codec
            ? `, payload encryption ${spec.codec === 'topics' ? 'on, order fields on the topics too' : spec.codec}`
            : '') +
          (spec.customer ? `, JWT customer ${spec.customer.customerId}` : '') +
          (spec.beside ? `, beside: ${spec.beside.what}` : '') +
          (spec.amend === 'once' ? ', each amended once after VALIDATED' : '') +
          (spec.amend === 'none' ? ', followed to VALIDATED, not amended' : ''),
        stepDelayMs,
        temporalSettings: target.settings,
        load: rate ? `${rate}/s over ${ctx.connections} conns` : `full speed, ${ctx.connections} conns`,
        orders: orders.length,
        completed: runs.completed,
        failed: runs.failed,
        errors: placement.errors,
        throughput: round(runs.completed / seconds),
        steadyThroughput: runs.steadyPerSecond,
        throughputUnit: 'orders/s',
        seconds: round(seconds, 2),
        offeredPerSecond: round(placement.offeredPerSecond),
        acceptedPerSecond: round(placement.accepted / Math.max(0.001, placement.seconds)),
        ackMs: percentiles(ack),
        acceptToStartMs: percentiles(toStart),
        e2eMs: runs.e2e,
        usage,
        gatewayLoopDelayMs: loopDelay,
        amend,
        historyPerOrder: await historyPerRun(target.client, execs, spec.amend ? AMEND_HISTORY_SAMPLE : undefined).catch(
          () => undefined,
        ),
        evidence: {
          bridge: bridgeStats,
          placementSeconds: round(placement.seconds, 2),
          spansExported: spans,
          ...(besideResult ? { beside: besideResult } : {}),
        },
        notes,
      };
      progress.log(
        `${id}: ${runs.completed}/${orders.length} completed, ${result.throughput} orders/s (steady ${result.steadyThroughput ?? '–'}); ` +
          `accept p99 ${result.ackMs?.p99 ?? '–'} ms; ` +
          (amend?.mode === 'once'
            ? `amended ${amend.amended}/${amend.followed}, round trip p99 ${amend.roundTripMs?.p99 ?? '–'} ms; `
            : '') +
          `gateway loop delay p99 ${loopDelay?.p99 ?? '–'} ms; CPU ${cpuLine(usage)}`,
      );
      return result;
    });
  } finally {
    if (ownGroup) await leaveNothingForBridge(ctx, id, notes);
    // After the apps stopped: they export their last spans on the way out.
    await receiver?.close();
  }
}

/**
 * A configuration under a group of its own (or one that writes ORDER_PLACED events itself, like the
 * order history's feed) wrote its orders to order-placement ahead of the production group: moves that group past them (run-wide prefix, so orders an earlier configuration
 * left there go too), once the gateway has stopped writing, so the next dev bridge does not start them.
 */
export async function leaveNothingForBridge(ctx: BenchContext, id: string, notes: string[]): Promise<void> {
  const advance = await advanceGroupPastOwnOrders(ctx.kafka, {
    groupId: BRIDGE_GROUP,
    topic: TOPICS.orderPlacement,
    orderIdPrefix: `${ctx.runId}-`,
  });
  for (const line of describeAdvance(BRIDGE_GROUP, TOPICS.orderPlacement, advance)) {
    notes.push(line);
    ctx.progress.log(`${id}: ${line}`);
  }
}
