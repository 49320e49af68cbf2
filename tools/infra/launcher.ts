/**
 * Starts (or finds) the servers the app needs, on loopback:
 *  - single-node KRaft Kafka on 127.0.0.1:9092,
 *  - the Temporal dev server on 127.0.0.1:7233 with its web UI on http://127.0.0.1:8233,
 *    persisting to a SQLite file so runs survive a restart; or, with ORDERS_TEMPORAL_ENGINE=postgres,
 *    the Temporal server on a private PostgreSQL cluster (./temporal-sql-server; no web UI).
 * Data, server logs and pid files live under one data directory (tools/infra/paths.ts).
 *
 *   npm run infra:up [-- --detach]   start what is not running; Ctrl-C stops what this run started
 *   npm run infra:down               stop the servers the launcher started (from their pid files)
 *   npm run infra:status             what is reachable, and which pids the launcher owns
 *
 * A second, isolated stack can run next to the default one: ORDERS_KAFKA_PORT,
 * ORDERS_KAFKA_CONTROLLER_PORT, ORDERS_TEMPORAL_PORT, ORDERS_TEMPORAL_UI_PORT and ORDERS_DATA_DIR
 * move it (programmatically: pass a StackOptions). startServer/stopServer start and stop (or
 * SIGKILL) one server of a stack on its own data, which is what the chaos harness uses.
 *
 * This is the launcher's public module (and its command line). The parts: ./stack (a stack's ports
 * and paths), ./server-process (pid files, start/stop of one server process), ./kafka-server,
 * ./temporal-server, ./zipkin-server and ./jaeger-server (the trace viewers, with TRACING=1), ./app-resources (topics,
 * search attributes), ./start-lock.
 */
import type { KafkaConfig } from 'kafkajs';
import { ENV, isSet, readEnv } from '../../common/env-variables';
import { infraPorts } from './ports';
import { loadConfig, traceUrlTemplateOf } from '../../common/config';
import { kafkaReady, temporalReady } from '../../common/health';
import { DEFAULT_NAMESPACE } from '../../common/names';
import { ensureSearchAttributes, ensureTopics } from './app-resources';
import { ensureKafkaAcls } from './kafka-acls';
import { ensureScramUsers } from './kafka-sasl';
import { startKafka } from './kafka-server';
import { jaegerHasUi, jaegerOtlpUrlOf, jaegerReady, jaegerUiUrlOf, startJaeger } from './jaeger-server';
import { defaultLog, Log } from './proc';
import { ownedPid, Server, SERVERS, stopServer, type TraceViewerServer } from './server-process';
import { kafkaBrokersOf, stackOptions, StackOptions, temporalAddressOf } from './stack-options';
import { withStartLock } from './start-lock';
import { startupTimeline } from './timeline';
import { startTemporal } from './temporal-server';
import { startPostgres, startTemporalSql } from './temporal-sql-server';
import { historyDbUrlOf, startHistoryDb } from './history-db-server';
import { databaseAnswers } from '../../history/store';
import { startZipkin, zipkinReady, zipkinSpansUrlOf, zipkinTraceUrlTemplate, zipkinUrlOf } from './zipkin-server';

export { ensureSearchAttributes, ensureTopics, searchAttributeTypeCodes } from './app-resources';
export { ownedPid, refuseServerStarts, serverExit, serverLogFile, SERVERS, stopServer } from './server-process';
export type { Server, ServerExit, StopServerOptions, TraceViewerServer } from './server-process';
export { kafkaBrokersOf, stackOptions, temporalAddressOf } from './stack-options';
export type { StackOptions } from './stack-options';

/**
 * Starts one server of a stack on that stack's data (formatting Kafka's storage on first use) and
 * waits until it answers. A server of this stack that is still running is reused.
 */
export async function startServer(
  s: Server,
  stack: StackOptions = stackOptions(),
  log: Log = defaultLog,
): Promise<number> {
  const running = ownedPid(s, stack);
  if (running !== undefined) return running;
  if (s === 'kafka') return startKafka(stack, log);
  if (s === 'postgres') return startPostgres(stack, log);
  if (s === 'history-db') return startHistoryDb(stack, log);
  if (s === 'zipkin') return startZipkin(stack, log);
  if (s === 'jaeger') return startJaeger(stack, log);
  return startTemporalOf(stack, log);
}

/** The stack's Temporal engine; on PostgreSQL that starts the database first. */
function startTemporalOf(stack: StackOptions, log: Log): Promise<number> {
  return stack.temporalEngine === 'postgres' ? startTemporalSql(stack, log) : startTemporal(stack, log);
}

/** A trace viewer made reachable for `TRACING=1 npm start`, and how the apps use it. */
export interface TraceViewer {
  server: TraceViewerServer;
  /** Whether this call started it (then the caller stops it). */
  started: boolean;
  /** Where a person looks at traces (printed by npm start). */
  whereToLook: string;
  /** The link to one trace (TRACE_UI_URL form), when the viewer serves a UI. */
  traceUrlTemplate?: string;
  /** The apps' exporter settings for it: OTEL_TRACES_EXPORTER and that exporter's endpoint. */
  exporterEnv: Record<string, string>;
}

/** Uses the server when `ready` answers, else starts it; true when this call started it. */
async function reuseOrStart(
  s: TraceViewerServer,
  url: string,
  ready: () => Promise<boolean>,
  stack: StackOptions,
  log: Log,
): Promise<boolean> {
  if (await ready()) {
    log(`${s} already answering at ${url}`);
    return false;
  }
  await startServer(s, stack, log);
  return true;
}

/**
 * Makes the trace viewer ORDERS_TRACE_VIEWER names reachable: Zipkin (the default; its jar is fetched
 * from Maven Central on first use) or Jaeger (built from the Go module proxy on first use). One
 * already answering on the stack's port is used, else it is started.
 */
export async function upTraceViewer(
  log: Log = defaultLog,
  stack: StackOptions = stackOptions(),
  viewer: TraceViewerServer = readEnv().ORDERS_TRACE_VIEWER ?? 'zipkin',
): Promise<TraceViewer> {
  if (viewer === 'jaeger') return upJaeger(log, stack);
  const url = zipkinUrlOf(stack);
  return {
    server: 'zipkin',
    started: await reuseOrStart('zipkin', url, () => zipkinReady(url), stack, log),
    whereToLook: `${url}/zipkin/`,
    traceUrlTemplate: zipkinTraceUrlTemplate(url),
    exporterEnv: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkinSpansUrlOf(stack) },
  };
}

/**
 * Jaeger: OTLP in, and a UI only when it has one (a build from the Go module has none, so then the
 * place to look is its query API, /api/traces/<trace id>).
 */
async function upJaeger(log: Log, stack: StackOptions): Promise<TraceViewer> {
  const uiUrl = jaegerUiUrlOf(stack);
  const started = await reuseOrStart('jaeger', uiUrl, () => jaegerReady(uiUrl), stack, log);
  const ui = await jaegerHasUi(uiUrl);
  return {
    server: 'jaeger',
    started,
    whereToLook: ui ? uiUrl : `${uiUrl}/api/traces/<trace id> (query API; no UI: ORDERS_JAEGER_UI_ASSETS)`,
    traceUrlTemplate: ui ? traceUrlTemplateOf(uiUrl) : undefined,
    exporterEnv: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: jaegerOtlpUrlOf(stack) },
  };
}

export interface UpResult {
  /** Servers this call started (and that `stop` will stop). */
  started: Server[];
  kafkaBrokers: string[];
  temporalAddress: string;
}

/** Called as each server becomes usable, before the other may be: `npm start` starts what needs only that one. */
export interface UpHooks {
  /** Kafka answers and the app's topics exist. */
  kafkaReady?: () => void;
  /** Temporal answers and the app's search attributes are registered. */
  temporalReady?: () => void;
  /**
   * Also make the order history's database reachable (npm start): DATABASE_URL when set (it must
   * answer), else the launcher's PostgreSQL, started here; called with the URL the apps use.
   */
  historyDbReady?: (databaseUrl: string) => void;
}

/**
 * Makes Kafka and Temporal reachable: uses what already answers (or what KAFKA_BROKERS /
 * TEMPORAL_ADDRESS point at), starts the rest, then creates topics and search attributes. The two
 * servers come up independently (a Temporal CLI build does not hold Kafka back); `hooks` hear each.
 */
export async function up(log: Log = defaultLog, isolated?: StackOptions, hooks: UpHooks = {}): Promise<UpResult> {
  const stack = isolated ?? stackOptions();
  return withStartLock(stack, log, () => upLocked(log, stack, isolated, hooks));
}

async function upLocked(
  log: Log,
  stack: StackOptions,
  isolated: StackOptions | undefined,
  hooks: UpHooks,
): Promise<UpResult> {
  // An explicitly given stack is isolated: its own addresses, whatever KAFKA_BROKERS/TEMPORAL_ADDRESS say.
  const config = isolated
    ? {
        kafkaBrokers: kafkaBrokersOf(stack),
        temporalAddress: temporalAddressOf(stack),
        temporalNamespace: DEFAULT_NAMESPACE,
        kafkaSecurity: {},
      }
    : loadConfig();
  const started: Server[] = [];
  const external = isolated
    ? { kafka: false, temporal: false }
    : { kafka: isSet(ENV.kafkaBrokers), temporal: isSet(ENV.temporalAddress) };
  // KAFKA_SSL* / KAFKA_SASL_* are for a cluster named by KAFKA_BROKERS (with ACLs, a user with the
  // operator's rights, orders-admin in tools/infra/kafka-acls.ts); its own broker is reached plaintext.
  const kafkaSecurity: Pick<KafkaConfig, 'ssl' | 'sasl'> = external.kafka ? config.kafkaSecurity : {};
  try {
    const [kafkaUp, temporalUp] = await Promise.all([
      kafkaReady(config.kafkaBrokers, kafkaSecurity),
      temporalReady(config.temporalAddress, config.temporalNamespace),
    ]);
    const kafka = async (): Promise<void> => {
      if (kafkaUp) log(`Kafka already answering at ${config.kafkaBrokers.join(',')}`);
      else if (external.kafka) {
        const refused = kafkaSecurity.sasl ? ' (or refuses the KAFKA_SASL_* credentials)' : '';
        throw new Error(`${ENV.kafkaBrokers}=${config.kafkaBrokers.join(',')} does not answer${refused}`);
      } else {
        await startKafka(stack, log);
        started.push('kafka');
      }
      await startupTimeline.time('Kafka topics', () => ensureTopics(config.kafkaBrokers, log, kafkaSecurity));
      // Only SASL clients need what follows; the apps' plaintext clients go ahead.
      hooks.kafkaReady?.();
      const saslPort = stack.ports.kafkaSasl;
      if (started.includes('kafka') && saslPort !== undefined)
        await startupTimeline.time('Kafka SASL users and ACLs', async () => {
          await ensureScramUsers(config.kafkaBrokers[0], `127.0.0.1:${saslPort}`, log);
          await ensureKafkaAcls(config.kafkaBrokers, log);
        });
    };
    const temporal = async (): Promise<void> => {
      if (temporalUp) log(`Temporal already answering at ${config.temporalAddress}`);
      else if (external.temporal) throw new Error(`${ENV.temporalAddress}=${config.temporalAddress} does not answer`);
      else {
        await startTemporalOf(stack, log);
        started.push('temporal');
        if (stack.temporalEngine === 'postgres') started.push('postgres');
      }
      await startupTimeline.time('Temporal search attributes', () =>
        ensureSearchAttributes(config.temporalAddress, config.temporalNamespace, log),
      );
      hooks.temporalReady?.();
    };
    const historyDb = async (): Promise<void> => {
      if (!hooks.historyDbReady) return;
      const url = isolated ? undefined : readEnv().DATABASE_URL;
      if (url) {
        if (!(await databaseAnswers(url))) throw new Error('DATABASE_URL does not answer (the order history needs it)');
      } else {
        const wasRunning = ownedPid('history-db', stack) !== undefined;
        await startupTimeline.time('history database', () => startHistoryDb(stack, log));
        if (!wasRunning) started.push('history-db');
      }
      hooks.historyDbReady(url ?? historyDbUrlOf(stack));
    };
    const results = await Promise.allSettled([kafka(), temporal(), historyDb()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { started, kafkaBrokers: config.kafkaBrokers, temporalAddress: config.temporalAddress };
  } catch (err) {
    await stop(started, log, undefined, stack);
    throw err;
  }
}

/** Stops the given servers if the launcher owns them: SIGTERM, then SIGKILL after a grace period. */
export async function stop(
  servers: Server[],
  log: Log = defaultLog,
  graceMs = 30_000,
  stack: StackOptions = stackOptions(),
): Promise<void> {
  // The Temporal server's PostgreSQL goes last: the server stops cleanly only while it can still write.
  const opts = { signal: 'SIGTERM' as const, graceMs, log };
  await Promise.all(servers.filter((s) => s !== 'postgres').map((s) => stopServer(s, stack, opts)));
  if (servers.includes('postgres')) await stopServer('postgres', stack, opts);
}

export async function status(): Promise<
  Record<'kafka' | 'temporal', { reachable: boolean; pid?: number; address: string }>
> {
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
    defaultLog(
      `Kafka: ${result.kafkaBrokers.join(',')}   Temporal: ${result.temporalAddress}   UI: http://127.0.0.1:${infraPorts().temporalUi}`,
    );
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
    const owned = [...SERVERS, 'zipkin' as const, 'jaeger' as const].filter((s) => ownedPid(s) !== undefined);
    if (!owned.length) defaultLog('nothing to stop: no server started by the launcher is running');
    await stop(owned);
  } else if (command === 'status') {
    const st = await status();
    for (const [name, s] of Object.entries(st)) {
      console.log(
        `${name.padEnd(9)} ${s.reachable ? 'up  ' : 'down'} ${s.address}${s.pid ? ` (pid ${s.pid}, started by the launcher)` : ''}`,
      );
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
