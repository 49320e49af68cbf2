/**
 * `npm start`: the whole system on this machine, kept running.
 *  1. Kafka and Temporal (provisioned on first use, reused when already running), each independently:
 *     the gateway and the bridge start as soon as Kafka and its topics are there (orders are accepted;
 *     the bridge holds them while Temporal is not up yet, as in an outage), the worker as soon as
 *     Temporal answers. A summary of how long each step took is printed once all three are ready.
 *  2. Gateway, bridge and worker are separate processes; one that dies is started again with backoff
 *     (tools/dev/supervisor.ts), and so is a Kafka or Temporal server this command started (same data).
 *  3. With TRACING=1, Jaeger first (built on first use; not supervised), and the three processes export
 *     their spans to it (docs/TRACING.md).
 * Ctrl-C (SIGINT) or SIGTERM stops the three processes (each drains), then the servers this command started.
 */
import { spawn } from 'node:child_process';
import { loadConfig, PROJECT_ROOT } from '../../common/config';
import { isSet, readEnv } from '../../common/env-variables';
import type { AppName } from '../infra/app-process';
import {
  ownedPid,
  Server,
  serverExit,
  stackOptions,
  startServer,
  stop,
  stopServer,
  up,
  UpResult,
} from '../infra/launcher';
import { defaultLog, forgetOnExit, freePort, httpGet, killGroup, killOnExit, sleep } from '../infra/proc';
import { startupTimeline } from '../infra/timeline';
import { upJaeger } from '../infra/launcher';
import { tracingWanted } from '../../common/tracing';
import { Exit, Running, Supervisor, Unit } from './supervisor';

const log = (line: string): void => void process.stderr.write(`[start] ${line}\n`);
const APPS: AppName[] = ['gateway', 'bridge', 'worker'];
const DRAIN_MS = 30_000;

/** An app process: `node --import tsx <app>/main.ts` in its own process group, output to this terminal. */
function appUnit(app: AppName, env: NodeJS.ProcessEnv): Unit {
  return {
    name: app,
    start() {
      const child = spawn(process.execPath, ['--import', 'tsx', `${app}/main.ts`], {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
        // Its own group: the terminal's Ctrl-C reaches this process only, which stops the apps in order,
        // and a stop signals the app's whole group (tsx's helpers included).
        detached: true,
      });
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
      killGroup(pid, 'SIGTERM');
      const drained = await Promise.race([exited.then(() => true), sleep(DRAIN_MS).then(() => false)]);
      if (!drained) {
        log(`${app} did not drain within ${DRAIN_MS / 1000}s; killing it`);
        killGroup(pid, 'SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
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
    stop: () => stopServer(s, stack, { signal: 'SIGTERM', graceMs: DRAIN_MS, log: defaultLog }),
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

async function main(): Promise<void> {
  const config = loadConfig();
  const supervisor = new Supervisor(log);
  // The worker's health port is off by default; npm start turns it on (a free port) to see when it is ready.
  const workerHealthPort = config.workerHealthPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Readable logs at the terminal (pino-pretty) unless LOG_FORMAT says otherwise.
    LOG_FORMAT: isSet('LOG_FORMAT') ? readEnv().LOG_FORMAT : 'pretty',
    WORKER_HEALTH_PORT: String(workerHealthPort),
  };
  // Tracing: the viewer comes up before the apps, so no early span is exported into the void.
  const jaeger = tracingWanted() ? await upJaeger() : undefined;
  // The page and the CLI link traces to a UI; a Jaeger without one (built from the Go module) only
  // answers its query API, so then they show trace ids and the summary names the API.
  const traces = jaeger ? (config.traceUiUrl ?? (jaeger.ui ? jaeger.uiUrl : undefined)) : undefined;
  if (jaeger) {
    // The processes export to this Jaeger, unless the environment names another collector.
    env.OTEL_EXPORTER_OTLP_ENDPOINT = readEnv().OTEL_EXPORTER_OTLP_ENDPOINT ?? jaeger.otlpUrl;
    if (traces) env.TRACE_UI_URL = traces;
    else log(`Jaeger at ${jaeger.uiUrl} has no UI (ORDERS_JAEGER_UI_ASSETS, docs/TRACING.md); its query API answers`);
  }
  const tracesLine = traces ?? (jaeger ? `${jaeger.uiUrl}/api/traces/<trace id> (query API; no UI)` : undefined);
  const stopJaeger = (): Promise<void> => (jaeger?.started ? stop(['jaeger']) : Promise.resolve());

  let stopping = false;
  let signalled: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) log(`${signal}: stopping the apps (they drain), then the servers this command started`);
    stopping = true;
    signalled();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const local = config.gatewayHost === '0.0.0.0' ? '127.0.0.1' : config.gatewayHost;
  const ready: Record<AppName, (() => Promise<boolean>) | undefined> = {
    gateway: () => untilReady(`http://${local}:${config.gatewayPort}/readyz`, () => stopping),
    // The bridge's /readyz also needs Temporal; "in its consumer group" is when it takes orders from Kafka.
    bridge: () =>
      untilReady(
        `http://127.0.0.1:${config.bridgeHealthPort}/readyz`,
        () => stopping,
        (b) => b.includes('"consumer":"ok"'),
      ),
    worker: () => untilReady(`http://127.0.0.1:${workerHealthPort}/readyz`, () => stopping),
  };
  const label: Record<AppName, string> = {
    gateway: 'gateway accepting orders',
    bridge: 'bridge in its consumer group',
    worker: 'worker polling',
  };
  const launched: Promise<void>[] = [];
  const launch = (app: AppName): void => {
    if (stopping) return;
    const startedAt = Date.now();
    launched.push(
      supervisor.add(appUnit(app, env)).then(async () => {
        if (await ready[app]?.()) startupTimeline.record(label[app], startedAt);
      }),
    );
  };

  let infra: UpResult;
  try {
    infra = await up(defaultLog, undefined, {
      kafkaReady: () => APPS.filter((a) => a !== 'worker').forEach(launch),
      temporalReady: () => launch('worker'),
    });
  } catch (err) {
    stopping = true;
    await supervisor.stop([APPS]);
    await stopJaeger();
    throw err;
  }
  // The servers this command started are supervised from here on (one that died meanwhile is started again).
  for (const s of stopping ? [] : infra.started) {
    const pid = ownedPid(s);
    const exited = pid === undefined ? undefined : serverExit(pid);
    launched.push(supervisor.add(serverUnit(s), pid !== undefined && exited ? { pid, exited } : undefined));
  }

  await Promise.race([Promise.all(launched), interrupted]);
  if (!stopping) {
    process.stderr.write(`\n${startupTimeline.format('Start-up (seconds since npm start):')}\n`);
    process.stderr.write(`\n  WebSocket:   ws://${config.gatewayHost}:${config.gatewayPort}\n`);
    process.stderr.write(
      `  Temporal UI: ${config.temporalUiUrl}\n${tracesLine ? `  Traces:      ${tracesLine}\n` : ''}\n`,
    );
  }
  await interrupted;
  await supervisor.stop([APPS, ['kafka', 'temporal']]);
  // Servers started but never supervised (a stop during start-up); a no-op for those already stopped.
  await stop(infra.started);
  await stopJaeger();
  log('stopped');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
