/**
 * `npm start`: the whole system on this machine, kept running.
 *  1. Kafka and Temporal (provisioned on first use, reused when already running), each independently:
 *     the gateway and the bridge start as soon as Kafka and its topics are there (orders are accepted;
 *     the bridge holds them while Temporal is not up yet, as in an outage), the worker as soon as
 *     Temporal answers. A summary of how long each step took is printed once all three are ready.
 *  2. Gateway, bridge and worker are separate processes; one that dies is started again with backoff
 *     (tools/dev/supervisor.ts), and so is a Kafka or Temporal server this command started (same data).
 *  3. With TRACING=1, a trace viewer beside the servers (Zipkin by default, its jar fetched on first
 *     use; not supervised); the three processes start once it answers and export their spans to it
 *     (docs/TRACING.md). A collector the environment names (an operator's Jaeger, say) is used instead.
 * Ctrl-C (SIGINT) or SIGTERM stops the three processes (each drains, for at most APP_STOP_MS), then the
 * servers this command started (each stops cleanly, for at most SERVER_STOP_MS), one line per step; a
 * second Ctrl-C kills whatever is left at once.
 * The apps log JSON into <data dir>/logs/<app>.log; the console shows each record as one line
 * (LOG_FORMAT=line, the default here; json or pretty on request: tools/dev/app-output.ts).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { isSet, readEnv, type Env } from '../../common/env-variables';
import { useDevKekUnlessSet } from '../infra/dev-kek';
import type { AppName } from '../infra/app-process';
import {
  ownedPid,
  Server,
  SERVERS,
  refuseServerStarts,
  serverExit,
  stackOptions,
  startServer,
  stop,
  stopServer,
  TraceViewer,
  up,
  upTraceViewer,
  UpResult,
} from '../infra/launcher';
import { dataPaths } from '../infra/paths';
import { defaultLog, forgetOnExit, freePort, httpGet, killGroup, killOnExit, sleep, within } from '../infra/proc';
import { startupTimeline } from '../infra/timeline';
import { tracingWanted } from '../../common/tracing';
import { AppOutput, consoleFormatter } from './app-output';
import { Exit, Running, Supervisor, Unit } from './supervisor';

const log = (line: string): void => void process.stderr.write(`[start] ${line}\n`);
const APPS: AppName[] = ['gateway', 'bridge', 'worker', 'history', 'codec-server'];
/**
 * How long an app may drain after SIGTERM before it is killed. Draining is answering the placements
 * in flight (the gateway answers only once Kafka stored an order), finishing the workflow starts in
 * flight and committing them (the bridge), finishing running activities (the worker); each takes about
 * a second at most unless a server is down or an activity is slow, and what is cut short is redone:
 * clients resend unanswered orders, Kafka redelivers uncommitted ones, Temporal retries activities.
 */
const APP_STOP_MS = 6_000;
/**
 * How long Kafka or Temporal may take to stop cleanly after SIGTERM before it is killed (about a
 * second each, measured). A kill loses nothing either stored: Kafka's acknowledged writes are in the
 * OS's page cache, and the dev server's SQLite commits are in its write-ahead log.
 */
const SERVER_STOP_MS = 3_000;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/**
 * An app process: `node --import tsx <app>/main.ts` in its own process group, logging JSON on stdout
 * into `output` (its log file, and the console in the chosen form); stderr goes to this terminal.
 */
function appUnit(app: AppName, env: NodeJS.ProcessEnv, output: AppOutput): Unit {
  return {
    name: app,
    start() {
      const child = spawn(process.execPath, ['--import', 'tsx', `${app}/main.ts`], {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
        // Its own group: the terminal's Ctrl-C reaches this process only, which stops the apps in order,
        // and a stop signals the app's whole group (tsx's helpers included).
        detached: true,
      });
      output.follow(child.stdout as Readable);
      return new Promise<Running>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => {
          const pid = child.pid as number;
          killOnExit(pid);
          const exited = new Promise<Exit>((done) =>
            child.once('exit', (code, signal) => {
              forgetOnExit(pid);
              killGroup(pid, 'SIGKILL'); // stragglers of its group
              done({ code, signal });
            }),
          );
          resolve({ pid, exited });
        });
      });
    },
    async stop({ pid, exited }) {
      const since = Date.now();
      killGroup(pid, 'SIGTERM');
      if ((await within(exited, APP_STOP_MS)) === 'timeout') {
        log(`${app} did not stop within ${APP_STOP_MS / 1000}s; killing it`);
        killGroup(pid, 'SIGKILL');
        await within(exited, 5_000);
      }
      log(`${app} stopped in ${secs(Date.now() - since)}`);
    },
  };
}

/** A Kafka or Temporal server of this stack, started (again) by the launcher on its own data directory. */
function serverUnit(s: Server): Unit {
  const stack = stackOptions();
  return {
    name: s,
    async start() {
      const pid = await startServer(s, stack, defaultLog);
      const exited = serverExit(pid);
      if (!exited) throw new Error(`${s} (pid ${pid}) was not started by this process`);
      return { pid, exited };
    },
    async stop() {
      const since = Date.now();
      await stopServer(s, stack, { signal: 'SIGTERM', graceMs: SERVER_STOP_MS, log: defaultLog });
      log(`${s} stopped in ${secs(Date.now() - since)}`);
    },
  };
}

/** Resolves once `url` answers 200 (and `body` agrees, when given), polling every 250 ms. */
async function untilReady(url: string, stopped: () => boolean, body?: (text: string) => boolean): Promise<boolean> {
  while (!stopped()) {
    const res = await httpGet(url, 1_000);
    if (res && (body ? body(res.body) : res.status === 200)) return true;
    await sleep(250);
  }
  return false;
}

/** True when a bridge's /readyz body (`{"ready":…,"notReady":[…]}`) does not name its consumer. */
function consumerJoined(body: string): boolean {
  try {
    const notReady = (JSON.parse(body) as { notReady?: unknown }).notReady;
    return Array.isArray(notReady) && !notReady.includes('consumer');
  } catch {
    return false;
  }
}

/** Does the environment say where spans go (an operator's collector or Jaeger)? Then no viewer is started. */
function collectorNamed(env: Env): boolean {
  return [env.OTEL_TRACES_EXPORTER, env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_ZIPKIN_ENDPOINT].some(
    (v) => v !== undefined,
  );
}

async function main(): Promise<void> {
  // Payload encryption needs a KEK; a developer's machine gets one of its own in the data directory.
  const devKek = useDevKekUnlessSet(stackOptions().dataDir);
  if (devKek) log(`payload encryption: development key-encryption key ${devKek}`);
  const config = loadConfig();
  const supervisor = new Supervisor(log);
  // The worker's health port is off by default; npm start turns it on (a free port) to see when it is ready.
  const workerHealthPort = config.workerHealthPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Complete records into the log files; the console's form is chosen here (LOG_FORMAT, default line).
    LOG_FORMAT: 'json',
    WORKER_HEALTH_PORT: String(workerHealthPort),
  };
  const logsDir = dataPaths.logs(stackOptions().dataDir);
  const format = consoleFormatter(isSet('LOG_FORMAT') ? readEnv().LOG_FORMAT : 'line');
  const outputs = Object.fromEntries(
    APPS.map((app) => [app, new AppOutput(path.join(logsDir, `${app}.log`), format)]),
  ) as Record<AppName, AppOutput>;
  // Tracing: the viewer comes up beside Kafka and Temporal, and the apps wait for it, so no early
  // span is exported into the void. The page and the CLI link traces to its UI (unless TRACE_UI_URL
  // names another).
  const tracingOn = tracingWanted();
  let viewer: TraceViewer | undefined;
  let tracesLine = tracingOn ? readEnv().TRACE_UI_URL : undefined;
  const viewerUp = tracingOn && !collectorNamed(readEnv()) ? upTraceViewer() : Promise.resolve(undefined);
  // Whether the apps may start: true once the viewer answers (or none is wanted), false if it failed.
  const viewerReady = viewerUp.then(
    (v) => {
      viewer = v;
      if (!v) return true;
      Object.assign(env, v.exporterEnv);
      if (env.TRACE_UI_URL === undefined && v.traceUrlTemplate) env.TRACE_UI_URL = v.traceUrlTemplate;
      tracesLine = v.whereToLook;
      return true;
    },
    (err: unknown) => {
      log(`the trace viewer did not start (${err instanceof Error ? err.message : String(err)}); stopping`);
      return false;
    },
  );
  const stopViewer = (): Promise<void> =>
    viewer?.started ? stop([viewer.server], defaultLog, SERVER_STOP_MS) : Promise.resolve();

  // Servers of this stack that were running before this command (not its to stop, nor to kill).
  const stack = stackOptions();
  const foreign = new Set(
    [...SERVERS, 'zipkin' as const, 'jaeger' as const].filter((s) => ownedPid(s, stack) !== undefined),
  );

  let stopping = false;
  let stopAt = 0;
  let supervised: Promise<void> = Promise.resolve();
  let signalled: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      void forceStop(signal);
      return;
    }
    log(`${signal}: stopping the apps (they drain), then the servers this command started; again to kill them`);
    stopping = true;
    refuseServerStarts(`npm start received ${signal}`);
    stopAt = Date.now();
    // At once, even during start-up: nothing is restarted from here on, and the apps drain while the
    // launcher may still be bringing a server up (stopped once it is up, below).
    supervised = supervisor.stop([APPS, ['kafka', 'temporal', 'history-db']]);
    signalled();
  };
  // A second signal: every process of this command is killed at once, no draining (what was in flight
  // is redone on the next start, as after a crash).
  let forced = false;
  const forceStop = async (signal: NodeJS.Signals): Promise<void> => {
    if (forced) return;
    forced = true;
    log(`${signal} again: killing what is left`);
    // The apps by their groups; the servers this command spawned (their pid files are written at spawn,
    // so one still starting is found too) through the launcher, which also removes their pid files.
    for (const { name, pid } of supervisor.running()) if (APPS.includes(name as AppName)) killGroup(pid, 'SIGKILL');
    await Promise.all(ourServers().map((s) => stopServer(s, stack, { signal: 'SIGKILL', log: defaultLog })));
    log(`killed in ${secs(Date.now() - stopAt)}`);
    process.exit(130);
  };
  /** The servers of this stack this command spawned and that still run (one still starting included). */
  const ourServers = (): Server[] =>
    [...SERVERS, 'zipkin' as const, 'jaeger' as const].filter(
      (s) => !foreign.has(s) && ownedPid(s, stack) !== undefined,
    );
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Each app's readiness on its admin listener (an address bound to every interface is asked on loopback).
  const local = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const ready: Record<AppName, (() => Promise<boolean>) | undefined> = {
    gateway: () =>
      untilReady(`http://${local(config.gatewayHealthHost)}:${config.gatewayHealthPort}/readyz`, () => stopping),
    // The bridge's /readyz also needs Temporal; "in its consumer group" is when it takes orders from Kafka.
    bridge: () =>
      untilReady(
        `http://${local(config.bridgeHost)}:${config.bridgeHealthPort}/readyz`,
        () => stopping,
        (b) => consumerJoined(b),
      ),
    worker: () => untilReady(`http://${local(config.workerHost)}:${workerHealthPort}/readyz`, () => stopping),
    history: undefined,
    'codec-server': () =>
      untilReady(
        `http://${local(config.codecServer.host)}:${config.codecServer.port}/decode`,
        () => stopping,
        () => true,
      ),
  };
  const label: Record<AppName, string> = {
    gateway: 'gateway accepting orders',
    bridge: 'bridge in its consumer group',
    worker: 'worker polling',
    history: 'order history reading',
    'codec-server': 'codec server answering',
  };
  const launched: Promise<void>[] = [];
  const launch = (app: AppName): void => {
    if (stopping) return;
    const startedAt = Date.now();
    launched.push(
      viewerReady.then(async (ok) => {
        if (!ok || stopping) return;
        await supervisor.add(appUnit(app, env, outputs[app]));
        if (await ready[app]?.()) startupTimeline.record(label[app], startedAt);
      }),
    );
  };

  // The history reader needs Kafka and its database: it starts once both are there.
  let historyNeeds = 2;
  const historyNeed = (): void => {
    if (--historyNeeds === 0) launch('history');
  };
  // The codec server needs no server of the stack: it starts at once.
  launch('codec-server');
  const upping = up(defaultLog, undefined, {
    kafkaReady: () => {
      (['gateway', 'bridge'] as const).forEach(launch);
      historyNeed();
    },
    temporalReady: () => launch('worker'),
    historyDbReady: (databaseUrl) => {
      env.DATABASE_URL = databaseUrl;
      historyNeed();
    },
  });
  const settled = (): 'up' => 'up';
  if ((await Promise.race([upping.then(settled, settled), interrupted])) !== 'up') {
    // Ctrl-C during start-up: the servers being started are stopped now, not once they answer (which
    // can take a minute). up() then fails under them, or retries against them: this process exits.
    await supervised;
    await stop(ourServers(), defaultLog, SERVER_STOP_MS, stack);
    await Promise.all(APPS.map((app) => outputs[app].close()));
    if (!forced) log(`stopped during start-up in ${secs(Date.now() - stopAt)}`);
    process.exit(0);
  }
  let upped: UpResult;
  try {
    const [servers, traces] = await Promise.allSettled([upping, viewerUp]);
    if (servers.status === 'rejected') throw servers.reason;
    upped = servers.value;
    if (traces.status === 'rejected') {
      await stop(upped.started, defaultLog, SERVER_STOP_MS);
      throw traces.reason;
    }
  } catch (err) {
    stopping = true;
    await supervisor.stop([APPS]);
    await stopViewer();
    throw err;
  }
  // The servers this command started are supervised from here on (one that died meanwhile is started again).
  for (const s of stopping ? [] : upped.started) {
    const pid = ownedPid(s);
    const exited = pid === undefined ? undefined : serverExit(pid);
    launched.push(supervisor.add(serverUnit(s), pid !== undefined && exited ? { pid, exited } : undefined));
  }

  await Promise.race([Promise.all(launched), interrupted]);
  if (!stopping) {
    process.stderr.write(`\n${startupTimeline.format('Start-up (seconds since npm start):')}\n`);
    process.stderr.write(`\n  WebSocket:   ws://${config.gatewayHost}:${config.gatewayPort}\n`);
    process.stderr.write(
      `  Temporal UI: ${config.temporalUiUrl} (decoding through http://${local(config.codecServer.host)}:${config.codecServer.port})\n` +
        `${tracesLine ? `  Traces:      ${tracesLine}\n` : ''}` +
        `  JSON logs:   ${path.join(logsDir, '{gateway,bridge,worker,history,codec-server}.log')} (servers: kafka.log, temporal.log, history-db.log)\n\n`,
    );
  }
  await interrupted;
  await supervised;
  // Servers started but never supervised (a stop during start-up); a no-op for those already stopped.
  await stop(upped.started, defaultLog, SERVER_STOP_MS);
  await stopViewer();
  await Promise.all(APPS.map((app) => outputs[app].close()));
  // After a forced stop, its own line says when everything was gone.
  if (!forced) log(`stopped in ${secs(Date.now() - stopAt)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
