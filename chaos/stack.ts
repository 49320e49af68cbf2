/**
 * An isolated stack for the chaos harness: its own Kafka and Temporal dev server (own ports, own
 * data dir under os.tmpdir()), and the app's processes (gateway, bridge, worker) as real OS
 * processes started with `node --import tsx <component>/main.ts`. Everything it starts it also
 * stops: each process is its own process group, killed with the group (SIGKILL on exit at the latest).
 * It never touches the shared servers on the default ports.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE } from '../common/config';
import {
  ensureSearchAttributes,
  ensureTopics,
  kafkaBrokersOf,
  ownedPid,
  Server,
  SERVERS,
  stackOptions,
  StackOptions,
  startServer,
  stopServer,
  temporalAddressOf,
} from '../infra/launcher';
import { REPO_ROOT } from '../infra/paths';
import { delay, freePort, isAlive, Log } from '../infra/proc';

export const ISOLATED_PORTS = { kafka: 19092, kafkaController: 19093, temporal: 17233, temporalUi: 18233 } as const;
export const NAMESPACE = 'default';

/** Process groups and stacks this process started: killed synchronously if it exits without cleaning up. */
const liveGroups = new Set<number>();
const liveStacks = new Set<StackOptions>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of liveGroups) killGroup(p, 'SIGKILL');
    for (const stack of liveStacks) {
      for (const s of SERVERS) {
        const pid = ownedPid(s, stack);
        if (pid !== undefined) killGroup(pid, 'SIGKILL');
      }
    }
  });
}
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  installExitHook();
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

export { freePort };

/** True when something accepts connections on this loopback port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
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

export type Component = 'gateway' | 'bridge' | 'worker';

export interface AppProcessOptions {
  component: Component;
  name: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves true once the process is ready (checked every 250 ms). */
  ready: (proc: AppProcess) => Promise<boolean>;
}

/** One app process (gateway, bridge or worker) that can be started, SIGKILLed and restarted. */
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

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    fs.mkdirSync(path.dirname(this.opts.logFile), { recursive: true });
    const out = fs.openSync(this.opts.logFile, 'a');
    fs.writeSync(out, `\n=== ${new Date().toISOString()} start #${this.starts + 1} of ${this.name}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', `${this.opts.component}/main.ts`], {
      cwd: REPO_ROOT,
      env: this.opts.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    trackGroup(child.pid);
    const pid = child.pid;
    child.once('exit', (code, signal) => {
      liveGroups.delete(pid);
      this.exits.push({ code, signal, at: Date.now() });
    });
    this.child = child;
    this.starts += 1;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`${this.name} exited during start-up; see ${this.opts.logFile}:\n${this.tail()}`);
      if (await this.opts.ready(this)) return;
      await delay(250);
    }
    throw new Error(`${this.name} not ready within ${timeoutMs / 1000}s; see ${this.opts.logFile}:\n${this.tail()}`);
  }

  /** Ends the process (and its process group) with a signal; resolves once it is gone. */
  async signal(signal: 'SIGKILL' | 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running()) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid, signal);
    const timedOut = await Promise.race([gone.then(() => false), delay(graceMs).then(() => true)]);
    if (timedOut) {
      killGroup(child.pid, 'SIGKILL');
      await Promise.race([gone, delay(5_000)]);
    }
    // Stragglers of the group (e.g. tsx's esbuild service) go with it.
    killGroup(child.pid, 'SIGKILL');
    liveGroups.delete(child.pid);
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  tail(lines = 20): string {
    try {
      return fs.readFileSync(this.opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface IsolatedStackOptions {
  /** Parent of the stack's data dir; default os.tmpdir(). */
  baseDir?: string;
  ports?: Partial<typeof ISOLATED_PORTS>;
  log?: Log;
  /** Keep the data dir after stop (for diagnosis). */
  keepData?: boolean;
}

/** Kafka + Temporal of our own, on their own ports and data, plus a Temporal client for checks. */
export class IsolatedStack {
  readonly kafkaBrokers: string[];
  readonly temporalAddress: string;
  private connection?: Connection;
  client?: Client;

  private constructor(
    readonly options: StackOptions,
    readonly workDir: string,
    private readonly log: Log,
    private readonly keepData: boolean,
  ) {
    this.kafkaBrokers = kafkaBrokersOf(options);
    this.temporalAddress = temporalAddressOf(options);
  }

  static async start(opts: IsolatedStackOptions = {}): Promise<IsolatedStack> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
    const ports = { ...ISOLATED_PORTS, ...opts.ports };
    for (const [what, port] of Object.entries(ports)) {
      if (await portInUse(port)) {
        throw new Error(`port ${port} (${what} of the isolated stack) is already in use: another chaos run, or pick other ports`);
      }
    }
    const workDir = fs.mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'orders-chaos-'));
    const stack = new IsolatedStack(stackOptions({ dataDir: path.join(workDir, 'data'), ports }), workDir, log, Boolean(opts.keepData));
    liveStacks.add(stack.options);
    installExitHook();
    try {
      const started = Date.now();
      await Promise.all(SERVERS.map((s) => startServer(s, stack.options, log)));
      await ensureTopics(stack.kafkaBrokers, log);
      await ensureSearchAttributes(stack.temporalAddress, NAMESPACE, log);
      await stack.connectClient();
      log(`isolated stack up in ${((Date.now() - started) / 1000).toFixed(1)}s: Kafka ${stack.kafkaBrokers.join(',')}, Temporal ${stack.temporalAddress}, data ${workDir}`);
      return stack;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  private async connectClient(): Promise<void> {
    this.connection = await Connection.connect({ address: this.temporalAddress, connectTimeout: 10_000 });
    this.client = new Client({ connection: this.connection, namespace: NAMESPACE });
  }

  get temporal(): Client {
    if (!this.client) throw new Error('no Temporal client');
    return this.client;
  }

  serverPid(s: Server): number | undefined {
    return ownedPid(s, this.options);
  }

  /** SIGKILLs one server (a crash: no shutdown hooks). */
  killServer(s: Server): Promise<void> {
    return stopServer(s, this.options, { signal: 'SIGKILL', log: this.log });
  }

  /** Starts a server again on the same data and ports, and waits until it answers. */
  async restartServer(s: Server): Promise<void> {
    await startServer(s, this.options, this.log);
    if (s === 'kafka') await ensureTopics(this.kafkaBrokers, this.log);
  }

  /** Environment for an app process: only the isolated stack's addresses, nothing inherited that could point elsewhere. */
  appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (/^(KAFKA_|TEMPORAL_|SIM_|GATEWAY_|BRIDGE_|STEP_DELAY_MS$|ORDERS_|JEST_|NODE_OPTIONS$)/.test(k)) continue;
      env[k] = v;
    }
    return {
      ...env,
      KAFKA_BROKERS: this.kafkaBrokers.join(','),
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      ORDERS_DATA_DIR: this.options.dataDir,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...extra,
    };
  }

  /** Ready when one of the task queue's pollers is this process (identity `<pid>@<host>`). */
  async workerPolling(pid: number | undefined): Promise<boolean> {
    if (pid === undefined) return false;
    try {
      const res = await this.temporal.workflowService.describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: TASK_QUEUE, kind: 1 },
        taskQueueType: 1,
      });
      return (res.pollers ?? []).some((p) => (p.identity ?? '').startsWith(`${pid}@`));
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    for (const s of SERVERS) await stopServer(s, this.options, { signal: 'SIGTERM', graceMs: 10_000, log: this.log }).catch(() => undefined);
    // Whatever is left of them (the launcher starts each server as a process-group leader).
    for (const s of SERVERS) {
      const pid = ownedPid(s, this.options);
      if (pid !== undefined && isAlive(pid)) killGroup(pid, 'SIGKILL');
    }
    liveStacks.delete(this.options);
    if (!this.keepData) fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
