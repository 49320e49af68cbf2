/**
 * `npm run bench`: one command, one run. Starts its own gateway, bridge and worker processes,
 * measures the pipeline at full speed and at a fixed offered rate for each step delay, measures
 * the raw Temporal and raw Kafka ceilings and a seed-style consumer on the same machine in the
 * same run, and writes bench-results/<timestamp>.json, a Markdown table and docs/bench.png.
 *
 *   npm run bench                                   # the full default run (2000 orders x 20 conns)
 *   npm run bench -- --orders 200 --connections 5 --quick
 *   npm run bench -- --idle-connections 5000        # separate mode: gateway RSS with idle sockets
 *
 * Kafka and Temporal are shared: the bench never stops them (it starts them with the launcher only
 * when they are down, and leaves them running). Runs are isolated by order ids that carry a run id.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, TASK_QUEUE } from '../common/config';
import { kafkaReady, temporalReady } from '../common/health';
import { renderChart } from './chart';
import { benchKafka, deleteTopics, groupMembers } from './kafka-util';
import { choosePort, findServerPid, killAllChildren, REPO_ROOT } from './procs';
import { Progress } from './progress';
import { BenchReport, computeRatios, computeTargets, machineInfo, markdown, writeJson } from './report';
import { BenchContext, runIdleConnections, runPipeline, runRawKafka, runRawTemporal, runSeedBaseline } from './scenarios';
import type { ConfigResult, IdleResult } from './types';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};
const intList = (v: string): number[] => v.split(',').map((x) => int(x.trim()));

const KINDS = ['kafka', 'seed', 'temporal', 'pipeline'] as const;
type SelKind = (typeof KINDS)[number];

const program = new Command()
  .name('bench')
  .description('Benchmark the order pipeline against raw Temporal, raw Kafka and a seed-style consumer')
  .option('--orders <n>', 'orders per configuration', int, 2000)
  .option('--connections <n>', 'WebSocket connections', int, 20)
  .option('--rate <n>', 'offered orders/s for the fixed-rate configurations', int, 300)
  .option('--delays <ms,...>', 'step delays (STEP_DELAY_MS) to measure', intList, [0, 1000])
  .option('--quick', 'a quick check: 200 orders over 5 connections unless given, short caps, chart into the results dir')
  .option('--only <kinds>', `comma list of configuration kinds to run: ${KINDS.join(', ')}`)
  .option('--seed-seconds <s>', 'time cap for the seed-style consumer when the step delay is > 0', int, 30)
  .option('--drain-timeout <s>', 'longest wait for one configuration to complete', int, 300)
  .option('--stall-timeout <s>', 'give up on a configuration when no workflow closed for this long', int, 60)
  .option('--ceiling-concurrency <n>', 'concurrent starts for the raw Temporal ceiling (default: --connections)', int)
  .option('--gateway-port <n>', 'GATEWAY_PORT for the bench gateway', int, 3100)
  .option('--bridge-port <n>', 'BRIDGE_HEALTH_PORT for the bench bridge', int, 3101)
  .option('--idle-connections <n>', 'separate mode: open this many idle connections and report the gateway RSS', int)
  .option('--idle-hold <s>', 'seconds to hold the idle connections open', int, 15)
  .option('--sample-ms <n>', 'CPU/RSS sampling interval', int, 500)
  .option('--out <dir>', 'where the JSON result goes', 'bench-results')
  .option('--chart <file>', 'PNG chart (default docs/bench.png; with --quick, next to the JSON)')
  .option('--no-progress', 'no progress bars')
  .option('--allow-shared', 'run even if another bridge is consuming as group order-bridge');

interface Opts {
  orders: number;
  connections: number;
  rate: number;
  delays: number[];
  quick?: boolean;
  only?: string;
  seedSeconds: number;
  drainTimeout: number;
  stallTimeout: number;
  ceilingConcurrency?: number;
  gatewayPort: number;
  bridgePort: number;
  idleConnections?: number;
  idleHold: number;
  sampleMs: number;
  out: string;
  chart?: string;
  progress: boolean;
  allowShared?: boolean;
}

function gitInfo(): { commit: string; modified: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const modified = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return { commit, modified };
  } catch {
    return { commit: 'unknown', modified: [] };
  }
}

const portOf = (address: string, fallback: number): number => Number(address.split(':').pop()) || fallback;

async function ensureServers(progress: Progress, needTemporal: boolean, notes: string[]): Promise<void> {
  const config = loadConfig();
  const [k, t] = await Promise.all([kafkaReady(config.kafkaBrokers), needTemporal ? temporalReady(config.temporalAddress, config.temporalNamespace) : true]);
  if (k && t) return;
  progress.log(`Kafka ${k ? 'up' : 'down'}, Temporal ${t ? 'up' : 'down'}: starting what is down with the launcher (left running afterwards)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/launcher.ts', 'up', '--detach'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 15 * 60_000 });
  if (r.status !== 0) throw new Error('the launcher could not start the servers; see its output above');
  notes.push('Kafka/Temporal were down; the bench started them with `infra/launcher.ts up --detach` and left them running');
}

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<Opts>();
  if (opts.quick) {
    if (program.getOptionValueSource('orders') === 'default') opts.orders = 200;
    if (program.getOptionValueSource('connections') === 'default') opts.connections = 5;
    if (program.getOptionValueSource('seedSeconds') === 'default') opts.seedSeconds = 10;
    if (program.getOptionValueSource('drainTimeout') === 'default') opts.drainTimeout = 120;
    if (program.getOptionValueSource('stallTimeout') === 'default') opts.stallTimeout = 30;
  }
  const selected = new Set<SelKind>(
    opts.only
      ? opts.only.split(',').map((s) => {
          const k = s.trim() as SelKind;
          if (!KINDS.includes(k)) throw new InvalidArgumentError(`--only: unknown kind "${s}"`);
          return k;
        })
      : KINDS,
  );
  const progress = new Progress(opts.progress);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const runId = `bench-${Date.now().toString(36)}`;
  const outDir = path.resolve(REPO_ROOT, opts.out);
  const logDir = path.join(outDir, 'logs', runId);
  const notes: string[] = [];
  const idleMode = opts.idleConnections !== undefined;

  await ensureServers(progress, !idleMode, notes);
  const config = loadConfig();
  const dataDir = process.env.ORDERS_DATA_DIR ? path.resolve(process.env.ORDERS_DATA_DIR) : path.join(REPO_ROOT, '.data');
  const serverPids = {
    kafka: findServerPid(path.join(dataDir, 'run', 'kafka.pid'), 'kafka.Kafka', portOf(config.kafkaBrokers[0], 9092)),
    temporal: findServerPid(path.join(dataDir, 'run', 'temporal.pid'), 'start-dev', portOf(config.temporalAddress, 7233)),
  };
  for (const [name, s] of Object.entries(serverPids)) {
    if (s.pid === undefined) notes.push(`${name} server pid ${s.how}: its CPU and RSS are not sampled`);
  }
  const gatewayPort = await choosePort(opts.gatewayPort);
  const bridgePort = await choosePort(opts.bridgePort === gatewayPort ? opts.bridgePort + 1 : opts.bridgePort);
  if (gatewayPort !== opts.gatewayPort || bridgePort !== opts.bridgePort) notes.push(`ports in use: gateway on ${gatewayPort}, bridge health on ${bridgePort}`);

  const kafka = benchKafka(config.kafkaBrokers, 'order-bench');
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 10_000 });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const ctx: BenchContext = {
    runId,
    brokers: config.kafkaBrokers,
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    client,
    kafka,
    serverPids: { kafka: serverPids.kafka.pid, temporal: serverPids.temporal.pid },
    logDir,
    gatewayPort,
    bridgePort,
    connections: opts.connections,
    ceilingConcurrency: opts.ceilingConcurrency ?? opts.connections,
    drainTimeoutMs: opts.drainTimeout * 1000,
    stallMs: opts.stallTimeout * 1000,
    sampleMs: opts.sampleMs,
    progress,
    topics: [],
  };

  const results: ConfigResult[] = [];
  let idle: IdleResult | undefined;
  try {
    if (idleMode) {
      idle = await runIdleConnections(ctx, opts.idleConnections ?? 0, opts.idleHold);
    } else {
      if (selected.has('pipeline')) {
        const members = await groupMembers(kafka, 'order-bridge');
        if (members > 0) {
          const msg = `another consumer (${members} member(s)) is in group order-bridge: it would take some of the bench's partitions`;
          if (!opts.allowShared) throw new Error(`${msg}. Stop it (e.g. a dev \`npm start\`) or pass --allow-shared.`);
          notes.push(msg);
        }
      }
      try {
        const tq = await connection.workflowService.describeTaskQueue({ namespace: config.temporalNamespace, taskQueue: { name: TASK_QUEUE }, taskQueueType: 1 });
        const recent = (tq.pollers ?? []).filter((p) => {
          const secs = Number(p.lastAccessTime?.seconds ?? 0);
          return Date.now() / 1000 - secs < 30;
        });
        if (recent.length) notes.push(`${recent.length} other poller(s) were active on task queue "${TASK_QUEUE}" just before the run: they may take some of the work`);
      } catch {
        // informational only
      }
      progress.log(
        `run ${runId}: ${opts.orders} orders per configuration over ${opts.connections} connections, rate ${opts.rate}/s, delays ${opts.delays.join(', ')} ms; logs in ${path.relative(REPO_ROOT, logDir)}`,
      );
      const attempt = async (id: string, fn: () => Promise<ConfigResult>): Promise<void> => {
        try {
          results.push(await fn());
        } catch (err) {
          progress.stop();
          const message = (err as Error).message;
          progress.log(`${id} failed: ${message}`);
          notes.push(`${id} failed: ${message.split('\n')[0]}`);
        }
      };
      if (selected.has('kafka')) {
        await attempt('kafka-1msg', () => runRawKafka(ctx, 'kafka-1msg', opts.orders, 1));
        await attempt('kafka-batch100', () => runRawKafka(ctx, 'kafka-batch100', opts.orders, 100));
      }
      for (const d of opts.delays) {
        if (selected.has('temporal')) await attempt(`temporal-d${d}`, () => runRawTemporal(ctx, `temporal-d${d}`, opts.orders, d));
        if (selected.has('pipeline')) {
          await attempt(`pipe-full-d${d}`, () => runPipeline(ctx, `pipe-full-d${d}`, opts.orders, d));
          await attempt(`pipe-r${opts.rate}-d${d}`, () => runPipeline(ctx, `pipe-r${opts.rate}-d${d}`, opts.orders, d, opts.rate));
        }
        if (selected.has('seed')) {
          const cap = d > 0 ? opts.seedSeconds * 1000 : ctx.drainTimeoutMs;
          await attempt(`seed-d${d}`, () => runSeedBaseline(ctx, `seed-d${d}`, opts.orders, d, cap));
        }
      }
    }
  } finally {
    progress.stop();
    const failedDelete = await deleteTopics(kafka, ctx.topics);
    if (failedDelete) notes.push(`could not delete the bench topics ${ctx.topics.join(', ')}: ${failedDelete}`);
    await connection.close();
  }

  const report: BenchReport = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machineInfo(),
    git: gitInfo(),
    options: { ...opts, gatewayPort, bridgePort },
    serverPids,
    results,
    ratios: idleMode ? [] : computeRatios(results, opts.delays, opts.rate),
    targets: computeTargets(results, opts.rate, idle),
    idle,
    notes,
  };
  const jsonFile = writeJson(outDir, `${stamp}${idleMode ? '-idle' : ''}.json`, report);
  console.log(markdown(report));
  console.log('');
  console.log(`JSON: ${path.relative(REPO_ROOT, jsonFile)}`);
  if (!idleMode && results.length) {
    const chartFile = path.resolve(REPO_ROOT, opts.chart ?? (opts.quick ? path.join(opts.out, `${stamp}.png`) : 'docs/bench.png'));
    renderChart(report, chartFile);
    console.log(`chart: ${path.relative(REPO_ROOT, chartFile)}`);
  }
}

process.once('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});
process.on('exit', killAllChildren);

main().then(
  () => process.exit(0),
  (err: unknown) => {
    killAllChildren();
    console.error(`[bench] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
