/**
 * The configurations the bench measures:
 *  - pipeline: WebSocket clients -> gateway -> Kafka -> bridge -> Temporal -> worker (own processes);
 *  - raw Temporal ceiling: a bare client starting processOrder directly on the bench worker's queue;
 *  - raw Kafka ceiling: kafkajs producing the gateway's ORDER_PLACED events to a fresh topic;
 *  - seed-style baseline: one kafkajs eachMessage consumer doing validate, charge, ship in-process;
 *  - idle connections: many open, silent WebSocket connections against the gateway.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { Kafka } from 'kafkajs';
import { simulatedProviders } from '../activities/simulated';
import { TASK_QUEUE, TOPICS } from '../common/config';
import { Order, orderPlacedEvent, workflowIdFor } from '../common/order';
import { createTopic, waitForNoLag } from './kafka-util';
import { AppProcess, httpGet, startApp } from './procs';
import { Progress } from './progress';
import { Sampler } from './sampler';
import { percentiles, pool, round, sleep } from './stats';
import { historyProfile, listExecutions, terminateRunning, waitForClosed } from './temporal-results';
import type { ConfigResult, IdleResult } from './types';
import { BenchOrder, openConnections, placeOrders } from './ws-load';

export interface BenchContext {
  runId: string;
  brokers: string[];
  temporalAddress: string;
  namespace: string;
  client: Client;
  kafka: Kafka;
  serverPids: { kafka?: number; temporal?: number };
  logDir: string;
  gatewayPort: number;
  bridgePort: number;
  connections: number;
  ceilingConcurrency: number;
  drainTimeoutMs: number;
  /** Give up on a configuration when no run closed for this long. */
  stallMs: number;
  sampleMs: number;
  progress: Progress;
  /** Topics the bench created (deleted at the end). */
  topics: string[];
}

/** The partitions the launcher gives order-placement; the bench's fresh topics get the same. */
const PARTITIONS = 6;
/** The bridge's consumer group (hard-coded in bridge/bridge.ts). */
const BRIDGE_GROUP = 'order-bridge';

export function makeOrders(prefix: string, count: number): BenchOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    orderId: `${prefix}${i}`,
    item: `Bench widget ${i % 17}`,
    price: 10 + (i % 90),
    quantity: 1 + (i % 3),
  }));
}

function appEnv(ctx: BenchContext, stepDelayMs: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATEWAY_PORT: String(ctx.gatewayPort),
    BRIDGE_HEALTH_PORT: String(ctx.bridgePort),
    STEP_DELAY_MS: String(stepDelayMs),
    TEMPORAL_NAMESPACE: ctx.namespace,
    // The bench's charges go to their own ledger, not the dev ledger in .data/.
    SIM_LEDGER_FILE: path.join(ctx.logDir, 'ledger.jsonl'),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
}

const serverTargets = (ctx: BenchContext): Record<string, number | undefined> => ({
  kafka: ctx.serverPids.kafka,
  temporal: ctx.serverPids.temporal,
  bench: process.pid,
});

/** Starts the named app processes in parallel; if one fails, stops the others and rethrows. */
async function startApps(ctx: BenchContext, cfgId: string, stepDelayMs: number, names: Array<'worker' | 'bridge' | 'gateway'>): Promise<Record<string, AppProcess>> {
  const env = appEnv(ctx, stepDelayMs);
  const logDir = path.join(ctx.logDir, cfgId);
  const ready = {
    worker: { logPattern: /polling task queue/ },
    bridge: { http: `http://127.0.0.1:${ctx.bridgePort}/healthz` },
    gateway: { http: `http://127.0.0.1:${ctx.gatewayPort}/healthz` },
  };
  const settled = await Promise.allSettled(names.map((n) => startApp(n, env, logDir, ready[n])));
  const procs: Record<string, AppProcess> = {};
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') procs[names[i]] = r.value;
  });
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopApps(procs);
    throw failed.reason;
  }
  return procs;
}

async function stopApps(procs: Record<string, AppProcess>): Promise<void> {
  // Gateway first (no new orders), then the bridge (leaves the group cleanly), then the worker.
  for (const name of ['gateway', 'bridge', 'worker']) await procs[name]?.stop();
}

function drainNote(drain: { closed: number; stalled: boolean }, expected: number, ctx: BenchContext): string {
  return drain.stalled
    ? `stalled: no run closed for ${ctx.stallMs / 1000}s (${drain.closed}/${expected} closed); the rest were terminated`
    : `drain timed out after ${ctx.drainTimeoutMs / 1000}s with ${drain.closed}/${expected} closed; the rest were terminated`;
}

/** Terminates this configuration's runs that are still open, so they do not load the next one. */
async function cleanUp(ctx: BenchContext, workflowIdPrefix: string): Promise<void> {
  try {
    const n = await terminateRunning(ctx.client, workflowIdPrefix, 'bench configuration ended');
    if (n > 0) ctx.progress.log(`terminated ${n} open run(s) of ${workflowIdPrefix}*`);
  } catch (err) {
    ctx.progress.log(`could not terminate open runs of ${workflowIdPrefix}*: ${(err as Error).message}`);
  }
}

function cpuLine(usage: ConfigResult['usage']): string {
  if (!usage) return '';
  return Object.entries(usage.procs)
    .map(([n, p]) => `${n} ${p.meanCpuPct}%`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Pipeline

export async function runPipeline(ctx: BenchContext, id: string, orderCount: number, stepDelayMs: number, rate?: number): Promise<ConfigResult> {
  const { progress } = ctx;
  const prefix = `${ctx.runId}-${id}-`;
  const orders = makeOrders(prefix, orderCount);
  const notes: string[] = [];
  progress.log(`${id}: starting worker, bridge and gateway (STEP_DELAY_MS=${stepDelayMs})`);
  const procs = await startApps(ctx, id, stepDelayMs, ['worker', 'bridge', 'gateway']);
  try {
    // Whatever is still on order-placement for the group (e.g. from a dev run) is consumed first.
    const lag = await waitForNoLag(ctx.kafka, BRIDGE_GROUP, TOPICS.orderPlacement, 120_000);
    if (lag.initial > 0) notes.push(`bridge caught up on ${lag.initial} older events before the load (lag left: ${lag.final})`);

    const sampler = new Sampler(
      { gateway: procs.gateway.pid, bridge: procs.bridge.pid, worker: procs.worker.pid, ...serverTargets(ctx) },
      ctx.sampleMs,
    );
    await sampler.start();
    progress.start(`${id}: accepted`, orderCount, 'orders');
    const placement = await placeOrders({
      url: `ws://127.0.0.1:${ctx.gatewayPort}`,
      orders,
      connections: ctx.connections,
      rate,
      timeoutMs: Math.max(120_000, rate ? (orderCount / rate) * 3_000 : 0),
      onAnswer: (n) => progress.update(n),
    });
    progress.start(`${id}: completed`, placement.accepted, 'workflows');
    const drain = await waitForClosed(ctx.client, `order-${prefix}`, placement.accepted, ctx.drainTimeoutMs, ctx.stallMs, (n) => progress.update(n));
    progress.stop();
    const usage = await sampler.stop();
    if (drain.timedOut) notes.push(drainNote(drain, placement.accepted, ctx));

    const bridgeHealth = await httpGet(`http://127.0.0.1:${ctx.bridgePort}/healthz`);
    const bridgeStats = bridgeHealth ? (JSON.parse(bridgeHealth.body) as Record<string, unknown>) : undefined;
    const execs = await listExecutions(ctx.client, `order-${prefix}`);
    const sample = [...execs.values()].find((e) => e.status === 'COMPLETED');
    const history = sample ? await historyProfile(ctx.client, sample.workflowId) : undefined;

    const ack: number[] = [];
    const toStart: number[] = [];
    const e2e: number[] = [];
    let completed = 0;
    let failed = 0;
    let lastClose = 0;
    const firstSent = Math.min(...placement.timings.map((t) => t.sentAt));
    for (const t of placement.timings) {
      if (t.acceptMs !== undefined) ack.push(t.acceptMs);
      const exec = execs.get(workflowIdFor(t.orderId));
      if (!exec) continue;
      if (t.acceptedAt !== undefined) toStart.push(exec.startMs - t.acceptedAt);
      if (exec.status === 'COMPLETED' && exec.closeMs !== undefined) {
        completed += 1;
        e2e.push(exec.closeMs - t.sentAt);
        lastClose = Math.max(lastClose, exec.closeMs);
      } else if (exec.status !== 'RUNNING') failed += 1;
    }
    const seconds = lastClose > firstSent ? (lastClose - firstSent) / 1000 : usage.windowSeconds;
    const result: ConfigResult = {
      id,
      kind: 'pipeline',
      label: `pipeline, ${rate ? `${rate}/s offered` : 'full speed'}, delay ${stepDelayMs} ms`,
      stepDelayMs,
      load: rate ? `${rate}/s over ${ctx.connections} conns` : `full speed, ${ctx.connections} conns`,
      orders: orderCount,
      completed,
      failed,
      errors: placement.errors,
      throughput: round(completed / seconds),
      throughputUnit: 'orders/s',
      seconds: round(seconds, 2),
      offeredPerSecond: round(placement.offeredPerSecond),
      acceptedPerSecond: round(placement.accepted / Math.max(0.001, placement.seconds)),
      ackMs: percentiles(ack),
      acceptToStartMs: percentiles(toStart),
      e2eMs: percentiles(e2e),
      usage,
      evidence: { bridge: bridgeStats, historyOfOneRun: history, placementSeconds: round(placement.seconds, 2) },
      notes,
    };
    progress.log(`${id}: ${completed}/${orderCount} completed, ${result.throughput} orders/s; CPU ${cpuLine(usage)}`);
    return result;
  } finally {
    await stopApps(procs);
    await cleanUp(ctx, `order-${prefix}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw Temporal ceiling

export async function runRawTemporal(ctx: BenchContext, id: string, orderCount: number, stepDelayMs: number): Promise<ConfigResult> {
  const { progress } = ctx;
  const prefix = `${ctx.runId}-${id}-`;
  const orders: Order[] = makeOrders(prefix, orderCount);
  progress.log(`${id}: starting worker; starting processOrder directly, ${ctx.ceilingConcurrency} at a time`);
  const procs = await startApps(ctx, id, stepDelayMs, ['worker']);
  try {
    const sampler = new Sampler({ worker: procs.worker.pid, ...serverTargets(ctx) }, ctx.sampleMs);
    await sampler.start();
    const requestedAt = new Map<string, number>();
    const ack: number[] = [];
    const errors: Record<string, number> = {};
    let started = 0;
    progress.start(`${id}: started`, orderCount, 'workflows');
    const t0 = Date.now();
    await pool(orderCount, ctx.ceilingConcurrency, t0 + ctx.drainTimeoutMs, async (i) => {
      const order = orders[i];
      const at = Date.now();
      const p0 = performance.now();
      try {
        await ctx.client.workflow.start('processOrder', {
          taskQueue: TASK_QUEUE,
          workflowId: workflowIdFor(order.orderId),
          args: [{ order, stepDelayMs }],
        });
        ack.push(performance.now() - p0);
        requestedAt.set(workflowIdFor(order.orderId), at);
        started += 1;
        progress.update(started);
      } catch (err) {
        const key = (err as Error).name || 'Error';
        errors[key] = (errors[key] ?? 0) + 1;
      }
    });
    const startSeconds = (Date.now() - t0) / 1000;
    progress.start(`${id}: completed`, started, 'workflows');
    const drain = await waitForClosed(ctx.client, `order-${prefix}`, started, ctx.drainTimeoutMs, ctx.stallMs, (n) => progress.update(n));
    progress.stop();
    const usage = await sampler.stop();
    const execs = await listExecutions(ctx.client, `order-${prefix}`);
    const sample = [...execs.values()].find((e) => e.status === 'COMPLETED');
    const history = sample ? await historyProfile(ctx.client, sample.workflowId) : undefined;
    const e2e: number[] = [];
    let completed = 0;
    let failed = 0;
    let lastClose = 0;
    for (const [wfId, at] of requestedAt) {
      const exec = execs.get(wfId);
      if (!exec) continue;
      if (exec.status === 'COMPLETED' && exec.closeMs !== undefined) {
        completed += 1;
        e2e.push(exec.closeMs - at);
        lastClose = Math.max(lastClose, exec.closeMs);
      } else if (exec.status !== 'RUNNING') failed += 1;
    }
    const seconds = lastClose > t0 ? (lastClose - t0) / 1000 : usage.windowSeconds;
    const notes = drain.timedOut ? [drainNote(drain, started, ctx)] : [];
    const result: ConfigResult = {
      id,
      kind: 'raw-temporal',
      label: `raw Temporal ceiling, delay ${stepDelayMs} ms`,
      stepDelayMs,
      load: `${ctx.ceilingConcurrency} concurrent starts`,
      orders: orderCount,
      completed,
      failed,
      errors,
      throughput: round(completed / seconds),
      throughputUnit: 'orders/s',
      seconds: round(seconds, 2),
      acceptedPerSecond: round(started / Math.max(0.001, startSeconds)),
      ackMs: percentiles(ack),
      e2eMs: percentiles(e2e),
      usage,
      evidence: { historyOfOneRun: history },
      notes,
    };
    progress.log(`${id}: ${completed}/${orderCount} completed, ${result.throughput} orders/s; CPU ${cpuLine(usage)}`);
    return result;
  } finally {
    await stopApps(procs);
    await cleanUp(ctx, `order-${prefix}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw Kafka ceiling

function eventMessage(order: BenchOrder): { key: string; value: string; headers: Record<string, string> } {
  const eventId = crypto.randomUUID();
  return { key: order.orderId, value: JSON.stringify(orderPlacedEvent(order, eventId, Date.now())), headers: { eventId } };
}

/** batchSize 1 = exactly what the gateway does (one send per order, M at a time). */
export async function runRawKafka(ctx: BenchContext, id: string, orderCount: number, batchSize: number): Promise<ConfigResult> {
  const { progress } = ctx;
  const topic = `${ctx.runId}-${id}`;
  await createTopic(ctx.kafka, topic, PARTITIONS);
  ctx.topics.push(topic);
  const orders = makeOrders(`${ctx.runId}-${id}-`, orderCount);
  // Same producer settings as gateway/order-producer.ts.
  const producer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } });
  await producer.connect();
  try {
    // Warm-up (not measured): metadata, producer id and the first write to each partition.
    await producer.send({ topic, acks: -1, messages: makeOrders(`${ctx.runId}-${id}-warm-`, 12).map(eventMessage) });
    const batches: BenchOrder[][] = [];
    for (let i = 0; i < orders.length; i += batchSize) batches.push(orders.slice(i, i + batchSize));
    const sampler = new Sampler(serverTargets(ctx), ctx.sampleMs);
    await sampler.start();
    const ack: number[] = [];
    const errors: Record<string, number> = {};
    let acked = 0;
    progress.start(`${id}: acked`, orderCount, 'messages');
    const t0 = performance.now();
    await pool(batches.length, ctx.connections, Date.now() + ctx.drainTimeoutMs, async (b) => {
      const batch = batches[b];
      const p0 = performance.now();
      try {
        await producer.send({ topic, acks: -1, messages: batch.map(eventMessage) });
        const ms = performance.now() - p0;
        for (let k = 0; k < batch.length; k += 1) ack.push(ms);
        acked += batch.length;
        progress.update(acked);
      } catch (err) {
        const key = (err as Error).name || 'Error';
        errors[key] = (errors[key] ?? 0) + batch.length;
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    progress.stop();
    const usage = await sampler.stop();
    const result: ConfigResult = {
      id,
      kind: 'raw-kafka',
      label: batchSize === 1 ? 'raw Kafka ceiling, 1 msg/send (gateway-shaped)' : `raw Kafka, ${batchSize} msgs/send`,
      load: `${ctx.connections} concurrent sends`,
      orders: orderCount,
      completed: acked,
      failed: orderCount - acked,
      errors,
      throughput: round(acked / seconds),
      throughputUnit: 'msgs/s',
      seconds: round(seconds, 2),
      ackMs: percentiles(ack),
      usage,
      notes: [],
    };
    progress.log(`${id}: ${acked} messages in ${round(seconds, 2)}s = ${result.throughput} msgs/s; CPU ${cpuLine(usage)}`);
    return result;
  } finally {
    await producer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Seed-style baseline consumer

export async function runSeedBaseline(ctx: BenchContext, id: string, orderCount: number, stepDelayMs: number, capMs: number): Promise<ConfigResult> {
  const { progress } = ctx;
  const topic = `${ctx.runId}-${id}`;
  await createTopic(ctx.kafka, topic, PARTITIONS);
  ctx.topics.push(topic);
  const orders = makeOrders(`${ctx.runId}-${id}-`, orderCount);
  const providers = simulatedProviders({
    cardLimit: 5000,
    transientFailureRate: 0,
    latencyMs: 0,
    ledgerFile: path.join(ctx.logDir, `${id}-ledger.jsonl`),
  });
  const producedAt = new Map<string, number>();
  const done = new Map<string, number>();
  let failed = 0;
  let stopping = false;
  const delay = (ms: number): Promise<void> => (ms > 0 ? sleep(ms) : Promise.resolve());

  // What a naive consumer does: one message at a time, every step in-process, setTimeout between steps.
  const consumer = ctx.kafka.consumer({ groupId: topic });
  const producer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  try {
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (stopping || !message.value) return;
        const order = (JSON.parse(message.value.toString()) as { payload: { order: Order } }).payload.order;
        const check = await providers.inventory.check(order);
        if (!check.ok) {
          failed += 1;
          return;
        }
        await delay(stepDelayMs);
        const charge = await providers.payment.charge({
          idempotencyKey: `seed-${order.orderId}:charge`,
          orderId: order.orderId,
          amount: Math.round(order.price * order.quantity * 100) / 100,
        });
        if (charge.status !== 'charged') {
          failed += 1;
          return;
        }
        await delay(stepDelayMs);
        await providers.shipping.ship({ idempotencyKey: `seed-${order.orderId}:ship`, order });
        done.set(order.orderId, Date.now());
        progress.update(done.size);
      },
    });
    await Promise.race([joined, sleep(30_000)]);

    const sampler = new Sampler(serverTargets(ctx), ctx.sampleMs);
    await sampler.start();
    progress.start(`${id}: processed`, orderCount, 'orders');
    const t0 = Date.now();
    for (let i = 0; i < orders.length; i += 500) {
      const chunk = orders.slice(i, i + 500);
      const at = Date.now();
      for (const o of chunk) producedAt.set(o.orderId, at);
      await producer.send({ topic, acks: -1, messages: chunk.map(eventMessage) });
    }
    const deadline = t0 + capMs;
    while (done.size + failed < orderCount && Date.now() < deadline) await sleep(100);
    stopping = true;
    progress.stop();
    const usage = await sampler.stop();
    const e2e: number[] = [];
    let last = t0;
    for (const [orderId, at] of done) {
      e2e.push(at - (producedAt.get(orderId) ?? t0));
      last = Math.max(last, at);
    }
    const capped = done.size + failed < orderCount;
    // Capped: the rate over the whole window (the consumer was busy all along); otherwise first produce to last done.
    const seconds = capped ? (Date.now() - t0) / 1000 : Math.max(0.001, (last - t0) / 1000);
    const throughput = done.size / seconds;
    const notes: string[] = [];
    if (capped) {
      notes.push(
        `capped at ${capMs / 1000}s: ${done.size}/${orderCount} processed; at this rate all ${orderCount} would take ` +
          `${throughput > 0 ? Math.round(orderCount / throughput) : '∞'}s; latency covers only the processed ones`,
      );
    }
    const result: ConfigResult = {
      id,
      kind: 'seed',
      label: `seed-style consumer, delay ${stepDelayMs} ms`,
      stepDelayMs,
      load: `${orderCount} events on ${PARTITIONS} partitions`,
      orders: orderCount,
      completed: done.size,
      failed,
      errors: {},
      throughput: round(throughput, 2),
      throughputUnit: 'orders/s',
      seconds: round(seconds, 2),
      e2eMs: percentiles(e2e),
      usage,
      notes,
    };
    progress.log(`${id}: ${done.size}/${orderCount} processed, ${result.throughput} orders/s${capped ? ' (capped)' : ''}`);
    return result;
  } finally {
    stopping = true;
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Idle connections

export async function runIdleConnections(ctx: BenchContext, count: number, holdSeconds: number): Promise<IdleResult> {
  const { progress } = ctx;
  progress.log(`idle: starting the gateway, then opening ${count} idle WebSocket connections`);
  const procs = await startApps(ctx, 'idle', 0, ['gateway']);
  const sockets: Awaited<ReturnType<typeof openConnections>> = [];
  let failed = 0;
  try {
    const sampler = new Sampler({ gateway: procs.gateway.pid, bench: process.pid }, 250);
    await sleep(1_000);
    await sampler.start();
    const first = await sampler.stop();
    const baselineRssMb = first.procs.gateway?.peakRssMb ?? 0;
    const during = new Sampler({ gateway: procs.gateway.pid, bench: process.pid }, 250);
    await during.start();
    progress.start('idle: connections open', count, 'conns');
    const t0 = performance.now();
    const url = `ws://127.0.0.1:${ctx.gatewayPort}`;
    const step = 100;
    for (let i = 0; i < count; i += step) {
      const n = Math.min(step, count - i);
      const opened = await Promise.allSettled(Array.from({ length: n }, () => openConnections(url, 1, 15_000)));
      for (const r of opened) {
        if (r.status === 'fulfilled') sockets.push(...r.value);
        else failed += 1;
      }
      progress.update(sockets.length);
    }
    const openSeconds = (performance.now() - t0) / 1000;
    progress.stop();
    progress.log(`idle: ${sockets.length} open (${failed} failed) in ${round(openSeconds, 1)}s; holding ${holdSeconds}s`);
    await sleep(holdSeconds * 1000);
    const health = await httpGet(`http://127.0.0.1:${ctx.gatewayPort}/healthz`);
    const usage = await during.stop();
    const peakRssMb = usage.procs.gateway?.peakRssMb ?? 0;
    let reported: number | undefined;
    try {
      reported = health ? (JSON.parse(health.body) as { connections?: number }).connections : undefined;
    } catch {
      reported = undefined;
    }
    return {
      connections: count,
      opened: sockets.length,
      failed,
      gatewayReportedConnections: reported,
      holdSeconds,
      baselineRssMb,
      peakRssMb,
      perConnectionKb: sockets.length ? round(((peakRssMb - baselineRssMb) * 1024) / sockets.length, 2) : 0,
      openSeconds: round(openSeconds, 2),
      usage,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopApps(procs);
  }
}
