/**
 * How long `npm start` takes to stop on Ctrl-C, step by step, and what it leaves behind:
 *
 *   npx tsx tools/dev/measure-stop.ts [--checkout DIR] [--data DIR] [--port-base N] [--orders N] [--env K=V]...
 *     [--again-after MS]
 *
 * Runs `npm start` (in this checkout, or DIR) on its own data directory (default /tmp/start-data,
 * kept between runs so the servers start warm) and on fixed ports from --port-base (default 31500:
 * below the kernel's ephemeral range, so no other test's free port collides), waits for its start-up
 * summary, places --orders orders (default 5) so some are in flight (--env sets a variable for npm start,
 * e.g. SIM_LATENCY_MS=4000 to have activities running at the SIGINT), then sends SIGINT to its process
 * group as a terminal's Ctrl-C does. It prints when each process (gateway, bridge, worker, Kafka,
 * Temporal, the launcher, npm) was gone, in seconds after the SIGINT, every line npm start printed
 * after it, and any process or port left behind (--again-after sends a second SIGINT that long after
 * the first, as a second Ctrl-C); with the one-minute load average at the end.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { VARIABLES } from '../../common/env-variables';
import { OrderSpec, placeOrders } from '../chaos/resending-clients';
import { descendantsOf, isAlive, killGroup, portInUse, sleep } from '../infra/proc';

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** Which part of the stack a process is (its helpers, e.g. tsx's esbuild, count with it). */
function partOf(cmdline: string): string {
  for (const app of ['gateway', 'bridge', 'worker']) if (cmdline.includes(`${app}/main.ts`)) return app;
  if (cmdline.includes('kafka.Kafka')) return 'kafka';
  if (cmdline.includes('start-dev')) return 'temporal';
  if (cmdline.includes('tools/dev/start.ts')) return 'launcher (start.ts)';
  return 'other (npm, sh, helpers)';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const checkout = path.resolve(arg('--checkout') ?? PROJECT_ROOT);
  const dataDir = path.resolve(arg('--data') ?? '/tmp/start-data');
  const base = Number(arg('--port-base') ?? 31500);
  const orders = Number(arg('--orders') ?? 5);
  const ports = {
    ORDERS_KAFKA_PORT: base,
    ORDERS_KAFKA_CONTROLLER_PORT: base + 1,
    ORDERS_KAFKA_SASL_PORT: base + 2,
    ORDERS_TEMPORAL_PORT: base + 10,
    ORDERS_TEMPORAL_UI_PORT: base + 11,
    GATEWAY_PORT: base + 20,
    BRIDGE_HEALTH_PORT: base + 21,
    WORKER_HEALTH_PORT: base + 22,
    GATEWAY_HEALTH_PORT: base + 23,
  };
  const busy = (await Promise.all(Object.values(ports).map(async (p) => ((await portInUse(p)) ? p : 0)))).filter(
    Boolean,
  );
  if (busy.length) throw new Error(`ports already in use: ${busy.join(', ')}; choose another --port-base`);
  // Nothing of the caller's configuration leaks in (shared brokers, a namespace, auth...).
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in VARIABLES)));
  Object.assign(env, {
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ORDERS_DATA_DIR: dataDir,
    SIM_LEDGER_FILE: path.join(dataDir, 'ledger.jsonl'),
    ...Object.fromEntries(
      args.flatMap((a, i) =>
        args[i - 1] === '--env' ? [[a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]] : [],
      ),
    ),
  });

  const t0 = Date.now();
  const start: ChildProcess = spawn('npm', ['start'], {
    cwd: checkout,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let sigintAt: number | undefined;
  const after: string[] = [];
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString();
    if (sigintAt !== undefined)
      for (const line of chunk.toString().split('\n').filter(Boolean))
        after.push(`${secs(Date.now() - sigintAt).padStart(6)}  ${line}`);
  };
  start.stdout?.on('data', onOutput);
  start.stderr?.on('data', onOutput);
  const exited = new Promise<void>((resolve) => start.once('exit', () => resolve()));

  const seen = new Map<number, string>();
  const gone = new Map<number, number>();
  try {
    while (!output.includes('Start-up (seconds since npm start)')) {
      if (start.exitCode !== null) throw new Error(`npm start exited early:\n${output.slice(-3000)}`);
      if (Date.now() - t0 > 600_000) throw new Error(`no start-up summary within 10 min:\n${output.slice(-3000)}`);
      await sleep(250);
    }
    const prefix = `stop-${t0}`;
    const specs: OrderSpec[] = Array.from({ length: orders }, (_, i) => ({
      orderId: `${prefix}-${i}`,
      item: 'USB cable',
      price: 9.5,
      quantity: 1,
      expect: 'COMPLETED',
    }));
    if (orders > 0) {
      const { records } = await placeOrders(specs, {
        url: `ws://127.0.0.1:${ports.GATEWAY_PORT}`,
        connections: 1,
        rate: 20,
        deadline: Date.now() + 60_000,
      });
      const accepted = records.filter((r) => r.acceptedAt !== undefined).length;
      process.stderr.write(`${accepted}/${orders} orders accepted; sending SIGINT\n`);
    }
    for (const p of descendantsOf(start.pid as number)) seen.set(p.pid, p.cmdline);
  } finally {
    sigintAt = Date.now();
    killGroup(start.pid as number, 'SIGINT');
  }
  // Every 50 ms: which of the processes seen before the SIGINT are gone (and any started since).
  const again = arg('--again-after') === undefined ? undefined : Number(arg('--again-after'));
  let sentAgain = false;
  let npmExitAt: number | undefined;
  void exited.then(() => (npmExitAt = Date.now()));
  while (npmExitAt === undefined || [...seen.keys()].some((pid) => !gone.has(pid) && isAlive(pid))) {
    if (start.pid && npmExitAt === undefined)
      for (const p of descendantsOf(start.pid)) if (!seen.has(p.pid)) seen.set(p.pid, p.cmdline);
    for (const pid of seen.keys()) if (!gone.has(pid) && !isAlive(pid)) gone.set(pid, Date.now());
    if (Date.now() - sigintAt > 120_000) break;
    if (again !== undefined && !sentAgain && Date.now() - sigintAt >= again) {
      sentAgain = true;
      after.push(`${secs(Date.now() - sigintAt).padStart(6)}  (second SIGINT sent)`);
      killGroup(start.pid as number, 'SIGINT');
    }
    await sleep(50);
  }
  // Those that went in the last interval.
  for (const pid of seen.keys()) if (!gone.has(pid) && !isAlive(pid)) gone.set(pid, Date.now());
  const parts = new Map<string, number>();
  for (const [pid, cmdline] of seen) {
    const part = partOf(cmdline);
    parts.set(part, Math.max(parts.get(part) ?? 0, (gone.get(pid) ?? Infinity) - sigintAt));
  }
  const left = [...seen].filter(([pid]) => isAlive(pid));
  const openPorts = (await Promise.all(Object.values(ports).map(async (p) => ((await portInUse(p)) ? p : 0)))).filter(
    Boolean,
  );
  console.log(
    [
      `checkout ${checkout}; data ${dataDir}; ports from ${base}`,
      'gone after SIGINT:',
      ...[...parts]
        .sort((a, b) => a[1] - b[1])
        .map(([part, ms]) => `  ${part.padEnd(26)} ${Number.isFinite(ms) ? secs(ms) : 'still running'}`),
      `  npm start exited           ${npmExitAt === undefined ? 'not within 120 s' : secs(npmExitAt - sigintAt)}`,
      `left behind: ${left.length ? left.map(([pid, c]) => `${pid} ${c}`).join('; ') : 'no process'}, ${openPorts.length ? `ports ${openPorts.join(', ')}` : 'no port'}`,
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
      'npm start output after SIGINT:',
      ...after,
    ].join('\n'),
  );
  for (const [pid] of left) killGroup(pid, 'SIGKILL');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
