/**
 * How soon `npm start` takes and runs the first order, as a user sees it:
 *
 *   npx tsx tools/dev/measure-first-order.ts [--cold] [--checkout DIR] [--runs N]
 *
 * Runs `npm start` (in this checkout, or DIR) on a fresh data directory and free ports, places one
 * order over WebSocket as soon as the gateway lets it in (resending while it refuses), and prints when
 * it was accepted, when the launcher said Temporal was ready, when the order reached COMPLETED, and
 * the start-up summary npm start printed. --cold also gives it an empty provisioning cache, Go module
 * and build caches, Maven repository and pip cache (everything is fetched, or built, again). Stops
 * everything with SIGINT at the end. --runs N starts it N times in a row on the same data directory and
 * ports: run 1 formats Kafka's storage and creates the topics, later runs find them (a developer's
 * second `npm start`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../common/config';
import { parseServerFrame } from '../../common/protocol';
import { freePort, killGroup, sleep } from '../infra/proc';

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** One attempt to place the order; resolves with the connection once accepted, undefined otherwise. */
function place(url: string, orderId: string, onStatus: (status: string) => void): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: 2_000 });
    const fail = (): void => {
      ws.terminate();
      resolve(undefined);
    };
    const timer = setTimeout(fail, 15_000);
    ws.on('error', fail);
    ws.on('open', () =>
      ws.send(JSON.stringify({ event: 'placeOrder', data: { orderId, item: 'USB cable', price: 9.5, quantity: 1 } })),
    );
    ws.on('message', (raw) => {
      const frame = parseServerFrame(raw.toString());
      if (frame?.event === 'orderAccepted') {
        clearTimeout(timer);
        resolve(ws);
      } else if (frame?.event === 'error') {
        clearTimeout(timer);
        fail();
      } else if (frame?.event === 'orderStatus') onStatus(String(frame.data.status));
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cold = args.includes('--cold');
  const at = args.indexOf('--checkout');
  const checkout = at >= 0 ? path.resolve(args[at + 1]) : PROJECT_ROOT;
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'first-order-'));
  const ports = {
    ORDERS_KAFKA_PORT: await freePort(),
    ORDERS_KAFKA_CONTROLLER_PORT: await freePort(),
    ORDERS_KAFKA_SASL_PORT: await freePort(),
    ORDERS_TEMPORAL_PORT: await freePort(),
    ORDERS_TEMPORAL_UI_PORT: await freePort(),
    GATEWAY_PORT: await freePort(),
    GATEWAY_HEALTH_PORT: await freePort(),
    BRIDGE_HEALTH_PORT: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ORDERS_DATA_DIR: path.join(dir, 'data'),
    SIM_LEDGER_FILE: path.join(dir, 'ledger.jsonl'),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    ...(cold
      ? {
          ORDERS_CACHE_DIR: path.join(dir, 'cache'),
          GOMODCACHE: path.join(dir, 'gomod'),
          GOCACHE: path.join(dir, 'gobuild'),
          MAVEN_OPTS: `-Dmaven.repo.local=${path.join(dir, 'm2')}`,
          PIP_CACHE_DIR: path.join(dir, 'pip'),
        }
      : {}),
  };
  for (const k of ['KAFKA_BROKERS', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) delete env[k];
  /** One `npm start` until its first order completed, then Ctrl-C; the data directory stays for the next run. */
  const once = async (run: number): Promise<void> => {
    const t0 = Date.now();
    const start = spawn('npm', ['start'], { cwd: checkout, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let temporalReadyAt: number | undefined;
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      if (temporalReadyAt === undefined && /temporal ready in|Temporal already answering/.test(output))
        temporalReadyAt = Date.now();
    };
    start.stdout.on('data', onOutput);
    start.stderr.on('data', onOutput);
    fs.writeFileSync(path.join(dir, 'README'), `npm start output: ${path.join(dir, 'npm-start.log')}\n`);

    const orderId = `first-${t0}`;
    let completedAt: number | undefined;
    let acceptedAt: number | undefined;
    let ws: WebSocket | undefined;
    const deadline = t0 + 20 * 60_000;
    try {
      while (!ws && Date.now() < deadline && start.exitCode === null) {
        ws = await place(`ws://127.0.0.1:${ports.GATEWAY_PORT}`, orderId, (status) => {
          if (status === 'COMPLETED') completedAt ??= Date.now();
        });
        if (!ws) await sleep(250);
      }
      acceptedAt = ws ? Date.now() : undefined;
      while (ws && completedAt === undefined && Date.now() < deadline) await sleep(100);
      // The order's statuses reach the client over its connection; wait for the summary too.
      while (!output.includes('Start-up (seconds') && !output.includes('WebSocket:') && Date.now() < deadline)
        await sleep(250);
    } finally {
      ws?.close();
      fs.writeFileSync(path.join(dir, 'npm-start.log'), output);
      killGroup(start.pid as number, 'SIGINT');
      const gone = new Promise((r) => start.once('exit', r));
      await Promise.race([gone, sleep(90_000)]);
    }
    const rel = (t: number | undefined): string => (t === undefined ? 'never' : secs(t - t0));
    const lines = output.split('\n');
    const summary = lines.slice(lines.findIndex((l) => l.startsWith('Start-up (seconds')));
    console.log(
      [
        `run ${run} of ${runs} (${run === 1 ? 'fresh data directory' : 'the data directory of run 1'}); checkout ${checkout}${cold && run === 1 ? ' (cold: empty caches)' : ''}; load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
        ...lines.filter((l) => l.startsWith('[infra]') && /ready in|provisioning|building|took|formatting/.test(l)),
        ...(summary.length > 1 ? summary.slice(0, summary.findIndex((l) => l.trim() === '') + 1 || undefined) : []),
        `first order accepted   ${rel(acceptedAt)} after npm start`,
        `Temporal ready         ${rel(temporalReadyAt)}`,
        `first order COMPLETED  ${rel(completedAt)}${completedAt && temporalReadyAt ? ` (${secs(completedAt - Math.max(temporalReadyAt, acceptedAt ?? 0))} after Temporal was ready and the order accepted)` : ''}`,
        `output kept in ${dir}`,
      ].join('\n'),
    );
  };
  for (let run = 1; run <= runs; run++) await once(run);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
