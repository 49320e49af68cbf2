/**
 * Starts (or finds) the servers the app needs, on loopback:
 *  - single-node KRaft Kafka on 127.0.0.1:9092,
 *  - the Temporal dev server on 127.0.0.1:7233 with its web UI on http://127.0.0.1:8233,
 *    persisting to a SQLite file so runs survive a restart.
 * Data, server logs and pid files live under one data directory (infra/paths.ts).
 *
 *   npm run infra:up [-- --detach]   start what is not running; Ctrl-C stops what this run started
 *   npm run infra:down               stop the servers the launcher started (from their pid files)
 *   npm run infra:status             what is reachable, and which pids the launcher owns
 *
 * A second, isolated stack can run next to the default one: ORDERS_KAFKA_PORT,
 * ORDERS_KAFKA_CONTROLLER_PORT, ORDERS_TEMPORAL_PORT, ORDERS_TEMPORAL_UI_PORT and ORDERS_DATA_DIR
 * move it (programmatically: pass a StackOptions). startServer/stopServer start and stop (or
 * SIGKILL) one server of a stack on its own data, which is what the chaos harness uses.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { ENV, infraPorts, InfraPorts, isSet, loadConfig, SEARCH_ATTRIBUTES, TEMPORAL_DEV_DYNAMIC_CONFIG, TOPIC_PARTITIONS } from '../common/config';
import { dataDir, dataPaths } from './paths';
import { commandLineOf, defaultLog, delay, isAlive, Log } from './proc';
import { ensureScramUser, saslListenerProperties } from './kafka-sasl';
import { provisionKafka, provisionTemporalCli } from './provision';
import { kafkaReady, temporalReady } from '../common/health';

export type Server = 'kafka' | 'temporal';
export const SERVERS: readonly Server[] = ['kafka', 'temporal'];

/** Where one stack's servers listen and keep their data, pid files and logs. */
export interface StackOptions {
  dataDir: string;
  ports: InfraPorts;
  /** 'stock': the dev server without TEMPORAL_DEV_DYNAMIC_CONFIG (the benchmark compares both). */
  temporalSettings?: 'tuned' | 'stock';
}

/** The stack the environment describes (ORDERS_DATA_DIR, ORDERS_*_PORT), with overrides. */
export function stackOptions(overrides: { dataDir?: string; ports?: Partial<InfraPorts> } = {}): StackOptions {
  const ports = { ...infraPorts(), ...overrides.ports };
  // A stack on another Kafka port gets no SASL listener unless it names one (it would clash with ours).
  if (overrides.ports?.kafka !== undefined && overrides.ports.kafkaSasl === undefined) delete ports.kafkaSasl;
  return { dataDir: path.resolve(overrides.dataDir ?? dataDir()), ports };
}

export const kafkaBrokersOf = (stack: StackOptions): string[] => [`127.0.0.1:${stack.ports.kafka}`];
export const temporalAddressOf = (stack: StackOptions): string => `127.0.0.1:${stack.ports.temporal}`;

/**
 * A marker of each server's command line, so `down` never signals an unrelated process that reused
 * a pid; the data dir must appear too, so one stack never signals another stack's server.
 */
const CMDLINE_MARK: Record<Server, string> = { kafka: 'kafka.Kafka', temporal: 'start-dev' };

const pidFile = (s: Server, stack: StackOptions): string => path.join(dataPaths.run(stack.dataDir), `${s}.pid`);
export const serverLogFile = (s: Server, stack: StackOptions = stackOptions()): string => path.join(dataPaths.logs(stack.dataDir), `${s}.log`);
const logFile = serverLogFile;

export function ownedPid(s: Server, stack: StackOptions = stackOptions()): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(s, stack), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    const cmdline = commandLineOf(pid);
    if (cmdline.includes(CMDLINE_MARK[s]) && cmdline.includes(stack.dataDir + path.sep)) return pid;
  } catch {
    // no pid file
  }
  return undefined;
}

function tailOf(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Spawns a server in its own process group with output to its log file, and records its pid. */
function spawnServer(s: Server, stack: StackOptions, command: string, args: string[]): number {
  fs.mkdirSync(dataPaths.logs(stack.dataDir), { recursive: true });
  fs.mkdirSync(dataPaths.run(stack.dataDir), { recursive: true });
  const out = fs.openSync(logFile(s, stack), 'a');
  fs.writeSync(out, `\n=== ${new Date().toISOString()} starting ${s}: ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${s} (${command})`);
  child.unref();
  fs.writeFileSync(pidFile(s, stack), `${child.pid}\n`);
  return child.pid;
}

async function waitReady(s: Server, stack: StackOptions, pid: number, check: () => Promise<boolean>, timeoutMs: number, log: Log): Promise<void> {
  const logFile = (server: Server): string => serverLogFile(server, stack);
  const started = Date.now();
  let lastNote = started;
  while (Date.now() - started < timeoutMs) {
    if (await check()) {
      log(`${s} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (pid ${pid}, log ${logFile(s)})`);
      return;
    }
    if (!isAlive(pid)) {
      throw new Error(`${s} exited during start-up; last lines of ${logFile(s)}:\n${tailOf(logFile(s))}`);
    }
    if (Date.now() - lastNote > 10_000) {
      log(`waiting for ${s} (${Math.round((Date.now() - started) / 1000)}s)`);
      lastNote = Date.now();
    }
    await delay(250);
  }
  throw new Error(`${s} did not become ready within ${timeoutMs / 1000}s; last lines of ${logFile(s)}:\n${tailOf(logFile(s))}`);
}

function kafkaProperties(stack: StackOptions): string {
  const { kafka, kafkaController, kafkaSasl } = stack.ports;
  const sasl = kafkaSasl === undefined ? undefined : saslListenerProperties(kafkaSasl);
  return [
    '# Written by infra/launcher.ts: single-node KRaft broker+controller on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}${sasl ? `,${sasl.listener}` : ''}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}${sasl ? `,${sasl.listener}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${sasl ? `,${sasl.protocolMap}` : ''}`,
    ...(sasl?.lines ?? []),
    `log.dirs=${dataPaths.kafkaLogDir(stack.dataDir)}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created on purpose by the launcher and the tests; a typo should fail, not create one.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

const LOG4J2 = [
  '# Broker logging (Kafka 4.x leaves the backend out of its pom; log4j2 is added in infra/maven/kafka-pom.xml)',
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.out.ref = out',
  'logger.kafka.name = kafka',
  'logger.kafka.level = WARN',
  'logger.apache.name = org.apache.kafka',
  'logger.apache.level = WARN',
  'logger.state.name = state.change.logger',
  'logger.state.level = WARN',
  'logger.started.name = kafka.server.KafkaRaftServer',
  'logger.started.level = INFO',
  '',
].join('\n');

async function startKafka(stack: StackOptions, log: Log): Promise<number> {
  const lib = await provisionKafka(log);
  const confDir = dataPaths.kafkaConfigDir(stack.dataDir);
  const kafkaLogDir = dataPaths.kafkaLogDir(stack.dataDir);
  fs.mkdirSync(confDir, { recursive: true });
  fs.mkdirSync(kafkaLogDir, { recursive: true });
  const props = path.join(confDir, 'server.properties');
  const log4j = path.join(confDir, 'log4j2.properties');
  fs.writeFileSync(props, kafkaProperties(stack));
  fs.writeFileSync(log4j, LOG4J2);
  const classpath = `${lib}/*`;
  const jvm = [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${dataPaths.logs(stack.dataDir)}`,
  ];
  if (!fs.existsSync(path.join(kafkaLogDir, 'meta.properties'))) {
    // Format once. A KRaft cluster id is 16 random bytes in URL-safe base64.
    let clusterId = crypto.randomBytes(16).toString('base64url');
    // Kafka's tools would read an id starting with '-' as an option (1 in 64 ids); its own
    // generator never starts one with '-', so neither do we.
    while (clusterId.startsWith('-')) clusterId = crypto.randomBytes(16).toString('base64url');
    log(`formatting Kafka storage in ${kafkaLogDir} (cluster ${clusterId})`);
    await new Promise<void>((resolve, reject) => {
      const fmt = spawn(
        'java',
        [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--standalone', '--ignore-formatted'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      fmt.stdout.on('data', (d: Buffer) => (output += d.toString()));
      fmt.stderr.on('data', (d: Buffer) => (output += d.toString()));
      fmt.on('error', reject);
      fmt.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`Kafka storage format failed (exit ${code}):\n${output}`))));
    });
  }
  const pid = spawnServer('kafka', stack, 'java', [...jvm, '-cp', classpath, 'kafka.Kafka', props]);
  await waitReady('kafka', stack, pid, () => kafkaReady(kafkaBrokersOf(stack)), 120_000, log);
  return pid;
}

async function startTemporal(stack: StackOptions, log: Log): Promise<number> {
  const bin = await provisionTemporalCli(log);
  const db = dataPaths.temporalDb(stack.dataDir);
  fs.mkdirSync(path.dirname(db), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(stack.ports.temporal),
    '--ui-port',
    String(stack.ports.temporalUi),
    '--db-filename',
    db,
    '--namespace',
    'default',
    '--log-format',
    'json',
    '--log-level',
    'warn',
    // WAL + synchronous=NORMAL: committed runs survive a crash of the server process (not of the OS).
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(stack.temporalSettings === 'stock'
      ? []
      : Object.entries(TEMPORAL_DEV_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`])),
  ];
  const pid = spawnServer('temporal', stack, bin, args);
  await waitReady('temporal', stack, pid, () => temporalReady(temporalAddressOf(stack), 'default'), 120_000, log);
  return pid;
}

/**
 * Starts one server of a stack on that stack's data (formatting Kafka's storage on first use) and
 * waits until it answers. A server of this stack that is still running is reused.
 */
export async function startServer(s: Server, stack: StackOptions = stackOptions(), log: Log = defaultLog): Promise<number> {
  const running = ownedPid(s, stack);
  if (running !== undefined) return running;
  return s === 'kafka' ? startKafka(stack, log) : startTemporal(stack, log);
}

export interface StopServerOptions {
  /** SIGTERM (default): graceful, then SIGKILL after graceMs. SIGKILL: a crash, right away. */
  signal?: 'SIGTERM' | 'SIGKILL';
  graceMs?: number;
  log?: Log;
}

/** Signals a server's whole process group (the launcher starts each server as a group leader). */
function signalServer(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Stops one server of a stack if the launcher owns it; resolves once the process is gone. */
export async function stopServer(s: Server, stack: StackOptions = stackOptions(), opts: StopServerOptions = {}): Promise<void> {
  const log = opts.log ?? defaultLog;
  const graceMs = opts.graceMs ?? 30_000;
  const pid = ownedPid(s, stack);
  if (pid === undefined) return;
  const signal = opts.signal ?? 'SIGTERM';
  log(`${signal === 'SIGKILL' ? 'killing' : 'stopping'} ${s} (pid ${pid})`);
  signalServer(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(50);
  if (isAlive(pid)) {
    log(`${s} did not stop within ${graceMs / 1000}s; killing it`);
    signalServer(pid, 'SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < killDeadline) await delay(50);
  }
  fs.rmSync(pidFile(s, stack), { force: true });
}

/** Creates the app's topics, or adds partitions to ones that have too few. Idempotent. */
export async function ensureTopics(brokers: string[], log: Log = defaultLog): Promise<void> {
  const admin = new Kafka({ clientId: 'launcher', brokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.entries(TOPIC_PARTITIONS).filter(([t]) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
      log(`created topics ${missing.map(([t, n]) => `${t}(${n})`).join(', ')}`);
    }
    const present = Object.keys(TOPIC_PARTITIONS).filter((t) => existing.has(t));
    if (present.length) {
      const meta = await admin.fetchTopicMetadata({ topics: present });
      const grow = meta.topics
        .filter((t) => t.partitions.length < TOPIC_PARTITIONS[t.name])
        .map((t) => ({ topic: t.name, count: TOPIC_PARTITIONS[t.name] }));
      if (grow.length) {
        await admin.createPartitions({ topicPartitions: grow });
        log(`grew partitions of ${grow.map((g) => g.topic).join(', ')}`);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Registers the custom search attributes the workflow sets. Idempotent. */
export async function ensureSearchAttributes(address: string, namespace: string, log: Log = defaultLog): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const current = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(current.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
    if (!missing.length) return;
    const types: Record<string, number> = { Keyword: 2, Text: 1, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, types[type]])),
    });
    log(`registered search attributes ${missing.map(([n]) => n).join(', ')}`);
  } finally {
    await connection.close();
  }
}

export interface UpResult {
  /** Servers this call started (and that `stopStarted` will stop). */
  started: Server[];
  kafkaBrokers: string[];
  temporalAddress: string;
}

/**
 * Makes Kafka and Temporal reachable: uses what already answers (or what KAFKA_BROKERS /
 * TEMPORAL_ADDRESS point at), starts the rest, then creates topics and search attributes.
 */
/**
 * Serialises launchers on one data directory (two `up`s at once would start two brokers on one
 * log dir). The lock file holds the owner's pid; a lock whose owner is gone is taken over.
 */
async function withStartLock<T>(stack: StackOptions, log: Log, work: () => Promise<T>): Promise<T> {
  const dir = dataPaths.run(stack.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'launcher.lock');
  const deadline = Date.now() + 10 * 60_000;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another launcher (pid ${owner}) holds ${lock}`);
      if (!told) log(`waiting for another launcher (pid ${owner}) to finish starting servers`);
      told = true;
      await delay(500);
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export async function up(log: Log = defaultLog, isolated?: StackOptions): Promise<UpResult> {
  const stack = isolated ?? stackOptions();
  return withStartLock(stack, log, () => upLocked(log, stack, isolated));
}

async function upLocked(log: Log, stack: StackOptions, isolated?: StackOptions): Promise<UpResult> {
  // An explicitly given stack is isolated: its own addresses, whatever KAFKA_BROKERS/TEMPORAL_ADDRESS say.
  const config = isolated
    ? { kafkaBrokers: kafkaBrokersOf(stack), temporalAddress: temporalAddressOf(stack), temporalNamespace: 'default' }
    : loadConfig();
  const started: Server[] = [];
  const external = isolated
    ? { kafka: false, temporal: false }
    : { kafka: isSet(ENV.kafkaBrokers), temporal: isSet(ENV.temporalAddress) };
  try {
    const [kafkaUp, temporalUp] = await Promise.all([
      kafkaReady(config.kafkaBrokers),
      temporalReady(config.temporalAddress, config.temporalNamespace),
    ]);
    const tasks: Promise<void>[] = [];
    if (kafkaUp) log(`Kafka already answering at ${config.kafkaBrokers.join(',')}`);
    else if (external.kafka) throw new Error(`${ENV.kafkaBrokers}=${config.kafkaBrokers.join(',')} does not answer`);
    else tasks.push(startKafka(stack, log).then(() => void started.push('kafka')));
    if (temporalUp) log(`Temporal already answering at ${config.temporalAddress}`);
    else if (external.temporal) throw new Error(`${ENV.temporalAddress}=${config.temporalAddress} does not answer`);
    else tasks.push(startTemporal(stack, log).then(() => void started.push('temporal')));
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await ensureTopics(config.kafkaBrokers, log);
    if (started.includes('kafka') && stack.ports.kafkaSasl !== undefined) await ensureScramUser(config.kafkaBrokers[0], log);
    await ensureSearchAttributes(config.temporalAddress, config.temporalNamespace, log);
    return { started, kafkaBrokers: config.kafkaBrokers, temporalAddress: config.temporalAddress };
  } catch (err) {
    await stop(started, log, undefined, stack);
    throw err;
  }
}

/** Stops the given servers if the launcher owns them: SIGTERM, then SIGKILL after a grace period. */
export async function stop(servers: Server[], log: Log = defaultLog, graceMs = 30_000, stack: StackOptions = stackOptions()): Promise<void> {
  await Promise.all(servers.map((s) => stopServer(s, stack, { signal: 'SIGTERM', graceMs, log })));
}

export async function status(): Promise<Record<Server, { reachable: boolean; pid?: number; address: string }>> {
  const config = loadConfig();
  const [k, t] = await Promise.all([
    kafkaReady(config.kafkaBrokers),
    temporalReady(config.temporalAddress, config.temporalNamespace),
  ]);
  return {
    kafka: { reachable: k, pid: ownedPid('kafka'), address: config.kafkaBrokers.join(',') },
    temporal: { reachable: t, pid: ownedPid('temporal'), address: config.temporalAddress },
  };
}

async function main(): Promise<void> {
  const [command = 'up', ...flags] = process.argv.slice(2);
  if (command === 'up') {
    const result = await up();
    defaultLog(`Kafka: ${result.kafkaBrokers.join(',')}   Temporal: ${result.temporalAddress}   UI: http://127.0.0.1:${infraPorts().temporalUi}`);
    if (flags.includes('--detach') || result.started.length === 0) {
      if (result.started.length) defaultLog('left running in the background; `npm run infra:down` stops them');
      return;
    }
    defaultLog('running; Ctrl-C stops what this launcher started');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stop(result.started);
  } else if (command === 'down') {
    const owned = SERVERS.filter((s) => ownedPid(s) !== undefined);
    if (!owned.length) defaultLog('nothing to stop: no server started by the launcher is running');
    await stop(owned);
  } else if (command === 'status') {
    const st = await status();
    for (const [name, s] of Object.entries(st)) {
      console.log(`${name.padEnd(9)} ${s.reachable ? 'up  ' : 'down'} ${s.address}${s.pid ? ` (pid ${s.pid}, started by the launcher)` : ''}`);
    }
    if (st.temporal.reachable) console.log(`UI        http://127.0.0.1:${infraPorts().temporalUi}`);
    process.exitCode = st.kafka.reachable && st.temporal.reachable ? 0 : 1;
  } else {
    console.error(`usage: launcher.ts up [--detach] | down | status`);
    process.exitCode = 2;
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
