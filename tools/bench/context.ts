/**
 * What every configuration shares: the bench context (servers, clients, limits), the orders it
 * places, the app processes it starts for one configuration and the clean-up after it.
 */
import { LOAD_TOOL_GATEWAY_LIMITS } from '../infra/load-tool-limits';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { Kafka, type Producer, type ProducerConfig } from 'kafkajs';
import { createTopic } from './kafka-util';
import { AppProcess, whenAnswers200, whenLogShows } from '../infra/app-process';
import { waitForPort } from '../infra/proc';
import { Progress } from './progress';
import { Sampler } from './sampler';
import { round } from './stats';
import { terminateRunning } from './temporal-results';
import type { ConfigResult, TemporalSettings } from './types';
import type { BenchOrder } from './ws-load';

/**
 * One Temporal server the bench measures against: the shared dev server (tuned), its own dev server at
 * stock settings, or its own Temporal server on PostgreSQL (`dbPid`: the postmaster, sampled with its backends).
 */
export interface TemporalTarget {
  settings: TemporalSettings;
  address: string;
  client: Client;
  pid?: number;
  dbPid?: number;
}

/** Sampled as whole process trees: PostgreSQL works in one backend process per connection. */
export const PROCESS_TREES: ReadonlySet<string> = new Set(['postgres']);

export interface BenchContext {
  runId: string;
  brokers: string[];
  namespace: string;
  /** The dev server the app uses (started by the launcher with the tuned settings). */
  temporal: TemporalTarget;
  kafka: Kafka;
  kafkaPid?: number;
  logDir: string;
  /** The bench gateway's client port (WebSocket) and admin port (/healthz). */
  gatewayPort: number;
  gatewayHealthPort: number;
  bridgePort: number;
  connections: number;
  /** Longest one configuration may take to complete once its load is offered. */
  drainTimeoutMs: number;
  /** Give up on a configuration when no run closed for this long. */
  stallMs: number;
  sampleMs: number;
  progress: Progress;
  /** Topics the bench created (deleted at the end). */
  topics: string[];
}

/** The partitions the launcher gives order-placement; the bench's fresh topics get the same. */
export const PARTITIONS = 6;

export function makeOrders(prefix: string, count: number): BenchOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    orderId: `${prefix}${i}`,
    item: `Bench widget ${i % 17}`,
    price: 10 + (i % 90),
    quantity: 1 + (i % 3),
  }));
}

/** What a configuration that feeds Kafka itself works with: its fresh topic, its orders, a connected producer. */
export interface FreshTopic {
  topic: string;
  orders: BenchOrder[];
  producer: Producer;
}

/**
 * Runs `measure` on a fresh topic for configuration `id` (removed with the run's other topics), with
 * `count` orders whose ids carry the run and configuration, and a producer with `producerConfig`
 * (connected before, disconnected after).
 */
export async function onFreshTopic<T>(
  ctx: BenchContext,
  id: string,
  count: number,
  producerConfig: ProducerConfig,
  measure: (fresh: FreshTopic) => Promise<T>,
): Promise<T> {
  const topic = `${ctx.runId}-${id}`;
  await createTopic(ctx.kafka, topic, PARTITIONS);
  ctx.topics.push(topic);
  const producer = ctx.kafka.producer(producerConfig);
  await producer.connect();
  try {
    return await measure({ topic, orders: makeOrders(`${ctx.runId}-${id}-`, count), producer });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

function appEnv(ctx: BenchContext, stepDelayMs: number, target: TemporalTarget, cfgDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATEWAY_PORT: String(ctx.gatewayPort),
    GATEWAY_HEALTH_PORT: String(ctx.gatewayHealthPort),
    BRIDGE_HEALTH_PORT: String(ctx.bridgePort),
    STEP_DELAY_MS: String(stepDelayMs),
    TEMPORAL_ADDRESS: target.address,
    TEMPORAL_NAMESPACE: ctx.namespace,
    // The bench's charges go to their own ledger, not the dev ledger in .data/.
    SIM_LEDGER_FILE: path.join(ctx.logDir, 'ledger.jsonl'),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    BENCH_LOOP_PROBE_FILE: path.join(cfgDir, 'gateway-loop-delay.json'),
    // Every bench client comes from 127.0.0.1 and keeps many orders in flight: the per-client limits
    // are not what it measures.
    ...LOAD_TOOL_GATEWAY_LIMITS,
  };
}

/** The processes every configuration samples besides its own apps. */
export const serverTargets = (
  ctx: BenchContext,
  target: TemporalTarget = ctx.temporal,
): Record<string, number | undefined> => ({
  kafka: ctx.kafkaPid,
  temporal: target.pid,
  ...(target.dbPid === undefined ? {} : { postgres: target.dbPid }),
  bench: process.pid,
});

/** The processes the bench runs: the app's four and the bare-engine worker of the ceilings. */
export type AppName = 'gateway' | 'bridge' | 'worker' | 'history' | 'bare-worker';

export type Apps = Partial<Record<AppName, AppProcess>> & { loopProbeFile: string };

/** Starts the named app processes in parallel; if one fails, stops the others and rethrows. */
export async function startApps(
  ctx: BenchContext,
  cfgId: string,
  stepDelayMs: number,
  names: AppName[],
  target = ctx.temporal,
  extraEnv: Record<string, string> = {},
): Promise<Apps> {
  const logDir = path.join(ctx.logDir, cfgId);
  const env = { ...appEnv(ctx, stepDelayMs, target, logDir), ...extraEnv };
  const polling = whenLogShows(/polling task queue/);
  const apps0: Record<AppName, AppProcess> = {
    worker: new AppProcess({ app: 'worker', env, logFile: path.join(logDir, 'worker.log'), ready: polling }),
    'bare-worker': new AppProcess({
      app: 'worker',
      name: 'bare-worker',
      entry: 'tools/bench/bare-worker.ts',
      env,
      logFile: path.join(logDir, 'bare-worker.log'),
      ready: polling,
    }),
    bridge: new AppProcess({
      app: 'bridge',
      env,
      logFile: path.join(logDir, 'bridge.log'),
      ready: whenAnswers200(`http://127.0.0.1:${ctx.bridgePort}/healthz`),
    }),
    // Only the gateway gets the event-loop probe (tools/bench/loop-probe.ts), loaded before its entry.
    gateway: new AppProcess({
      app: 'gateway',
      env,
      logFile: path.join(logDir, 'gateway.log'),
      ready: whenAnswers200(`http://127.0.0.1:${ctx.gatewayHealthPort}/healthz`),
      preload: [path.join(__dirname, 'loop-probe.ts')],
    }),
    history: new AppProcess({
      app: 'history',
      env,
      logFile: path.join(logDir, 'history.log'),
      ready: whenLogShows(/history reading order-placement/),
    }),
  };
  const settled = await Promise.allSettled(names.map((n) => apps0[n].start(120_000)));
  const apps: Apps = { loopProbeFile: env.BENCH_LOOP_PROBE_FILE ?? '' };
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') apps[names[i]] = apps0[names[i]];
  });
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopApps(apps);
    throw failed.reason;
  }
  return apps;
}

/**
 * One more gateway for configuration `cfgId`, beside the one startApps starts: named `name`, on its
 * own client and admin ports, otherwise with the same settings (and `extraEnv`). Resolves once its
 * client port listens (its admin port answers before that, while its producer connects).
 */
export async function startExtraGateway(
  ctx: BenchContext,
  cfgId: string,
  name: string,
  ports: { client: number; admin: number },
  extraEnv: Record<string, string> = {},
): Promise<AppProcess> {
  const logDir = path.join(ctx.logDir, cfgId);
  const env = {
    ...appEnv(ctx, 0, ctx.temporal, logDir),
    ...extraEnv,
    GATEWAY_PORT: String(ports.client),
    GATEWAY_HEALTH_PORT: String(ports.admin),
    BENCH_LOOP_PROBE_FILE: path.join(logDir, `${name}-loop-delay.json`),
  };
  const gateway = new AppProcess({
    app: 'gateway',
    name,
    env,
    logFile: path.join(logDir, `${name}.log`),
    ready: whenAnswers200(`http://127.0.0.1:${ports.admin}/healthz`),
  });
  await gateway.start(120_000);
  if (!(await waitForPort(ports.client, 60_000))) {
    await gateway.stop(20_000);
    throw new Error(`${name}'s client port ${ports.client} did not open within 60 s`);
  }
  return gateway;
}

export async function stopApps(apps: Apps): Promise<void> {
  // Gateway first (no new orders), then the bridge (leaves the group cleanly), then the workers.
  for (const name of ['gateway', 'bridge', 'worker', 'history', 'bare-worker'] as const) await apps[name]?.stop(20_000);
}

/** A configuration's app processes, between start and stop. */
export interface AppRun {
  apps: Apps;
  /** A sampler of these processes (by name) and of the servers the configuration runs against. */
  sampler: (pids: Record<string, number | undefined>) => Sampler;
}

/**
 * Starts the named apps for configuration `cfgId`, runs `measure` with them, then stops them and
 * terminates what is left open of the configuration's workflows (ids starting `workflowIdPrefix`).
 */
export async function withApps<T>(
  ctx: BenchContext,
  cfgId: string,
  start: { stepDelayMs: number; names: AppName[]; target: TemporalTarget; env?: Record<string, string> },
  workflowIdPrefix: string,
  measure: (run: AppRun) => Promise<T>,
): Promise<T> {
  const apps = await startApps(ctx, cfgId, start.stepDelayMs, start.names, start.target, start.env);
  const sampler = (pids: Record<string, number | undefined>): Sampler =>
    new Sampler({ ...pids, ...serverTargets(ctx, start.target) }, ctx.sampleMs, PROCESS_TREES);
  try {
    return await measure({ apps, sampler });
  } finally {
    await stopApps(apps);
    await cleanUp(ctx, workflowIdPrefix, start.target);
  }
}

export function drainNote(drain: { closed: number; stalled: boolean }, expected: number, ctx: BenchContext): string {
  return drain.stalled
    ? `stalled: no run closed for ${ctx.stallMs / 1000}s (${drain.closed}/${expected} closed); the rest were terminated`
    : `time cap: ${ctx.drainTimeoutMs / 1000}s passed with ${drain.closed}/${expected} closed; the rest were terminated`;
}

/** Terminates this configuration's runs that are still open, so they do not load the next one. */
export async function cleanUp(ctx: BenchContext, workflowIdPrefix: string, target = ctx.temporal): Promise<void> {
  try {
    const n = await terminateRunning(target.client, workflowIdPrefix, 'bench configuration ended');
    if (n > 0) ctx.progress.log(`terminated ${n} open run(s) of ${workflowIdPrefix}*`);
  } catch (err) {
    ctx.progress.log(`could not terminate open runs of ${workflowIdPrefix}*: ${(err as Error).message}`);
  }
}

export function cpuLine(usage: ConfigResult['usage']): string {
  if (!usage) return '';
  return Object.entries(usage.procs)
    .map(([n, p]) => `${n} ${p.meanCpuPct}%`)
    .join(', ');
}

export const loadAverage = (): number[] => os.loadavg().map((x) => round(x, 2));
