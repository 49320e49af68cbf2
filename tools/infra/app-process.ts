/**
 * One app process (gateway, bridge or worker) started exactly like `npm run gateway` etc.
 * (`node --import tsx <app>/main.ts`) in its own process group, with its output appended to a log
 * file; it can be waited on until ready, stopped (SIGTERM, then SIGKILL), SIGKILLed and started again.
 * If this process exits without stopping it, its group is SIGKILLed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { forgetOnExit, killGroup, killOnExit, sleep, tailFile } from './proc';

/** The app's three kinds of process, each started from `<name>/main.ts`. */
export type AppName = 'gateway' | 'bridge' | 'worker';

export interface AppProcessOptions {
  app: AppName;
  /** How logs and errors name this process (e.g. "bridge-B" when there are two bridges). */
  name: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves true once the process is ready (checked every 250 ms). */
  ready: (proc: AppProcess) => Promise<boolean>;
}

export class AppProcess {
  child?: ChildProcess;
  exits: Array<{ code: number | null; signal: NodeJS.Signals | null; at: number }> = [];
  starts = 0;

  constructor(readonly opts: AppProcessOptions) {}

  get name(): string {
    return this.opts.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once `ready` says so; rejects (with the log's tail) if it exits or times out first. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    fs.mkdirSync(path.dirname(this.opts.logFile), { recursive: true });
    const out = fs.openSync(this.opts.logFile, 'a');
    fs.writeSync(out, `\n=== ${new Date().toISOString()} start #${this.starts + 1} of ${this.name}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', `${this.opts.app}/main.ts`], {
      cwd: PROJECT_ROOT,
      env: this.opts.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    const pid = child.pid;
    killOnExit(pid);
    child.once('exit', (code, signal) => {
      forgetOnExit(pid);
      this.exits.push({ code, signal, at: Date.now() });
    });
    this.child = child;
    this.starts += 1;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running())
        throw new Error(`${this.name} exited during start-up; see ${this.opts.logFile}:\n${this.tail()}`);
      if (await this.opts.ready(this)) return;
      await sleep(250);
    }
    throw new Error(`${this.name} not ready within ${timeoutMs / 1000}s; see ${this.opts.logFile}:\n${this.tail()}`);
  }

  /** Ends the process (and its process group) with a signal; resolves once it is gone. */
  async signal(signal: 'SIGKILL' | 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running()) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid, signal);
    const timedOut = await Promise.race([gone.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      killGroup(child.pid, 'SIGKILL');
      await Promise.race([gone, sleep(5_000)]);
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

  tail(lines = 20): string {
    return tailFile(this.opts.logFile, lines);
  }
}
