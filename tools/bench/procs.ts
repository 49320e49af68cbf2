/**
 * The app processes the bench runs (gateway, bridge, worker), each as its own OS process started
 * exactly like `npm run gateway` etc. (node --import tsx <entry>), plus finding the pids of the
 * Kafka and Temporal servers so their CPU and memory can be sampled too.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { httpGet, sleep } from '../infra/proc';

export type AppName = 'gateway' | 'bridge' | 'worker' | 'bare-worker';

const ENTRY: Record<AppName, string> = {
  gateway: 'gateway/main.ts',
  bridge: 'bridge/main.ts',
  worker: 'worker/main.ts',
  'bare-worker': 'tools/bench/bare-worker.ts',
};

export interface AppProcess {
  name: AppName;
  pid: number;
  logFile: string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child this bench started and that is still running (for cleanup on Ctrl-C or a crash). */
const live = new Map<number, ChildProcess>();

export function killAllChildren(): void {
  for (const [pid, child] of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    live.delete(pid);
  }
}

export type Readiness = { http: string } | { logPattern: RegExp };

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

export { httpGet }; // the toolkit's, re-exported for the bench's modules

/** `preload`: extra modules loaded before the entry (node --import), e.g. the event-loop probe. */
export async function startApp(
  name: AppName,
  env: NodeJS.ProcessEnv,
  logDir: string,
  ready: Readiness,
  timeoutMs = 120_000,
  preload: string[] = [],
): Promise<AppProcess> {
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((m) => ['--import', m]), ENTRY[name]], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  live.set(pid, child);
  let exited = false;
  let sawReadyLine = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(pid);
      resolve();
    });
  });
  const onData = (chunk: Buffer): void => {
    out.write(chunk);
    if ('logPattern' in ready && !sawReadyLine && ready.logPattern.test(chunk.toString('utf8'))) sawReadyLine = true;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  exit.finally(() => out.end()).catch(() => undefined);

  const proc: AppProcess = {
    name,
    pid,
    logFile,
    exited: () => exited,
    async stop(graceMs = 20_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const deadline = Date.now() + graceMs;
      while (!exited && Date.now() < deadline) await sleep(50);
      if (!exited) {
        child.kill('SIGKILL');
        await exit;
      }
    },
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up; last lines of ${logFile}:\n${tail(logFile)}`);
    if ('http' in ready) {
      const res = await httpGet(ready.http, 1_000);
      if (res?.status === 200) return proc;
    } else if (sawReadyLine) {
      return proc;
    }
    if (Date.now() > deadline) {
      await proc.stop(5_000);
      throw new Error(`${name} not ready within ${timeoutMs / 1000}s; last lines of ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(200);
  }
}

/** True when nothing listens on 127.0.0.1:port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The preferred port if free, else one the OS picks. */
export async function choosePort(preferred: number): Promise<number> {
  if (await portFree(preferred)) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Socket inodes listening on a TCP port (from /proc/net/tcp and tcp6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  return inodes;
}

function ownsInode(pid: number, inodes: Set<string>): boolean {
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return true;
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    // not ours to read, or gone
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pid of a server: from the launcher's pid file if it is alive, else the `pgrep -f marker`
 * candidate that listens on the port (or the only candidate).
 */
export function findServerPid(pidFile: string, marker: string, port: number): { pid?: number; how: string } {
  const candidates: number[] = [];
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) candidates.push(pid);
  } catch {
    // no pid file
  }
  try {
    const out = execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const pid = Number(line.trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !candidates.includes(pid)) candidates.push(pid);
    }
  } catch {
    // pgrep found nothing
  }
  const inodes = listeningInodes(port);
  const listener = candidates.find((pid) => ownsInode(pid, inodes));
  if (listener !== undefined) return { pid: listener, how: `listens on :${port}` };
  if (candidates.length === 1) return { pid: candidates[0], how: `only "${marker}" process` };
  return { how: `not found (${candidates.length} candidates for "${marker}")` };
}
