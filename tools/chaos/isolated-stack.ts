/**
 * An isolated stack for the chaos harness: its own Kafka and Temporal dev server (own ports, own
 * data dir under os.tmpdir()), for the app's processes (tools/infra/app-process.ts, started by ./fleet.ts)
 * to run against. Everything it starts it also stops (SIGKILL on exit at the latest). It never
 * touches the shared servers on the default ports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE } from '../../common/names';
import { DEFAULT_NAMESPACE } from '../../common/names';
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
import type { TemporalEngine } from '../infra/stack-options';
import { isAlive, killGroup, Log, onExit, portInUse } from '../infra/proc';
import { dataConverterOf } from '../../common/codec';
import { payloadEncryptionOf } from '../../common/config';
import { isSet, readEnv } from '../../common/env-variables';
import { devKekFile } from '../infra/dev-kek';

export const ISOLATED_PORTS = {
  kafka: 19092,
  kafkaController: 19093,
  temporal: 17233,
  temporalUi: 18233,
  postgres: 15433,
} as const;
export const NAMESPACE = DEFAULT_NAMESPACE;

/** SIGKILLs whatever is left of a stack's servers (each started as a process-group leader). */
function killServers(stack: StackOptions): void {
  for (const s of SERVERS) {
    const pid = ownedPid(s, stack);
    if (pid !== undefined && isAlive(pid)) killGroup(pid, 'SIGKILL');
  }
}

export interface IsolatedStackOptions {
  /** Parent of the stack's data dir; default os.tmpdir(). */
  baseDir?: string;
  ports?: Partial<Record<keyof typeof ISOLATED_PORTS, number>>;
  log?: Log;
  /** Keep the data dir after stop (for diagnosis). */
  keepData?: boolean;
  /** The Temporal engine (default: the dev server) and, on PostgreSQL, its history shard count. */
  temporalEngine?: TemporalEngine;
  historyShards?: number;
}

/** Kafka + Temporal of our own, on their own ports and data, plus a Temporal client for checks. */
export class IsolatedStack {
  readonly kafkaBrokers: string[];
  readonly temporalAddress: string;
  private connection?: Connection;
  client?: Client;
  private cancelExitKill?: () => void;

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
        throw new Error(
          `port ${port} (${what} of the isolated stack) is already in use: another chaos run, or pick other ports`,
        );
      }
    }
    const workDir = fs.mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'orders-chaos-'));
    // PostgreSQL may run as another user (as root: `postgres`), which must reach its directory inside.
    fs.chmodSync(workDir, 0o755);
    const stack = new IsolatedStack(
      stackOptions({
        dataDir: path.join(workDir, 'data'),
        ports,
        temporalEngine: opts.temporalEngine ?? 'dev',
        historyShards: opts.historyShards,
      }),
      workDir,
      log,
      Boolean(opts.keepData),
    );
    stack.cancelExitKill = onExit(() => killServers(stack.options));
    try {
      const started = Date.now();
      await Promise.all((['kafka', 'temporal'] as const).map((s) => startServer(s, stack.options, log)));
      await ensureTopics(stack.kafkaBrokers, log);
      await ensureSearchAttributes(stack.temporalAddress, NAMESPACE, log);
      await stack.connectClient();
      log(
        `isolated stack up in ${((Date.now() - started) / 1000).toFixed(1)}s: Kafka ${stack.kafkaBrokers.join(',')}, Temporal ${stack.temporalAddress}, data ${workDir}`,
      );
      return stack;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  private async connectClient(): Promise<void> {
    this.connection = await Connection.connect({ address: this.temporalAddress, connectTimeout: 10_000 });
    // Sealed like the stack's apps seal (their environment: the stack's data dir and KEK).
    const dataConverter = dataConverterOf(payloadEncryptionOf(readEnv(this.appEnv({}))));
    this.client = new Client({ connection: this.connection, namespace: NAMESPACE, dataConverter });
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
      // Payload encryption: the KEK set for the run, else a development one in the stack's data dir.
      ...(isSet('PAYLOAD_KEK', env) || isSet('PAYLOAD_KEK_FILE', env)
        ? {}
        : { PAYLOAD_KEK_FILE: devKekFile(this.options.dataDir) }),
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
    // In SERVERS order: PostgreSQL (if any) after the Temporal server that writes to it.
    for (const s of SERVERS)
      await stopServer(s, this.options, { signal: 'SIGTERM', graceMs: 10_000, log: this.log }).catch(() => undefined);
    killServers(this.options);
    this.cancelExitKill?.();
    if (!this.keepData) fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
