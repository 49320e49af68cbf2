/**
 * `npm run bench`: one command, one run. Starts its own gateway, bridge and worker processes and
 * measures, in the same run on the same machine: raw Kafka, the bare-engine ceiling and raw
 * Temporal processOrder (against the launcher's tuned dev server and against a second dev server
 * at stock settings), the bare engine and the pipeline on a Temporal server on PostgreSQL, the status
 * fan-out over 4 gateways, the pipeline at full speed, at a fixed offered rate and at the seed's own
 * step delays, the seed-style consumer, the order history (listOrders latency, the projection's cost;
 * history-run.ts) and the gateway's RSS with idle connections. Writes
 * bench-results/<timestamp>.json, prints Markdown tables (with a per-order cost table) and draws
 * docs/bench.png. The configurations and their ids: plan.ts.
 *
 *   npm run bench                                   # the full default run (capped by --budget, 23 min; the idle check after)
 *   npm run bench -- --quick                        # a quick check with small counts
 *   npm run bench -- --only idle                    # only the idle-connection RSS check
 *
 * Kafka and the tuned Temporal are shared: the bench never stops them (it starts them with the
 * launcher only when they are down, and leaves them running). Runs are isolated by ids carrying a run id.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../common/config';
import { TASK_QUEUE } from '../../common/names';
import { kafkaReady, temporalReady } from '../../common/health';
import { renderChart } from './chart';
import { BenchContext, loadAverage, TemporalTarget } from './context';
import { costTable } from './cost';
import type { FanoutResult } from './fanout-run';
import { runFanoutSteps } from './fanout-step';
import { runOrderHistory, type HistoryResult } from './history-run';
import { runIdleConnections } from './idle-connections';
import { benchKafka, deleteTopics, groupMembers } from './kafka-util';
import { markdown } from './markdown';
import { parseOptions } from './options';
import { BRIDGE_GROUP } from './pipeline';
import { planSteps, type SelKind, Step } from './plan';
import { PROJECT_ROOT } from '../../common/config';
import { findServerPid } from './server-pids';
import { freePort, preferredOrFreePort } from '../infra/proc';
import { Progress } from './progress';
import { BenchReport, machineInfo, readBaseline, writeJson } from './report';
import { withSqlServer } from './sql-server';
import { withStockServer } from './stock-server';
import type { ConfigResult, IdleResult } from './types';
import { computeRatios, computeTargets } from './verdicts';
import { dataConverterOf } from '../../common/codec';
import { useDevKekUnlessSet } from '../infra/dev-kek';

function gitInfo(): { commit: string; modified: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    }).trim();
    const modified = execFileSync('git', ['status', '--porcelain'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return { commit, modified };
  } catch {
    return { commit: 'unknown', modified: [] };
  }
}

const portOf = (address: string, fallback: number): number => Number(address.split(':').pop()) || fallback;

async function ensureServers(progress: Progress, notes: string[]): Promise<void> {
  const config = loadConfig();
  const [k, t] = await Promise.all([
    kafkaReady(config.kafkaBrokers),
    temporalReady(config.temporalAddress, config.temporalNamespace),
  ]);
  if (k && t) return;
  progress.log(
    `Kafka ${k ? 'up' : 'down'}, Temporal ${t ? 'up' : 'down'}: starting what is down with the launcher (left running afterwards)`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/infra/launcher.ts', 'up', '--detach'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error('the launcher could not start the servers; see its output above');
  notes.push(
    'Kafka/Temporal were down; the bench started them with `tools/infra/launcher.ts up --detach` and left them running',
  );
}

/** Notes about other consumers and pollers that would take some of the bench's work. */
async function checkShared(
  ctx: BenchContext,
  connection: Connection,
  needsGroup: boolean,
  allowShared: boolean,
  notes: string[],
): Promise<void> {
  if (needsGroup) {
    const members = await groupMembers(ctx.kafka, BRIDGE_GROUP);
    if (members > 0) {
      const msg = `another consumer (${members} member(s)) is in group ${BRIDGE_GROUP}: it would take some of the bench's partitions`;
      if (!allowShared) throw new Error(`${msg}. Stop it (e.g. a dev \`npm start\`) or pass --allow-shared.`);
      notes.push(msg);
    }
  }
  try {
    const tq = await connection.workflowService.describeTaskQueue({
      namespace: ctx.namespace,
      taskQueue: { name: TASK_QUEUE },
      taskQueueType: 1,
    });
    const recent = (tq.pollers ?? []).filter((p) => Date.now() / 1000 - Number(p.lastAccessTime?.seconds ?? 0) < 30);
    if (recent.length)
      notes.push(
        `${recent.length} other poller(s) were active on task queue "${TASK_QUEUE}" just before the run: they may take some of the work`,
      );
  } catch {
    // informational only
  }
}

async function main(): Promise<void> {
  const { opts, kinds } = parseOptions();
  const progress = new Progress(opts.progress);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const runId = `bench-${Date.now().toString(36)}`;
  const outDir = path.resolve(PROJECT_ROOT, opts.out);
  const logDir = path.join(outDir, 'logs', runId);
  const notes: string[] = [];
  const machine = machineInfo();

  await ensureServers(progress, notes);
  // The apps the bench starts seal payloads as `npm start`'s do: the KEK set, else the development one.
  useDevKekUnlessSet(loadConfig().dataDir);
  const config = loadConfig();
  const dataDir = process.env.ORDERS_DATA_DIR
    ? path.resolve(process.env.ORDERS_DATA_DIR)
    : path.join(PROJECT_ROOT, '.data');
  const serverPids = {
    kafka: findServerPid(path.join(dataDir, 'run', 'kafka.pid'), 'kafka.Kafka', portOf(config.kafkaBrokers[0], 9092)),
    temporal: findServerPid(
      path.join(dataDir, 'run', 'temporal.pid'),
      'start-dev',
      portOf(config.temporalAddress, 7233),
    ),
  };
  for (const [name, s] of Object.entries(serverPids)) {
    if (s.pid === undefined) notes.push(`${name} server pid ${s.how}: its CPU and RSS are not sampled`);
  }
  // Each preferred port, or a free one when it is taken (or already chosen for another process).
  const chosen: number[] = [];
  const portFor = async (preferred: number): Promise<number> => {
    let port = chosen.includes(preferred) ? await freePort() : await preferredOrFreePort(preferred);
    while (chosen.includes(port)) port = await freePort();
    chosen.push(port);
    return port;
  };
  const gatewayPort = await portFor(opts.gatewayPort);
  const bridgePort = await portFor(opts.bridgePort);
  const gatewayHealthPort = await portFor(opts.gatewayHealthPort);
  if (
    gatewayPort !== opts.gatewayPort ||
    bridgePort !== opts.bridgePort ||
    gatewayHealthPort !== opts.gatewayHealthPort
  )
    notes.push(`ports in use: gateway on ${gatewayPort} (admin ${gatewayHealthPort}), bridge health on ${bridgePort}`);

  const kafka = benchKafka(config.kafkaBrokers, 'order-bench');
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 10_000 });
  const temporal: TemporalTarget = {
    settings: 'tuned',
    address: config.temporalAddress,
    client: new Client({
      connection,
      namespace: config.temporalNamespace,
      dataConverter: dataConverterOf(config.payloadEncryption),
    }),
    pid: serverPids.temporal.pid,
  };
  const ctx: BenchContext = {
    runId,
    brokers: config.kafkaBrokers,
    namespace: config.temporalNamespace,
    temporal,
    kafka,
    kafkaPid: serverPids.kafka.pid,
    logDir,
    gatewayPort,
    gatewayHealthPort,
    bridgePort,
    connections: opts.connections,
    drainTimeoutMs: opts.drainTimeout * 1000,
    stallMs: opts.stallTimeout * 1000,
    sampleMs: opts.sampleMs,
    progress,
    topics: [],
  };
  const plan = {
    kinds,
    orders: opts.orders,
    slowDelay: opts.slowDelay,
    slowOrders: opts.slowOrders,
    rate: opts.rate,
    seedSeconds: opts.seedSeconds,
    stock: opts.stock,
    floodConnections: opts.floodConnections,
    floodLookups: opts.floodLookups,
    lookupsRate: opts.lookupsRate,
  };
  const steps = planSteps(plan);

  const results: ConfigResult[] = [];
  let idle: IdleResult | undefined;
  let fanout: FanoutResult[] | undefined;
  let history: HistoryResult | undefined;
  try {
    // The pipeline, the look-up and amend runs and the history's feed write ORDER_PLACED events to
    // order-placement, which a running bridge in order-bridge would start.
    const bridgeGroup = ['pipeline', 'lookups', 'amend', 'history'].some((k) => kinds.has(k as SelKind));
    await checkShared(ctx, connection, bridgeGroup, Boolean(opts.allowShared), notes);
    progress.log(
      `run ${runId}: ${steps.map((s) => s.id).join(', ')}${kinds.has('idle') ? `, idle ${opts.idleConnections}` : ''}; ` +
        `${opts.orders} orders at delay 0, ${opts.slowOrders} at ${opts.slowDelay} ms, ${opts.connections} connections; logs in ${path.relative(PROJECT_ROOT, logDir)}`,
    );
    const budgetEnd = startedAt.getTime() + opts.budget * 1000;
    const attempt = async (step: Step, target: TemporalTarget): Promise<void> => {
      // The run stays within --budget: a configuration gets at most what is left of it (at least 20 s).
      const left = budgetEnd - Date.now();
      if (left < 20_000) {
        notes.push(`${step.id} skipped: the run's time budget of ${opts.budget}s was used up`);
        return;
      }
      ctx.drainTimeoutMs = Math.min(opts.drainTimeout * 1000, left);
      const start = loadAverage();
      try {
        const began = Date.now();
        const result = await step.run(ctx, target);
        result.loadAvg = { start, end: loadAverage() };
        result.wallSeconds = Math.round((Date.now() - began) / 1000);
        results.push(result);
      } catch (err) {
        progress.stop();
        const message = (err as Error).message;
        progress.log(`${step.id} failed: ${message}`);
        notes.push(`${step.id} failed: ${message.split('\n')[0]}`);
      }
    };
    for (const step of steps.filter((s) => s.server === 'tuned')) await attempt(step, temporal);
    // The bench's own servers, each started once for its steps: a stock dev server, a Temporal on PostgreSQL.
    for (const [server, withServer, what] of [
      ['stock', withStockServer, 'the stock dev server'],
      ['postgres', withSqlServer, 'the Temporal server on PostgreSQL'],
    ] as const) {
      const own = steps.filter((s) => s.server === server);
      if (!own.length) continue;
      try {
        await withServer(ctx, async (target) => {
          for (const step of own) await attempt(step, target);
        });
      } catch (err) {
        notes.push(`${what} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (kinds.has('history')) {
      const left = budgetEnd - Date.now();
      if (left < 120_000) notes.push(`history skipped: the run's time budget of ${opts.budget}s was used up`);
      else {
        ctx.drainTimeoutMs = Math.min(opts.drainTimeout * 1000, left);
        const historyPlan = {
          listOrders: opts.historyOrders,
          queries: opts.historyQueries,
          feedOrders: opts.historyFeed,
          liveOrders: opts.historyLiveOrders,
          liveRate: opts.historyLiveRate,
          listedOrders: opts.historyListedOrders,
          listedRate: opts.historyListedRate,
        };
        try {
          history = await runOrderHistory(ctx, historyPlan);
        } catch (err) {
          progress.stop();
          progress.log(`history failed: ${(err as Error).message}`);
          notes.push(`history failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
    if (kinds.has('fanout')) {
      const fanoutPlan = {
        gateways: opts.fanoutGateways,
        rates: opts.fanoutRates,
        seconds: opts.fanoutSeconds,
        orders: 2000,
      };
      fanout = await runFanoutSteps(fanoutPlan, progress, budgetEnd, notes);
    }
    if (kinds.has('idle')) idle = await runIdleConnections(ctx, opts.idleConnections, opts.idleHold);
  } finally {
    progress.stop();
    const failedDelete = await deleteTopics(kafka, ctx.topics);
    if (failedDelete) notes.push(`could not delete the bench topics ${ctx.topics.join(', ')}: ${failedDelete}`);
    await connection.close();
  }

  machine.loadAvgAtEnd = loadAverage();
  // Display order: the plan's (stock ceilings beside the tuned ones), not the order they ran in.
  const position = (r: ConfigResult): number => steps.findIndex((s) => s.id === r.id);
  results.sort((a, b) => position(a) - position(b));
  const report: BenchReport = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    git: gitInfo(),
    options: { ...opts, gatewayPort, gatewayHealthPort, bridgePort },
    serverPids,
    results,
    costs: costTable(results),
    baseline: opts.baseline ? readBaseline(opts.baseline, costTable) : undefined,
    ratios: results.length ? computeRatios(results, plan) : [],
    targets: computeTargets(results, plan, idle, history),
    idle,
    fanout,
    history,
    notes,
  };
  const onlyIdle = !results.length && !history && idle;
  const jsonFile = writeJson(outDir, `${stamp}${onlyIdle ? '-idle' : ''}.json`, report);
  console.log(markdown(report));
  console.log('');
  console.log(`JSON: ${path.relative(PROJECT_ROOT, jsonFile)}`);
  if (results.length) {
    const chartFile = path.resolve(
      PROJECT_ROOT,
      opts.chart ?? (opts.quick ? path.join(opts.out, `${stamp}.png`) : 'docs/bench.png'),
    );
    renderChart(report, chartFile);
    console.log(`chart: ${path.relative(PROJECT_ROOT, chartFile)}`);
  }
  console.log(`wall time: ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`);
}

// Exiting SIGKILLs every app process the bench started (tools/infra/proc.ts killOnExit).
process.once('SIGINT', () => process.exit(130));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
