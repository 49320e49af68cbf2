/**
 * The project's process and network toolkit: finding and running tools, signalling process groups,
 * log tails, sleeping, loopback ports and HTTP probes. Used by infra, chaos and scripts (and meant for
 * bench and the tests). Starting an app process (gateway, bridge, worker) is in ./app-process.
 */
import { spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export type Log = (line: string) => void;
export const defaultLog: Log = (line) => process.stderr.write(`[infra] ${line}\n`);

/** Looks a command up on PATH the way a shell would. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Thrown when a tool needed for provisioning is missing; the message is one line with the ways out. */
export class MissingToolError extends Error {}

export function requireTool(command: string, neededFor: string, waysOut: string): string {
  const found = findOnPath(command);
  if (!found) {
    throw new MissingToolError(`"${command}" not found on PATH: it is needed ${neededFor}. ${waysOut}`);
  }
  return found;
}

export interface RunOptions {
  label: string;
  log: Log;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the command's full output goes (kept for diagnosis). */
  outputFile: string;
  /** How often to print a progress line while the command runs. */
  progressEveryMs?: number;
  /** Counts output lines matching this as "items" in the progress line (e.g. Go module downloads). */
  countPattern?: RegExp;
}

/**
 * Runs a provisioning command to completion, printing a progress line every few seconds
 * (elapsed time, items counted, the last line of output) and the output tail on failure.
 */
export function runWithProgress(command: string, args: string[], opts: RunOptions): Promise<void> {
  fs.mkdirSync(path.dirname(opts.outputFile), { recursive: true });
  const out = fs.createWriteStream(opts.outputFile);
  const started = Date.now();
  let lastLine = '';
  let lastOutputAt = Date.now();
  let count = 0;
  const tail: string[] = [];
  const spawnOpts: SpawnOptions = { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, spawnOpts);
    const onData = (chunk: Buffer): void => {
      out.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        const trimmed = line.trim();
        if (!trimmed) continue;
        lastLine = trimmed;
        lastOutputAt = Date.now();
        if (opts.countPattern?.test(trimmed)) count += 1;
        tail.push(trimmed);
        if (tail.length > 30) tail.shift();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const timer = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      const items = opts.countPattern ? `, ${count} fetched` : '';
      const quiet = Math.round((Date.now() - lastOutputAt) / 1000);
      // Long silences are compile/link phases; say so rather than repeating a stale line.
      const note =
        quiet >= 10 ? ` — working (no output for ${quiet}s)` : lastLine ? ` — ${lastLine.slice(0, 120)}` : '';
      opts.log(`${opts.label}: ${secs}s elapsed${items}${note}`);
    }, opts.progressEveryMs ?? 10_000);
    child.on('error', (err) => {
      clearInterval(timer);
      out.end();
      reject(new Error(`${opts.label}: could not run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      out.end();
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        opts.log(`${opts.label}: done in ${secs}s`);
        resolve();
      } else {
        reject(
          new Error(
            `${opts.label} failed (${signal ?? `exit ${code}`}) after ${secs}s; full output in ${opts.outputFile}\n` +
              tail.join('\n'),
          ),
        );
      }
    });
  });
}

/**
 * Runs a short command to completion; on failure the error carries `what` and the whole output.
 * The command is killed if this process exits first (a Ctrl-C during Kafka's storage format, say).
 */
export function runToCompletion(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) killOnExit(pid);
    let output = '';
    const collect = (d: Buffer): void => void (output += d.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pid !== undefined) forgetOnExit(pid);
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (exit ${code}):\n${output}`));
    });
  });
}

/**
 * Runs a command in a process group of its own and resolves with its stdout; rejects with its
 * stderr on a non-zero exit. If this process exits first (Ctrl-C during start-up), the whole group
 * is killed with it, so no half-done unpacking or initdb outlives the command that started it.
 */
export function runOwned(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid !== undefined) killOnExit(pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (pid !== undefined) forgetOnExit(pid);
      if (code === 0) resolve(stdout);
      else reject(Object.assign(new Error(`${command} failed (exit ${code}): ${stderr.trim()}`), { stderr }));
    });
  });
}

/**
 * A free port in 30000-32767: below Linux's ephemeral range (32768-60999), so no outgoing connection
 * takes it between this check and the server's bind (a server that starts slowly, like Kafka, may
 * bind tens of seconds later), and small enough for the Temporal server's smallint port columns.
 */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = 30_000 + Math.floor(Math.random() * 2_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
  throw new Error('no free port between 30000 and 32767');
}

/** True when a process with this pid exists (and we may signal it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process, or '' when it is gone (Linux /proc). */
export function commandLineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `promise`'s value, or 'timeout' when it has not settled within `ms`. The timer is cleared as soon as
 * the promise settles, so a bound that was not needed does not keep the process alive until it ends.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Signals a whole process group (a process started with `detached: true` leads its own group, so
 * its children, e.g. tsx's esbuild service or a JVM's helpers, go with it); falls back to the
 * process alone when there is no such group.
 */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
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

/** Process groups SIGKILLed, and clean-ups run, if this process exits without stopping them itself. */
const groupsToKillOnExit = new Set<number>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of groupsToKillOnExit) killGroup(pid, 'SIGKILL');
    for (const cleanup of exitCleanups) cleanup();
  });
}

/** Kill this process group (SIGKILL) when this process exits, unless `forgetOnExit` is called first. */
export function killOnExit(pid: number): void {
  groupsToKillOnExit.add(pid);
  installExitHook();
}

export function forgetOnExit(pid: number): void {
  groupsToKillOnExit.delete(pid);
}

/** Runs `cleanup` (synchronously) when this process exits; returns the function that cancels it. */
export function onExit(cleanup: () => void): () => void {
  exitCleanups.add(cleanup);
  installExitHook();
  return () => void exitCleanups.delete(cleanup);
}

/** The last lines of a log file, or '(no log)' when it cannot be read. */
export function tailFile(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A loopback port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port (binding it succeeds). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The preferred loopback port if it is free, else one the OS picks. */
export async function preferredOrFreePort(preferred: number): Promise<number> {
  return (await portFree(preferred)) ? preferred : freePort();
}

/** True when something accepts connections on this loopback port. */
export function portInUse(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

/** Waits until something accepts connections on this loopback port; false when it does not within timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portInUse(port)) return true;
    await sleep(everyMs);
  }
  return false;
}

/** GET a loopback URL: status code and body, or undefined when nothing answers within timeoutMs. */
export function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** True when GET url answers 200 (a /healthz probe). */
export async function answers200(url: string, timeoutMs = 2_000): Promise<boolean> {
  return (await httpGet(url, timeoutMs))?.status === 200;
}

/** Every live descendant of `root` (children of children included) with its command line, from /proc (Linux). */
export function descendantsOf(root: number): Array<{ pid: number; cmdline: string }> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; cmdline: string }> = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift() as number;
    try {
      out.push({ pid, cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}
