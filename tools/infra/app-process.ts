/**
 * One app process (gateway, bridge or worker) started exactly like `npm run gateway` etc.
 * (`node --import tsx <app>/main.ts`) in its own process group, with its output appended to a log
 * file; it can be waited on until ready, stopped (SIGTERM, then SIGKILL), SIGKILLed and started again.
 * If this process exits without stopping it, its group is SIGKILLed. The crash matrix, the bench,
 * the process tests and the worker start-time script all start their processes through it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { answers200, forgetOnExit, killGroup, killOnExit, sleep, tailFile, within } from './proc';

/** The app's kinds of process, each started from `<name>/main.ts`. */
export type AppName = 'gateway' | 'bridge' | 'worker' | 'history' | 'codec-server';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface AppProcessOptions {
  app: AppName;
  /** The script to run instead of `<app>/main.ts`, relative to the repo root; a `.js` file runs without tsx. */
  entry?: string;
  /** How logs and errors name this process (e.g. "bridge-B" when there are two bridges); default: the app. */
  name?: string;
  env: NodeJS.ProcessEnv;
  /** Where the output goes (appended); default: a new file under the OS temp dir. */
  logFile?: string;
  /** Resolves true once the process is ready (checked every `readyEveryMs`); absent: ready once spawned. */
  ready?: (proc: AppProcess) => Promise<boolean>;
  readyEveryMs?: number;
  /** Modules loaded before the entry (`node --import`), e.g. the bench's event-loop probe. */
  preload?: string[];
}

/** A readiness check: GET url answers 200 (a /healthz or /readyz probe). */
export const whenAnswers200 = (url: string) => (): Promise<boolean> => answers200(url, 1_000);

/** A readiness check: the output of the current start has a line matching `pattern`. */
export const whenLogShows =
  (pattern: RegExp) =>
  (proc: AppProcess): Promise<boolean> =>
    Promise.resolve(pattern.test(proc.output()));

export class AppProcess {
  child?: ChildProcess;
  exits: Exit[] = [];
  starts = 0;
  readonly logFile: string;
  /** Where the current start's output begins in the log file. */
  private outputFrom = 0;
  private exited?: Promise<Exit>;

  constructor(readonly opts: AppProcessOptions) {
    this.logFile =
      opts.logFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), `app-${this.name}-`)), `${this.name}.log`);
  }

  get name(): string {
    return this.opts.name ?? this.opts.app;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once `ready` says so; rejects (with the log's tail) if it exits or times out first, stopping it. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    const out = fs.openSync(this.logFile, 'a');
    fs.writeSync(out, `\n=== ${new Date().toISOString()} start #${this.starts + 1} of ${this.name}\n`);
    this.outputFrom = fs.fstatSync(out).size;
    const entry = this.opts.entry ?? `${this.opts.app}/main.ts`;
    const loaders = [...(entry.endsWith('.js') ? [] : ['tsx']), ...(this.opts.preload ?? [])];
    const child = spawn(process.execPath, [...loaders.flatMap((m) => ['--import', m]), entry], {
      cwd: PROJECT_ROOT,
      env: this.opts.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    const pid = child.pid;
    killOnExit(pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        forgetOnExit(pid);
        const exit = { code, signal, at: Date.now() };
        this.exits.push(exit);
        resolve(exit);
      }),
    );
    this.child = child;
    this.starts += 1;
    const ready = this.opts.ready;
    if (!ready) return;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`${this.name} exited during start-up; see ${this.logFile}:\n${this.tail()}`);
      if (await ready(this)) return;
      await sleep(this.opts.readyEveryMs ?? 250);
    }
    await this.kill();
    throw new Error(`${this.name} not ready within ${timeoutMs / 1000}s; see ${this.logFile}:\n${this.tail()}`);
  }

  /** Resolves with the current start's exit (at once if it has exited). */
  exit(): Promise<Exit> {
    if (!this.exited) throw new Error(`${this.name} was never started`);
    return this.exited;
  }

  /** The current start's exit, or 'timeout' when it has not exited within `ms`. */
  exitWithin(ms: number): Promise<Exit | 'timeout'> {
    return within(this.exit(), ms);
  }

  /** Ends the process (and its process group) with a signal; resolves once it is gone. */
  async signal(signal: 'SIGKILL' | 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running()) return;
    const gone = this.exit();
    killGroup(child.pid, signal);
    if ((await within(gone, graceMs)) === 'timeout') {
      killGroup(child.pid, 'SIGKILL');
      await within(gone, 5_000);
    }
    // Stragglers of the group (e.g. tsx's esbuild service) go with it.
    killGroup(child.pid, 'SIGKILL');
    forgetOnExit(child.pid);
  }

  /** SIGKILL: a crash, no shutdown hooks. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: a graceful drain (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<void> {
    return this.signal('SIGTERM', graceMs);
  }

  /** Everything the current start has written so far. */
  output(): string {
    try {
      const fd = fs.openSync(this.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - this.outputFrom));
        fs.readSync(fd, buf, 0, buf.length, this.outputFrom);
        return buf.toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  tail(lines = 20): string {
    return tailFile(this.logFile, lines);
  }
}
