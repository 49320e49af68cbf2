/**
 * Process control shared by the launcher's servers: each server runs as its own process-group
 * leader with output to a log file and its pid in a pid file; "owned" means that pid is alive and
 * its command line is that server's on that stack's data (so a reused pid is never signalled).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataPaths } from './paths';
import { commandLineOf, defaultLog, isAlive, killGroup, Log, sleep, tailFile } from './proc';
import { stackOptions, StackOptions } from './stack-options';

export type Server = 'kafka' | 'temporal' | 'postgres' | 'history-db' | TraceViewerServer;
/** The trace viewers the launcher can run (ORDERS_TRACE_VIEWER): Zipkin by default, or Jaeger. */
export type TraceViewerServer = 'zipkin' | 'jaeger';
/**
 * The servers a stack runs, in stop order: `history-db` (the order history's PostgreSQL) only under
 * `npm start` without DATABASE_URL, `postgres` only under the PostgreSQL engine
 * (tools/infra/temporal-sql-server.ts). A trace viewer runs only with tracing (TRACING=1 npm start)
 * and is handled on its own.
 */
export const SERVERS: readonly Server[] = ['kafka', 'temporal', 'history-db', 'postgres'];

/**
 * A marker of each server's command line, so `down` never signals an unrelated process that reused
 * a pid; the data dir must appear too, so one stack never signals another stack's server.
 */
const CMDLINE_MARK: Record<Server, string[]> = {
  kafka: ['kafka.Kafka'],
  temporal: ['start-dev', 'temporal-server'],
  postgres: ['bin/postgres'],
  'history-db': ['history-db'],
  zipkin: ['zipkin-server-'],
  jaeger: ['jaeger.yaml'],
};

const pidFile = (s: Server, stack: StackOptions): string => path.join(dataPaths.run(stack.dataDir), `${s}.pid`);
export const serverLogFile = (s: Server, stack: StackOptions = stackOptions()): string =>
  path.join(dataPaths.logs(stack.dataDir), `${s}.log`);

export function ownedPid(s: Server, stack: StackOptions = stackOptions()): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(s, stack), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    const cmdline = commandLineOf(pid);
    if (CMDLINE_MARK[s].some((m) => cmdline.includes(m)) && cmdline.includes(stack.dataDir + path.sep)) return pid;
  } catch {
    // no pid file
  }
  return undefined;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Exits of the servers this process spawned, by pid (a server found running from an earlier run has none). */
const exits = new Map<number, Promise<ServerExit>>();

/** Resolves when a server this process spawned exits; undefined for a pid it did not spawn. */
export function serverExit(pid: number): Promise<ServerExit> | undefined {
  return exits.get(pid);
}

/** Why this process starts no more servers, once it was told to (refuseServerStarts). */
let refusal: string | undefined;

/**
 * From now on spawnServer throws instead of starting a server. `npm start` calls it when it is
 * stopped during start-up: a server whose turn came after that (the order history's PostgreSQL once
 * its initdb finished, say) would otherwise be started after the stop had looked for servers to
 * stop, and outlive the command in its own process group.
 */
export function refuseServerStarts(reason: string): void {
  refusal = reason;
}

/** Spawns a server in its own process group with output to its log file, and records its pid. */
export function spawnServer(s: Server, stack: StackOptions, command: string, args: string[]): number {
  if (refusal !== undefined) throw new Error(`${s} not started: ${refusal}`);
  fs.mkdirSync(dataPaths.logs(stack.dataDir), { recursive: true });
  fs.mkdirSync(dataPaths.run(stack.dataDir), { recursive: true });
  const out = fs.openSync(serverLogFile(s, stack), 'a');
  fs.writeSync(out, `\n=== ${new Date().toISOString()} starting ${s}: ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${s} (${command})`);
  const pid = child.pid;
  exits.set(
    pid,
    new Promise<ServerExit>((resolve) =>
      child.once('exit', (code, signal) => {
        exits.delete(pid);
        resolve({ code, signal });
      }),
    ),
  );
  child.unref();
  fs.writeFileSync(pidFile(s, stack), `${child.pid}\n`);
  return child.pid;
}

/**
 * Waits until `check` answers true, failing early (with the log's tail) when the server exits. On
 * failure the pid file is removed, and a server still starting after `timeoutMs` is killed.
 */
export async function waitReady(
  s: Server,
  stack: StackOptions,
  pid: number,
  check: () => Promise<boolean>,
  timeoutMs: number,
  log: Log,
): Promise<void> {
  const logFile = serverLogFile(s, stack);
  const started = Date.now();
  let lastNote = started;
  while (Date.now() - started < timeoutMs) {
    if (await check()) {
      log(`${s} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (pid ${pid}, log ${logFile})`);
      return;
    }
    if (!isAlive(pid)) {
      fs.rmSync(pidFile(s, stack), { force: true });
      throw new Error(`${s} exited during start-up; last lines of ${logFile}:\n${tailFile(logFile, 25)}`);
    }
    if (Date.now() - lastNote > 10_000) {
      log(`waiting for ${s} (${Math.round((Date.now() - started) / 1000)}s)`);
      lastNote = Date.now();
    }
    await sleep(250);
  }
  // A server that never became ready is not left holding its ports, nor recorded as running.
  killGroup(pid, 'SIGKILL');
  fs.rmSync(pidFile(s, stack), { force: true });
  throw new Error(
    `${s} did not become ready within ${timeoutMs / 1000}s (killed); last lines of ${logFile}:\n${tailFile(logFile, 25)}`,
  );
}

export interface StopServerOptions {
  /** SIGTERM (default): graceful, then SIGKILL after graceMs. SIGKILL: a crash, right away. */
  signal?: 'SIGTERM' | 'SIGKILL';
  graceMs?: number;
  log?: Log;
}

/** Stops one server of a stack if the launcher owns it; resolves once the process is gone. */
export async function stopServer(
  s: Server,
  stack: StackOptions = stackOptions(),
  opts: StopServerOptions = {},
): Promise<void> {
  const log = opts.log ?? defaultLog;
  const graceMs = opts.graceMs ?? 30_000;
  const pid = ownedPid(s, stack);
  if (pid === undefined) return;
  const signal = opts.signal ?? 'SIGTERM';
  log(`${signal === 'SIGKILL' ? 'killing' : 'stopping'} ${s} (pid ${pid})`);
  // PostgreSQL's SIGTERM waits for every client to disconnect; SIGINT is its fast, clean shutdown.
  const postgres = s === 'postgres' || s === 'history-db';
  killGroup(pid, postgres && signal === 'SIGTERM' ? 'SIGINT' : signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    log(`${s} did not stop within ${graceMs / 1000}s; killing it`);
    killGroup(pid, 'SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
  fs.rmSync(pidFile(s, stack), { force: true });
}
