import { spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
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
      const note = quiet >= 10 ? ` — working (no output for ${quiet}s)` : lastLine ? ` — ${lastLine.slice(0, 120)}` : '';
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

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
