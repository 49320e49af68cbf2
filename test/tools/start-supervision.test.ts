/**
 * `npm start` keeps the system up on its own: run as a user would (a child process with its own data
 * directory and its own ports, 31400-31423: below the kernel's ephemeral range, so no other test's free
 * port takes one), orders placed over WebSocket, the worker SIGKILLed while orders are in flight, then
 * the Temporal dev server SIGKILLed. Nobody touches the terminal: every order must still complete and
 * be charged exactly once (the simulated ledger file is the ground truth), and each restart is one log
 * line saying what died and how. The console shows each app log record as one line (the default
 * console form), while the apps' JSON log files keep every record whole. Then SIGINT to the process
 * group (a terminal's Ctrl-C) must leave nothing behind that `npm start` started: apps, Kafka, Temporal;
 * and so must a Ctrl-C while Kafka is still being set up, without waiting for it to answer.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readLedgerLines } from '../../activities/ledger';
import { dataConverterOf } from '../../common/codec';
import { payloadEncryptionOf, PROJECT_ROOT } from '../../common/config';
import { readEnv, VARIABLES } from '../../common/env-variables';
import { useDevKekUnlessSet } from '../../tools/infra/dev-kek';
import { workflowIdFor } from '../../common/order';
import { OrderSpec, placeOrders } from '../../tools/chaos/resending-clients';
import { descendantsOf, isAlive, killGroup, portInUse } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';

const PORTS = {
  ORDERS_KAFKA_PORT: 31400,
  ORDERS_KAFKA_CONTROLLER_PORT: 31401,
  ORDERS_KAFKA_SASL_PORT: 31402,
  ORDERS_TEMPORAL_PORT: 31410,
  ORDERS_TEMPORAL_UI_PORT: 31411,
  GATEWAY_PORT: 31420,
  BRIDGE_HEALTH_PORT: 31421,
  WORKER_HEALTH_PORT: 31422,
  WORKER_METRICS_PORT: 31423,
  GATEWAY_HEALTH_PORT: 31424,
  CODEC_SERVER_PORT: 31425,
  ORDERS_HISTORY_DB_PORT: 31430,
  HISTORY_HEALTH_PORT: 31431,
};
const ORDERS = 30;

describe('npm start supervises', () => {
  let dir: string;
  /** Kills of what a test left running, done after its checks (and after a failed one). */
  const afterCleanUps: Array<() => void> = [];
  let start: ChildProcess | undefined;
  let output = '';
  let temporal: Connection | undefined;
  /** Every process seen under `npm start`, restarted ones included: all must be gone at the end. */
  const seen = new Map<number, string>();
  const watch = (): void => {
    if (start?.pid) for (const p of descendantsOf(start.pid)) seen.set(p.pid, p.cmdline);
  };
  const pidFile = (s: string): number => Number(fs.readFileSync(path.join(dir, 'data', 'run', `${s}.pid`), 'utf8'));

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-supervision-'));
    // The data dir is below it: as root, the order history's PostgreSQL runs as another user, who
    // must pass through every directory above the data dir (mkdtemp makes this one 700).
    fs.chmodSync(dir, 0o711);
  });

  // After each test, not only at the end: a test that failed before its own SIGINT must not leave
  // its npm start (and jest waiting on it) behind when the next test starts another.
  afterEach(async () => {
    for (const cleanUp of afterCleanUps.splice(0)) cleanUp();
    await temporal?.close().catch(() => undefined);
    temporal = undefined;
    if (start?.pid && start.exitCode === null && start.signalCode === null) {
      killGroup(start.pid, 'SIGINT');
      await waitUntil(() => start?.exitCode !== null || start?.signalCode !== null, { timeoutMs: 60_000 }).catch(
        () => undefined,
      );
    }
    for (const pid of seen.keys()) if (isAlive(pid)) killGroup(pid, 'SIGKILL');
    seen.clear();
  }, 90_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('worker and Temporal SIGKILLed with orders in flight: every order completes, charged once; Ctrl-C stops all', async () => {
    const ledgerFile = path.join(dir, 'ledger.jsonl');
    // Nothing of the caller's configuration leaks in (jest's namespace, shared brokers, auth...).
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in VARIABLES)));
    Object.assign(env, {
      ...Object.fromEntries(Object.entries(PORTS).map(([k, v]) => [k, String(v)])),
      ORDERS_DATA_DIR: path.join(dir, 'data'),
      SIM_LEDGER_FILE: ledgerFile,
      // Orders sit in durable timers long enough to be in flight when the worker and Temporal die.
      STEP_DELAY_MS: '1500',
      SIM_LATENCY_MS: '100',
      // The console in its default form (LOG_FORMAT unset), with every step of every order in it.
      LOG_LEVEL: 'info',
    });
    start = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const logFile = path.join(dir, 'npm-start.log');
    const append = (chunk: Buffer): void => {
      output += chunk.toString();
      fs.appendFileSync(logFile, chunk);
    };
    start.stdout?.on('data', append);
    start.stderr?.on('data', append);
    const tail = (): string => output.split('\n').slice(-30).join('\n');
    const watcher = setInterval(watch, 500);

    try {
      await waitUntil(() => output.includes('Start-up (seconds since npm start)'), {
        timeoutMs: 240_000,
        what: 'npm start to print its start-up summary',
        context: tail,
      });
      watch();
      temporal = await Connection.connect({ address: `127.0.0.1:${PORTS.ORDERS_TEMPORAL_PORT}` });
      // Sealed as npm start's apps seal: the development KEK and keys it made in its data directory.
      useDevKekUnlessSet(path.join(dir, 'data'), env);
      const dataConverter = dataConverterOf(payloadEncryptionOf(readEnv(env)));
      const client = new Client({ connection: temporal, namespace: 'default', dataConverter });

      const prefix = `sup-${crypto.randomUUID().slice(0, 8)}`;
      const specs: OrderSpec[] = Array.from({ length: ORDERS }, (_, i) => ({
        orderId: `${prefix}-${i}`,
        item: 'USB cable',
        price: 9.5,
        quantity: 2,
        expect: 'COMPLETED',
      }));
      let accepted = 0;
      const placing = placeOrders(specs, {
        url: `ws://127.0.0.1:${PORTS.GATEWAY_PORT}`,
        connections: 3,
        rate: 5,
        deadline: Date.now() + 120_000,
        onAccepted: () => void (accepted += 1),
      });

      // A third of the orders in: SIGKILL the worker (charges and timers in flight).
      await waitUntil(() => accepted >= ORDERS / 3, { timeoutMs: 60_000, what: 'a third of the orders accepted' });
      const worker = descendantsOf(start.pid as number).find((p) => p.cmdline.includes('worker/main.ts'));
      expect(worker).toBeDefined();
      process.kill((worker as { pid: number }).pid, 'SIGKILL');
      await waitUntil(() => /worker died \(killed by SIGKILL\).*starting it again/.test(output), {
        timeoutMs: 30_000,
        what: 'the restart line for the worker',
        context: tail,
      });
      await waitUntil(
        () =>
          descendantsOf(start?.pid as number).some(
            (p) => p.cmdline.includes('worker/main.ts') && p.pid !== worker?.pid,
          ),
        { timeoutMs: 30_000, what: 'a new worker process' },
      );

      // Two thirds in: SIGKILL the Temporal dev server.
      await waitUntil(() => accepted >= (2 * ORDERS) / 3, { timeoutMs: 60_000, what: 'two thirds accepted' });
      const temporalPid = pidFile('temporal');
      process.kill(temporalPid, 'SIGKILL');
      await waitUntil(() => /temporal died \(killed by SIGKILL\).*starting it again/.test(output), {
        timeoutMs: 30_000,
        what: 'the restart line for Temporal',
        context: tail,
      });

      const { records } = await placing;
      expect(records.filter((r) => r.acceptedAt === undefined).map((r) => r.gaveUp)).toEqual([]);

      // Every order reaches COMPLETED (asked of Temporal itself, through its outage).
      const status = async (orderId: string): Promise<string> => {
        try {
          return (await client.workflow.getHandle(workflowIdFor({ orderId: orderId })).describe()).status.name;
        } catch {
          return 'UNKNOWN';
        }
      };
      await waitUntil(
        async () => (await Promise.all(specs.map((s) => status(s.orderId)))).every((s) => s === 'COMPLETED'),
        {
          timeoutMs: 180_000,
          intervalMs: 1_000,
          what: 'every order COMPLETED',
          context: tail,
        },
      );

      // Charged exactly once each, nothing refunded: counted on the ledger file's raw lines.
      const lines = readLedgerLines(ledgerFile).filter((l) => l.orderId.startsWith(prefix));
      const charges = new Map<string, number>();
      for (const l of lines.filter((x) => x.kind === 'charge'))
        charges.set(l.orderId, (charges.get(l.orderId) ?? 0) + 1);
      expect(specs.filter((s) => charges.get(s.orderId) !== 1).map((s) => s.orderId)).toEqual([]);
      expect(lines.filter((l) => l.kind === 'refund')).toEqual([]);
      // One line per restart: first the worker killed above, then Temporal. While Temporal is down the
      // worker may lose its connection and be restarted again; nothing else ever dies.
      const restarted = output.match(/^\[start\] .* starting it again .*$/gm)?.map((l) => l.split(' ')[1]) ?? [];
      expect(restarted[0]).toBe('worker');
      expect(restarted.filter((name) => name !== 'worker')).toEqual(['temporal']);

      // The console: one line per record (time, process, level, message), never a record's fields on
      // lines of their own (pino-pretty) nor a raw JSON record.
      const charged = (orderId: string): RegExp =>
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} worker +INFO +order ${orderId}: charged 19\\.00 \\(ch_\\w+\\)$`,
          'm',
        );
      expect(specs.filter((s) => !charged(s.orderId).test(output)).map((s) => s.orderId)).toEqual([]);
      expect(
        output
          .match(/^ {2,}[A-Za-z_]+: .*$/gm)
          ?.filter((l) => !/^ {2}(WebSocket|Temporal UI|JSON logs|Traces):/.test(l)) ?? [],
      ).toEqual([]);
      expect(output.match(/^\{"level".*$/gm) ?? []).toEqual([]);
      // The JSON log files: every record whole, with the fields that name the order's run, across the
      // worker's restart (one file per app, appended to).
      const logRecords = fs
        .readFileSync(path.join(dir, 'data', 'logs', 'worker.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const spec of specs)
        expect(logRecords).toContainEqual(
          expect.objectContaining({
            name: 'worker',
            level: 'info',
            msg: expect.stringMatching(new RegExp(`^order ${spec.orderId}: charged`)),
            orderId: spec.orderId,
            workflowId: workflowIdFor({ orderId: spec.orderId }),
            runId: expect.any(String),
            component: 'temporal-activity',
          }),
        );
    } finally {
      clearInterval(watcher);
    }

    // Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
    watch();
    const kafkaPid = pidFile('kafka');
    const temporalPid = pidFile('temporal');
    expect(seen.size).toBeGreaterThan(0);
    killGroup(start.pid as number, 'SIGINT');
    // npm re-raises the signal once its child is done; the launcher below it drains the apps, then stops
    // the servers, and says so last.
    await waitUntil(
      () => (start?.exitCode !== null || start?.signalCode !== null) && /^\[start\] stopped in /m.test(output),
      {
        timeoutMs: 90_000,
        what: 'npm start to stop everything and exit after SIGINT',
        context: tail,
      },
    );
    expect([...seen].filter(([pid]) => isAlive(pid)).map(([pid, cmd]) => `${pid} ${cmd}`)).toEqual([]);
    expect([kafkaPid, temporalPid].filter(isAlive)).toEqual([]);
    const listening = await Promise.all(Object.values(PORTS).map(async (p) => ((await portInUse(p)) ? p : 0)));
    expect(listening.filter((p) => p !== 0)).toEqual([]);
  }, 600_000);

  test('Ctrl-C while Kafka is still being set up stops what was started without waiting for it, leaving nothing', async () => {
    const data = path.join(dir, 'data-startup');
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in VARIABLES)));
    Object.assign(env, {
      ...Object.fromEntries(Object.entries(PORTS).map(([k, v]) => [k, String(v)])),
      ORDERS_DATA_DIR: data,
    });
    const early = spawn('npm', ['start'], {
      cwd: PROJECT_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    early.stdout?.on('data', (c: Buffer) => (text += c.toString()));
    early.stderr?.on('data', (c: Buffer) => (text += c.toString()));
    const processes = new Map<number, string>();
    const watcher = setInterval(() => {
      for (const p of descendantsOf(early.pid as number)) processes.set(p.pid, p.cmdline);
    }, 100);
    try {
      // A fresh data directory: Kafka's storage is formatted before the broker starts, so the broker
      // cannot be answering yet when this line shows.
      await waitUntil(() => text.includes('formatting Kafka storage'), {
        timeoutMs: 120_000,
        what: 'npm start to format Kafka storage',
        context: () => text,
      });
      killGroup(early.pid as number, 'SIGINT');
      await waitUntil(() => early.exitCode !== null || early.signalCode !== null, {
        timeoutMs: 60_000,
        what: 'npm start to exit after SIGINT during start-up',
        context: () => text,
      });
    } finally {
      clearInterval(watcher);
    }
    // Whatever npm start left is killed only after the checks below have seen it.
    const cleanUp = (): void => {
      for (const pid of processes.keys()) if (isAlive(pid)) killGroup(pid, 'SIGKILL');
    };
    afterCleanUps.push(cleanUp);
    expect(text).toMatch(/^\[start\] stopped during start-up in /m);
    // A child killed as npm start exits (its exit hook kills the groups it started) is gone once the
    // init process has reaped it: allow that a moment.
    const left = (): string[] => [...processes].filter(([pid]) => isAlive(pid)).map(([pid, cmd]) => `${pid} ${cmd}`);
    await waitUntil(() => left().length === 0 || undefined, { timeoutMs: 10_000 }).catch(() => undefined);
    expect(left()).toEqual([]);
    // No pid file, no start lock.
    expect(fs.existsSync(path.join(data, 'run')) ? fs.readdirSync(path.join(data, 'run')) : []).toEqual([]);
    const listening = await Promise.all(Object.values(PORTS).map(async (p) => ((await portInUse(p)) ? p : 0)));
    expect(listening.filter((p) => p !== 0)).toEqual([]);
  }, 180_000);
});
