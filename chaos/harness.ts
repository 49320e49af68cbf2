/**
 * Crash matrix (issue 4): the whole pipeline as separate OS processes on an isolated stack, one
 * component SIGKILLed partway through a stream of orders and restarted, then the outcome checked
 * against the ground truths: the order-placement topic (what the gateway really stored), Temporal
 * visibility (runs per order) and the payment ledger (charges and refunds per order).
 *
 *   gateway           gateway SIGKILLed and restarted; clients resend what was not acknowledged
 *   bridge            the only bridge SIGKILLed and restarted
 *   bridge-rebalance  two bridges, one SIGKILLed for good: the other takes its partitions over
 *   worker-timer      worker SIGKILLed while runs sit in durable timers, restarted
 *   worker-payment    worker SIGKILLed while charges are in flight (SIM_LATENCY_MS), restarted
 *   kafka             the broker SIGKILLed, kept down, restarted on its data
 *   temporal          the dev server SIGKILLed, kept down, restarted on the same SQLite file
 *
 * Every order the gateway acknowledged must end as it should (COMPLETED, or FAILED with one refund
 * for an unshippable item), with exactly one run and one charge; nothing acknowledged may be missing
 * from Kafka.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { Ledger, LedgerEntry } from '../activities/ledger';
import { TOPICS } from '../common/config';
import { workflowIdFor } from '../common/order';
import { delay } from '../infra/proc';
import { OrderRecord, OrderSpec, placeOrders } from './client';
import { AppProcess, freePort, httpGet, IsolatedStack } from './stack';

/** The full matrix (what `npm run chaos` runs by default). */
export const SCENARIOS = ['gateway', 'bridge', 'bridge-rebalance', 'worker-timer', 'worker-payment', 'kafka', 'temporal'] as const;
/**
 * Shorter combinations for the jest run: `bridge-pair` (two bridges, one SIGKILLed and restarted at
 * once: a kill, a restart and a rebalance in one ~30 s session expiry) and `worker` (one SIGKILL
 * while some runs sit in timers and others are charging).
 */
export const COMBINED_SCENARIOS = ['bridge-pair', 'worker'] as const;
export const ALL_SCENARIOS = [...SCENARIOS, ...COMBINED_SCENARIOS] as const;
export type ScenarioName = (typeof ALL_SCENARIOS)[number];

const BRIDGE_GROUP = 'order-bridge';

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

export interface ScenarioResult {
  scenario: ScenarioName;
  placed: number;
  acknowledged: number;
  completed: number;
  workflows: number;
  charges: number;
  refunds: number;
  /** Acknowledged orders that did not end as they should, lack their charge or refund, or are not in Kafka. */
  lost: number;
  /** Extra runs, charges or refunds beyond one per order. */
  duplicated: number;
  expectedRefunds: number;
  wallMs: number;
  notes: string[];
  /** Checks that failed (empty when the scenario passed). */
  failures: string[];
  lostOrders: string[];
  duplicatedOrders: string[];
}

export function passed(r: ScenarioResult): boolean {
  return r.failures.length === 0;
}

/** Everything a scenario's strike can use. */
interface Ctx {
  stack: IsolatedStack;
  opts: ScenarioOptions;
  prefix: string;
  gateway: AppProcess;
  bridges: AppProcess[];
  worker: AppProcess;
  acked: () => number;
  notes: string[];
  failures: string[];
  /** Processes the scenario killed on purpose (other exits are failures). */
  killedOnPurpose: Set<AppProcess>;
}

interface ScenarioDef {
  bridges: number;
  stepDelayMs?: number;
  latencyMs?: number;
  rate?: number;
  /** When to strike (polled every 200 ms while orders flow); default: a third acknowledged. */
  trigger?: (ctx: Ctx) => Promise<boolean>;
  strike: (ctx: Ctx) => Promise<void>;
}

const third = (ctx: Ctx): Promise<boolean> => Promise.resolve(ctx.acked() >= Math.ceil(ctx.opts.orders / 3));
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** Running runs of this scenario whose OrderStatus is one of `statuses` (visibility count). */
async function countInStatus(ctx: Ctx, statuses: string[]): Promise<number> {
  const query = `WorkflowId STARTS_WITH '${workflowIdFor(ctx.prefix)}' AND ExecutionStatus = 'Running' AND OrderStatus IN (${statuses.map((s) => `'${s}'`).join(', ')})`;
  try {
    return (await ctx.stack.temporal.workflow.count(query)).count;
  } catch {
    return 0;
  }
}

async function committedOffsets(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId: BRIDGE_GROUP, topics: [TOPICS.orderPlacement] });
    return topic.partitions
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.offset)
      .join(',');
  } finally {
    await admin.disconnect();
  }
}

/** Partitions each member of the bridge group holds, keyed by the member's client host+id. */
async function bridgeAssignments(kafka: Kafka): Promise<Array<{ memberId: string; partitions: number[] }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([BRIDGE_GROUP]);
    return (groups[0]?.members ?? []).map((m) => {
      const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return { memberId: m.memberId, partitions: (assignment?.assignment[TOPICS.orderPlacement] ?? []).sort((a, b) => a - b) };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `probe` every `everyMs` until `stop()` says so (bounded by maxMs); returns what it saw. */
async function sample<T>(probe: () => Promise<T>, stop: () => boolean, everyMs: number, maxMs: number): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + maxMs;
  while (!stop() && Date.now() < deadline) {
    seen.push(await probe());
    await delay(everyMs);
  }
  return seen;
}

const killAndRestart =
  (pick: (ctx: Ctx) => AppProcess, downMs: number) =>
  async (ctx: Ctx): Promise<void> => {
    const proc = pick(ctx);
    const at = Date.now();
    ctx.killedOnPurpose.add(proc);
    await proc.kill();
    ctx.notes.push(`${proc.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
    await delay(downMs);
    await proc.start();
    ctx.killedOnPurpose.delete(proc);
    ctx.notes.push(`${proc.name} back in ${secs(Date.now() - at)}`);
  };

const DEFS: Record<ScenarioName, ScenarioDef> = {
  gateway: { bridges: 1, strike: killAndRestart((c) => c.gateway, 500) },

  bridge: { bridges: 1, strike: killAndRestart((c) => c.bridges[0], 0) },

  'bridge-pair': {
    bridges: 2,
    async strike(ctx) {
      const kafka = new Kafka({ clientId: 'chaos-probe', brokers: ctx.stack.kafkaBrokers, logLevel: logLevel.NOTHING });
      const before = await bridgeAssignments(kafka).catch(() => []);
      ctx.notes.push(`before: ${before.map((m) => `[${m.partitions.join(',')}]`).join(' + ')}`);
      if (before.length !== 2 || before.some((m) => m.partitions.length === 0)) {
        ctx.failures.push(`expected two bridges sharing the partitions before the kill, got ${JSON.stringify(before.map((m) => m.partitions))}`);
      }
      // Restarted at once: it can join only once the dead member's session (30 s) has expired.
      await killAndRestart((c) => c.bridges[1], 0)(ctx);
      const after = await bridgeAssignments(kafka).catch(() => []);
      ctx.notes.push(`after: ${after.map((m) => `[${m.partitions.join(',')}]`).join(' + ')}`);
      if (after.length !== 2 || after.reduce((n, m) => n + m.partitions.length, 0) !== 6) ctx.failures.push(`expected two bridges holding all six partitions after the restart, got ${JSON.stringify(after)}`);
    },
  },

  'bridge-rebalance': {
    bridges: 2,
    async strike(ctx) {
      const kafka = new Kafka({ clientId: 'chaos-probe', brokers: ctx.stack.kafkaBrokers, logLevel: logLevel.NOTHING });
      const before = await bridgeAssignments(kafka).catch(() => []);
      ctx.notes.push(`before: ${before.map((m) => `[${m.partitions.join(',')}]`).join(' + ')}`);
      if (before.length !== 2 || before.some((m) => m.partitions.length === 0)) {
        ctx.failures.push(`expected two bridges sharing the partitions before the kill, got ${JSON.stringify(before.map((m) => m.partitions))}`);
      }
      const victim = ctx.bridges[1];
      ctx.killedOnPurpose.add(victim);
      const at = Date.now();
      await victim.kill();
      ctx.notes.push(`${victim.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged (not restarted)`);
      // The dead member keeps its partitions until its session (30 s) expires; then the survivor holds all six.
      const deadline = Date.now() + 90_000;
      let after: Array<{ memberId: string; partitions: number[] }> = [];
      while (Date.now() < deadline) {
        after = await bridgeAssignments(kafka).catch(() => []);
        if (after.length === 1 && after[0].partitions.length === 6) break;
        await delay(1_000);
      }
      ctx.notes.push(`after ${secs(Date.now() - at)}: ${after.map((m) => `[${m.partitions.join(',')}]`).join(' + ')}`);
      if (!(after.length === 1 && after[0].partitions.length === 6)) ctx.failures.push(`the surviving bridge did not take all partitions over: ${JSON.stringify(after)}`);
    },
  },

  'worker-timer': {
    bridges: 1,
    stepDelayMs: 3_000,
    async trigger(ctx) {
      return ctx.acked() >= Math.ceil(ctx.opts.orders / 3) && (await countInStatus(ctx, ['VALIDATED', 'CHARGED'])) >= Math.max(3, Math.floor(ctx.opts.orders / 10));
    },
    async strike(ctx) {
      const inTimer = await countInStatus(ctx, ['VALIDATED', 'CHARGED']);
      await killAndRestart((c) => c.worker, 1_000)(ctx);
      ctx.notes.unshift(`${inTimer} runs in a durable timer at the kill`);
    },
  },

  'worker-payment': {
    bridges: 1,
    stepDelayMs: 1_000,
    latencyMs: 1_500,
    async trigger(ctx) {
      return (await countInStatus(ctx, ['CHARGING'])) >= Math.max(3, Math.floor(ctx.opts.orders / 10));
    },
    async strike(ctx) {
      const charging = await countInStatus(ctx, ['CHARGING']);
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
        countInStatus(ctx, ['CHARGING']),
        countInStatus(ctx, ['VALIDATED', 'CHARGED']),
        countInStatus(ctx, ['SHIPPING', 'REFUNDED']),
      ]);
      const enough = Math.max(2, Math.floor(ctx.opts.orders / 20));
      // Shipping in flight would add its 60 s start-to-close timeout to the wait: strike before it.
      return charging >= enough && inTimer >= enough && shipping === 0;
    },
    async strike(ctx) {
      const [charging, inTimer] = await Promise.all([countInStatus(ctx, ['CHARGING']), countInStatus(ctx, ['VALIDATED', 'CHARGED'])]);
      await killAndRestart((c) => c.worker, 500)(ctx);
      ctx.notes.unshift(`${inTimer} runs in a durable timer and ${charging} charges in flight at the kill`);
    },
  },

  kafka: {
    bridges: 1,
    async strike(ctx) {
      const killedAt = Date.now();
      await ctx.stack.killServer('kafka');
      ctx.notes.push(`broker SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
      let restarting = false;
      const health = sample(() => httpGet(`http://127.0.0.1:${gatewayPort(ctx)}/healthz`, 4_000).then((r) => r?.status ?? 0), () => restarting, 500, ctx.opts.outageMs + 5_000);
      await delay(ctx.opts.outageMs);
      restarting = true;
      const codes = await health;
      const restartAt = Date.now();
      await ctx.stack.restartServer('kafka');
      ctx.notes.push(`broker down ${secs(restartAt - killedAt)}, back after ${secs(Date.now() - killedAt)}`);
      ctx.notes.push(`gateway /healthz while down: ${[...new Set(codes)].join(',')}`);
      if (!codes.includes(503)) ctx.failures.push('gateway /healthz never reported degraded while Kafka was down');
      (ctx as KafkaCtx).outage = { killedAt, restartAt };
    },
  },

  temporal: {
    bridges: 1,
    async strike(ctx) {
      const kafka = new Kafka({ clientId: 'chaos-probe', brokers: ctx.stack.kafkaBrokers, logLevel: logLevel.NOTHING });
      const killedAt = Date.now();
      await ctx.stack.killServer('temporal');
      ctx.notes.push(`Temporal SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
      const bridgePort = bridgeHealthPort(ctx.bridges[0]);
      let restarting = false;
      const outageMs = ctx.opts.temporalOutageMs;
      const health = sample(() => httpGet(`http://127.0.0.1:${bridgePort}/healthz`).then((r) => r?.status ?? 0), () => restarting, 500, outageMs + 5_000);
      // In-flight starts that succeeded just before the kill may still commit; after that, nothing may.
      await delay(Math.min(3_000, outageMs / 2));
      const offsetsEarly = await committedOffsets(kafka);
      await delay(Math.max(0, outageMs - (Date.now() - killedAt)));
      const offsetsLate = await committedOffsets(kafka);
      restarting = true;
      const codes = await health;
      await ctx.stack.restartServer('temporal');
      ctx.notes.push(`Temporal back after ${secs(Date.now() - killedAt)}`);
      ctx.notes.push(`bridge /healthz while down: ${[...new Set(codes)].join(',')}`);
      if (!codes.includes(503)) ctx.failures.push('bridge /healthz never reported degraded while Temporal was down');
      if (offsetsEarly !== offsetsLate) ctx.failures.push(`the bridge committed offsets while Temporal was down: ${offsetsEarly} -> ${offsetsLate}`);
      else ctx.notes.push('no commit while down');
      const deadline = Date.now() + 60_000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        ok = (await httpGet(`http://127.0.0.1:${bridgePort}/healthz`))?.status === 200;
        if (!ok) await delay(500);
      }
      if (ok) ctx.notes.push(`bridge healthy again ${secs(Date.now() - killedAt)} after the kill`);
      else ctx.failures.push('bridge /healthz did not return to ok within 60 s of the restart');
    },
  },
};

interface KafkaCtx extends Ctx {
  outage?: { killedAt: number; restartAt: number };
}

const ports = new WeakMap<AppProcess, number>();
const gatewayPort = (ctx: Ctx): number => ports.get(ctx.gateway) ?? 0;
const bridgeHealthPort = (p: AppProcess): number => ports.get(p) ?? 0;

/**
 * The app processes on an isolated stack, kept across scenarios when a scenario needs them with
 * the same settings (starting a worker bundles the workflows: ~10 s on a small machine), replaced
 * when the settings differ. One payment ledger for the stack; scenarios tell their orders apart by
 * orderId prefix.
 */
export class Fleet {
  readonly ledgerFile: string;
  private gatewayProc?: AppProcess;
  private readonly bridgeProcs: AppProcess[] = [];
  private workerProc?: AppProcess;
  private readonly settings = new WeakMap<AppProcess, string>();

  constructor(readonly stack: IsolatedStack) {
    this.ledgerFile = path.join(stack.workDir, 'ledger', 'payments.jsonl');
  }

  private logFile(name: string): string {
    return path.join(this.stack.workDir, 'logs', `${name}.log`);
  }

  private async gateway(): Promise<AppProcess> {
    if (!this.gatewayProc) {
      const port = await freePort();
      const proc = new AppProcess({
        component: 'gateway',
        name: 'gateway',
        env: this.stack.appEnv({ GATEWAY_PORT: String(port), BRIDGE_HEALTH_PORT: String(await freePort()), SIM_LEDGER_FILE: this.ledgerFile }),
        logFile: this.logFile('gateway'),
        ready: async () => (await httpGet(`http://127.0.0.1:${port}/healthz`))?.status === 200,
      });
      ports.set(proc, port);
      this.gatewayProc = proc;
    }
    return this.gatewayProc;
  }

  private async bridge(i: number, stepDelayMs: number): Promise<AppProcess> {
    const setting = `step=${stepDelayMs}`;
    const existing = this.bridgeProcs[i];
    if (existing && this.settings.get(existing) === setting) return existing;
    if (existing) await existing.stop();
    const port = await freePort();
    const proc = new AppProcess({
      component: 'bridge',
      name: `bridge-${String.fromCharCode(65 + i)}`,
      env: this.stack.appEnv({ BRIDGE_HEALTH_PORT: String(port), GATEWAY_PORT: String(await freePort()), STEP_DELAY_MS: String(stepDelayMs), SIM_LEDGER_FILE: this.ledgerFile }),
      logFile: this.logFile(`bridge-${i}`),
      // /healthz answers 200 once the consumer joined the group and is not backing off.
      ready: async () => (await httpGet(`http://127.0.0.1:${port}/healthz`))?.status === 200,
    });
    ports.set(proc, port);
    this.settings.set(proc, setting);
    this.bridgeProcs[i] = proc;
    return proc;
  }

  private async worker(latencyMs: number): Promise<AppProcess> {
    const setting = `latency=${latencyMs}`;
    const existing = this.workerProc;
    if (existing && this.settings.get(existing) === setting) return existing;
    if (existing) await existing.stop();
    const proc = new AppProcess({
      component: 'worker',
      name: 'worker',
      env: this.stack.appEnv({
        SIM_LEDGER_FILE: this.ledgerFile,
        SIM_LATENCY_MS: String(latencyMs),
        GATEWAY_PORT: String(await freePort()),
        BRIDGE_HEALTH_PORT: String(await freePort()),
      }),
      logFile: this.logFile('worker'),
      ready: (p) => this.stack.workerPolling(p.pid),
    });
    this.settings.set(proc, setting);
    this.workerProc = proc;
    return proc;
  }

  /** The processes a scenario needs, running and ready (started or replaced as needed, in parallel). */
  async ensure(need: { bridges: number; stepDelayMs: number; latencyMs: number }): Promise<{ gateway: AppProcess; bridges: AppProcess[]; worker: AppProcess }> {
    // Surplus bridges leave the group cleanly (SIGTERM), so the next rebalance does not wait for them.
    for (const extra of this.bridgeProcs.splice(need.bridges)) await extra.stop();
    const gateway = await this.gateway();
    const bridges: AppProcess[] = [];
    for (let i = 0; i < need.bridges; i++) bridges.push(await this.bridge(i, need.stepDelayMs));
    const worker = await this.worker(need.latencyMs);
    await Promise.all([gateway, ...bridges, worker].filter((p) => !p.running()).map((p) => p.start(120_000)));
    return { gateway, bridges, worker };
  }

  /** Stops every process; the next ensure() starts fresh ones (after a failed scenario, so it cannot spill over). */
  async recycle(): Promise<void> {
    await this.stopAll();
    this.gatewayProc = undefined;
    this.bridgeProcs.splice(0);
    this.workerProc = undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.all([this.gatewayProc, ...this.bridgeProcs, this.workerProc].filter((p): p is AppProcess => p !== undefined).map((p) => p.stop()));
  }
}

function orderSpecs(prefix: string, n: number): OrderSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const orderId = `${prefix}-${String(i).padStart(5, '0')}`;
    // One order in ten is unshippable: charged, refused by the carrier, refunded (the saga path).
    return i % 10 === 9
      ? { orderId, item: 'Unshippable piano', price: 40, quantity: 1, expect: 'REFUNDED' as const }
      : { orderId, item: 'USB cable', price: 9.5, quantity: 2, expect: 'COMPLETED' as const };
  });
}

interface RunInfo {
  workflowId: string;
  runId: string;
  status: string;
}

async function listRuns(stack: IsolatedStack, prefix: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for await (const wf of stack.temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${workflowIdFor(prefix)}'`, pageSize: 1000 })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name });
  }
  return runs;
}

/** Order ids of every ORDER_PLACED event with this prefix in order-placement (read to the end). */
async function ordersInKafka(stack: IsolatedStack, prefix: string, timeoutMs = 60_000): Promise<Map<string, number>> {
  const kafka = new Kafka({ clientId: 'chaos-audit', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `chaos-audit-${crypto.randomUUID()}`;
  const counts = new Map<string, number>();
  try {
    const ends = new Map((await admin.fetchTopicOffsets(TOPICS.orderPlacement)).map((p) => [p.partition, BigInt(p.high)]));
    const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
    if (pending.size === 0) return counts;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.orderPlacement, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`reading ${TOPICS.orderPlacement} did not reach its end within ${timeoutMs} ms`)), timeoutMs);
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              try {
                const event = JSON.parse(message.value?.toString() ?? '') as { payload?: { order?: { orderId?: string } } };
                const id = event.payload?.order?.orderId;
                if (id?.startsWith(`${prefix}-`)) counts.set(id, (counts.get(id) ?? 0) + 1);
              } catch {
                // not an order
              }
              if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) pending.delete(partition);
              if (pending.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  return counts;
}

/** Raw ledger lines per order (raw, so two lines with one idempotency key would still count twice). */
function ledgerCounts(file: string, prefix: string): { charges: Map<string, number>; refunds: Map<string, number>; entries: LedgerEntry[] } {
  const charges = new Map<string, number>();
  const refunds = new Map<string, number>();
  const entries: LedgerEntry[] = [];
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as LedgerEntry;
      if (!e.orderId.startsWith(`${prefix}-`)) continue;
      entries.push(e);
      const m = e.kind === 'charge' ? charges : refunds;
      m.set(e.orderId, (m.get(e.orderId) ?? 0) + 1);
    }
  }
  return { charges, refunds, entries };
}

export async function runScenario(fleet: Fleet, name: ScenarioName, options: ScenarioOptions): Promise<ScenarioResult> {
  const stack = fleet.stack;
  const def = DEFS[name];
  const opts = { ...options, rate: def.rate ?? options.rate };
  const started = Date.now();
  const tag = crypto.randomBytes(3).toString('hex');
  const prefix = `${name.replace(/[^a-z]/g, '').slice(0, 8)}${tag}`;
  const ledgerFile = fleet.ledgerFile;
  const log = opts.log;
  const notes: string[] = [];
  const failures: string[] = [];
  const stepDelayMs = def.stepDelayMs ?? opts.stepDelayMs;
  const killedOnPurpose = new Set<AppProcess>();

  let records: OrderRecord[] = [];
  let ackedCount = 0;
  const t0 = Date.now();
  const { gateway, bridges, worker } = await fleet.ensure({ bridges: def.bridges, stepDelayMs, latencyMs: def.latencyMs ?? 0 });
  const procs = [gateway, ...bridges, worker];
  const gwPort = ports.get(gateway) ?? 0;
  log(`[${name}] ${procs.map((p) => `${p.name} pid ${p.pid}`).join(', ')} ready in ${secs(Date.now() - t0)}; placing ${opts.orders} orders (prefix ${prefix})`);
  const ctx: Ctx = { stack, opts, prefix, gateway, bridges, worker, acked: () => ackedCount, notes, failures, killedOnPurpose };
  const placing = placeOrders(orderSpecs(prefix, opts.orders), {
    url: `ws://127.0.0.1:${gwPort}`,
    connections: opts.connections,
    rate: opts.rate,
    deadline: Date.now() + opts.placementTimeoutMs,
    onAccepted: () => void (ackedCount += 1),
  });
  let placingDoneAt: number | undefined;
  void placing.then(
    () => (placingDoneAt = Date.now()),
    () => (placingDoneAt = Date.now()),
  );

  // Strike partway: when the trigger says so (it may wait for runs to reach a step after placing
  // is over), or, failing that within 30 s of the last acknowledgement, anyway (noted).
  const trigger = def.trigger ?? third;
  const triggerDeadline = Date.now() + opts.placementTimeoutMs;
  let fired = false;
  while (Date.now() < triggerDeadline && (placingDoneAt === undefined || Date.now() - placingDoneAt < 30_000)) {
    if (await trigger(ctx)) {
      fired = true;
      break;
    }
    await delay(200);
  }
  if (!fired) {
    notes.push('trigger condition never met; struck late');
    failures.push('the strike did not happen at the intended moment (trigger condition never met)');
  }
  const strikeAt = Date.now();
  await def.strike(ctx);
  log(`[${name}] strike done in ${secs(Date.now() - strikeAt)}: ${notes.join('; ')}`);

  records = (await placing).records;
  const acknowledged = records.filter((r) => r.acceptedAt !== undefined);
  const resent = records.filter((r) => r.attempts.length > 1);
  const errorCodes = new Map<string, number>();
  for (const r of records) for (const a of r.attempts) if (a.outcome !== 'accepted') errorCodes.set(a.code ?? a.outcome, (errorCodes.get(a.code ?? a.outcome) ?? 0) + 1);
  log(`[${name}] placed ${records.length}, acknowledged ${acknowledged.length}; ${resent.length} resent (${[...errorCodes].map(([k, v]) => `${k} x${v}`).join(', ') || 'no errors'})`);
  if (resent.length) notes.push(`${resent.length} orders resent (${[...errorCodes].map(([k, v]) => `${k} x${v}`).join(', ')})`);
  for (const r of records) if (r.gaveUp) failures.push(`order ${r.spec.orderId} never acknowledged: ${r.gaveUp}`);

  // Wait (bounded) until every acknowledged order's run is closed.
  const want = new Set(acknowledged.map((r) => workflowIdFor(r.spec.orderId)));
  const waitStart = Date.now();
  let runs: RunInfo[] = [];
  let lastLog = Date.now();
  for (;;) {
    try {
      runs = await listRuns(stack, prefix);
    } catch {
      // Temporal may still be coming back
    }
    const closed = new Set(runs.filter((r) => r.status !== 'RUNNING').map((r) => r.workflowId));
    const open = [...want].filter((id) => !closed.has(id));
    if (open.length === 0) break;
    if (Date.now() - waitStart > opts.completionTimeoutMs) {
      failures.push(`${open.length} acknowledged orders not finished within ${secs(opts.completionTimeoutMs)} (e.g. ${open.slice(0, 3).join(', ')})`);
      break;
    }
    if (Date.now() - lastLog > 15_000) {
      log(`[${name}] waiting: ${open.length} of ${want.size} acknowledged orders not finished yet`);
      lastLog = Date.now();
    }
    await delay(1_000);
  }
  notes.push(`all finished ${secs(Date.now() - waitStart)} after placing`);
  for (const p of procs) {
    if (!p.running() && !killedOnPurpose.has(p)) failures.push(`${p.name} exited on its own (${JSON.stringify(p.exits.at(-1))}); last lines:\n${p.tail(8)}`);
  }
  // Let visibility settle, then take the final picture.
  await delay(1_000);
  runs = await listRuns(stack, prefix);
  const result = verify(name, records, runs, await ordersInKafka(stack, prefix), ledgerFile, prefix, {
    notes,
    failures,
    started,
    outage: (ctx as KafkaCtx).outage,
  });
  if (!passed(result)) {
    log(`[${name}] failed: restarting every process so the next scenario starts clean`);
    await fleet.recycle();
  }
  return result;
}

function verify(
  scenario: ScenarioName,
  records: OrderRecord[],
  runs: RunInfo[],
  inKafka: Map<string, number>,
  ledgerFile: string,
  prefix: string,
  extra: { notes: string[]; failures: string[]; started: number; outage?: { killedAt: number; restartAt: number } },
): ScenarioResult {
  const { notes, failures } = extra;
  const runsById = new Map<string, RunInfo[]>();
  for (const r of runs) runsById.set(r.workflowId, [...(runsById.get(r.workflowId) ?? []), r]);
  const ledger = ledgerCounts(ledgerFile, prefix);
  // The provider's own view (keyed by idempotency key) must agree with the raw lines.
  const indexed = new Ledger(ledgerFile).entries().filter((e) => e.orderId.startsWith(`${prefix}-`));
  if (indexed.length !== ledger.entries.length) failures.push(`ledger has ${ledger.entries.length} lines for this run but ${indexed.length} distinct idempotency keys`);

  const acknowledged = records.filter((r) => r.acceptedAt !== undefined);
  const lostOrders: string[] = [];
  const duplicatedOrders: string[] = [];
  let completed = 0;
  let expectedRefunds = 0;
  let falseAcceptances = 0;
  for (const r of acknowledged) {
    const id = r.spec.orderId;
    const wfRuns = runsById.get(workflowIdFor(id)) ?? [];
    const charges = ledger.charges.get(id) ?? 0;
    const refunds = ledger.refunds.get(id) ?? 0;
    const finalStatus = wfRuns[0]?.status;
    if (r.spec.expect === 'REFUNDED') expectedRefunds += 1;
    const ok = r.spec.expect === 'COMPLETED' ? finalStatus === 'COMPLETED' && charges >= 1 && refunds === 0 : finalStatus === 'FAILED' && charges >= 1 && refunds >= 1;
    if (!inKafka.has(id)) falseAcceptances += 1;
    if (ok && inKafka.has(id)) completed += 1;
    else lostOrders.push(`${id} (run ${finalStatus ?? 'none'}, charges ${charges}, refunds ${refunds}, in Kafka ${inKafka.get(id) ?? 0})`);
    if (wfRuns.length > 1 || charges > 1 || refunds > 1) duplicatedOrders.push(`${id} (runs ${wfRuns.length}, charges ${charges}, refunds ${refunds})`);
  }
  const ackedIds = new Set(acknowledged.map((r) => r.spec.orderId));
  const unackedRuns = [...runsById.keys()].filter((wf) => !ackedIds.has(wf.slice('order-'.length)));
  if (unackedRuns.length) notes.push(`${unackedRuns.length} runs for orders never acknowledged (stored, answer lost)`);
  for (const [id, n] of [...ledger.charges, ...ledger.refunds]) {
    if (!ackedIds.has(id) && n > 1) duplicatedOrders.push(`${id} (unacknowledged, ${n} ledger lines of one kind)`);
  }
  const kafkaDuplicates = [...inKafka.values()].filter((n) => n > 1).length;
  if (kafkaDuplicates) notes.push(`${kafkaDuplicates} orders have more than one event in Kafka (resends, absorbed by the bridge)`);
  if (falseAcceptances) failures.push(`${falseAcceptances} orders acknowledged but absent from Kafka (false acceptances)`);

  if (scenario === 'kafka' && extra.outage) {
    const { killedAt, restartAt } = extra.outage;
    // Sent after the broker died and answered "accepted" before anything listened again: impossible if honest.
    const acceptedWhileDown = acknowledged.filter((r) => {
      const last = r.attempts[r.attempts.length - 1];
      return last.at >= killedAt && (r.acceptedAt ?? 0) < restartAt;
    }).length;
    const refusedWhileDown = records.reduce((n, r) => n + r.attempts.filter((a) => a.at >= killedAt && a.at < restartAt && a.code === 'KAFKA_UNAVAILABLE').length, 0);
    notes.unshift(`while down: ${refusedWhileDown} KAFKA_UNAVAILABLE answers, ${acceptedWhileDown} acceptances, ${falseAcceptances} acknowledged-but-not-in-Kafka`);
    if (acceptedWhileDown) failures.push(`${acceptedWhileDown} orders accepted while the broker was down`);
    if (!refusedWhileDown) failures.push('the gateway answered no KAFKA_UNAVAILABLE while the broker was down');
  }

  const result: ScenarioResult = {
    scenario,
    placed: records.length,
    acknowledged: acknowledged.length,
    completed,
    workflows: runs.length,
    charges: ledger.entries.filter((e) => e.kind === 'charge').length,
    refunds: ledger.entries.filter((e) => e.kind === 'refund').length,
    lost: lostOrders.length,
    duplicated: duplicatedOrders.length,
    expectedRefunds,
    wallMs: Date.now() - extra.started,
    notes,
    failures,
    lostOrders,
    duplicatedOrders,
  };
  if (result.lost) failures.push(`${result.lost} lost: ${lostOrders.slice(0, 5).join('; ')}`);
  if (result.duplicated) failures.push(`${result.duplicated} duplicated: ${duplicatedOrders.slice(0, 5).join('; ')}`);
  if (result.acknowledged !== result.placed) failures.push(`${result.placed - result.acknowledged} of ${result.placed} orders never acknowledged`);
  if (result.charges !== result.completed) failures.push(`${result.charges} charges for ${result.completed} finished orders`);
  if (result.refunds !== expectedRefunds) failures.push(`${result.refunds} refunds, expected ${expectedRefunds}`);
  return result;
}

export function formatTable(results: ScenarioResult[]): string {
  const cols = ['scenario', 'placed', 'acknowledged', 'completed', 'workflows', 'charges', 'refunds', 'lost', 'duplicated', 'time', 'result'] as const;
  const rows = results.map((r) => [
    r.scenario,
    String(r.placed),
    String(r.acknowledged),
    String(r.completed),
    String(r.workflows),
    String(r.charges),
    `${r.refunds}/${r.expectedRefunds}`,
    String(r.lost),
    String(r.duplicated),
    secs(r.wallMs),
    passed(r) ? 'ok' : 'FAIL',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cols), sep, ...rows.map(line)].join('\n');
}
