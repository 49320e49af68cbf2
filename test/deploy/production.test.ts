/**
 * The production path, as the image builds it: the files the Dockerfile's COPY lines take from the
 * build context are copied into a scratch build directory and built with `npm run build`; the final
 * stage's files (the build's dist/, package.json, and node_modules from `npm ci --omit=dev`) go into
 * a second scratch directory; gateway, bridge and worker run from there with plain `node dist/...`,
 * against the real Kafka and Temporal. A file the processes need at run time but the Dockerfile does
 * not copy leaves the build or a process broken, and this test red.
 *
 * One shortcut: the build stage's full `npm ci` is the checkout's node_modules (same lock file),
 * linked in; it only compiles. The production install, which ships, runs for real.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { readLedgerLines } from '../../activities/ledger';
import { TOPICS } from '../../common/names';
import { groupAtTopicEnd } from '../../tools/infra/app-resources';
import { freePort } from '../../tools/infra/proc';
import { buildIdOf } from '../../worker/versioning';
import { testKafka } from '../helpers/kafka';
import { buildContext, norm, parseCopy, readStages, Stage } from '../helpers/dockerfile';
import { createNamespace } from '../helpers/namespace';
import { uniqueId, waitUntil } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const ROOT = path.resolve(__dirname, '..', '..');
const exec = promisify(execFile);
/** Generous: on a busy 2-core machine the production install and the build take minutes. */
const BUILD_TIMEOUT_MS = 900_000;
const stages = readStages();
const context = buildContext();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'production-'));
/** Where each stage's /app is built. */
const stageDir = (stage: Stage): string => path.join(scratch, stage.name);

const runsOf = (stage: Stage): string[] =>
  stage.instructions
    .filter((i) => i.op === 'RUN')
    .flatMap((i) => i.args.split('&&'))
    .map((c) => c.trim());

/** Copies like Docker: a directory's contents into the destination, a file into it (dest ending in /) or onto it. */
function copyInto(dir: string, sourceRoot: string, files: string[], source: string, rawDest: string, many: boolean) {
  const dest = norm(rawDest);
  const destIsDir = many || rawDest.endsWith('/') || dest === '';
  for (const file of files) {
    const rel = file === source ? (destIsDir ? path.basename(file) : '') : path.relative(source, file);
    const target = path.join(dir, dest, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(path.join(sourceRoot, file), target, { recursive: true, verbatimSymlinks: true });
  }
}

/** Files under `dir` (relative), without descending into node_modules. */
function filesUnder(dir: string, base = dir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(full, base);
    return [path.relative(base, full).split(path.sep).join('/')];
  });
}

/** Builds one stage's /app in its scratch directory: its COPY lines, then its npm steps. */
async function buildStage(stage: Stage): Promise<void> {
  const dir = stageDir(stage);
  fs.mkdirSync(dir, { recursive: true });
  for (const ins of stage.instructions.filter((i) => i.op === 'COPY')) {
    const copy = parseCopy(ins.args);
    const many = copy.sources.length > 1;
    for (const source of copy.sources.map(norm)) {
      const under = (f: string): boolean => source === '' || f === source || f.startsWith(`${source}/`);
      if (copy.from === undefined) {
        const files = context.filter(under);
        if (files.length === 0) throw new Error(`COPY ${source} copies nothing from the build context`);
        copyInto(dir, ROOT, files, source, copy.dest, many);
      } else {
        const origin = stages.find((s) => s.name === copy.from);
        if (!origin) throw new Error(`COPY --from=${copy.from}: no such stage`);
        const from = stageDir(origin);
        const files = fs.existsSync(path.join(from, source)) ? [source] : [];
        if (files.length === 0) throw new Error(`COPY --from=${copy.from} ${source}: the stage has no such file`);
        copyInto(dir, from, files, source, copy.dest, many);
      }
    }
  }
  for (const command of runsOf(stage)) {
    if (/^npm ci\b/.test(command) && command.includes('--omit=dev')) {
      await exec('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: dir,
      });
    } else if (/^npm ci\b/.test(command)) {
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    } else if (/^npm run build\b/.test(command)) {
      await exec('npm', ['run', 'build'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
      // The build's full dependencies stay behind, as Docker leaves the build stage behind.
      fs.rmSync(path.join(dir, 'node_modules'));
    }
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
}
const procs: Proc[] = [];

/** Runs a compiled entry point with plain node from the final stage's directory, as the image would. */
function run(dir: string, entry: string, env: Record<string, string>): Proc {
  const stageEnv = Object.fromEntries(
    stages[stages.length - 1].instructions
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args.split('=') as [string, string]),
  );
  // The suite's development KEK too (test/global-setup.ts): with payload encryption on, as by
  // default, an app refuses to start without one, as a deployment's would.
  const inherited = [
    'PATH',
    'HOME',
    'KAFKA_BROKERS',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'PAYLOAD_KEK',
    'PAYLOAD_KEK_FILE',
  ];
  const child = spawn('node', [entry], {
    cwd: dir,
    env: {
      ...Object.fromEntries(inherited.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
      ...stageEnv,
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const proc = { child, output: () => out.slice(-4000) };
  procs.push(proc);
  return proc;
}

async function get(url: string): Promise<{ status: number; type: string; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  } catch {
    return undefined;
  }
}

afterAll(async () => {
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(
    procs.map((p) =>
      p.child.exitCode === null && p.child.signalCode === null
        ? new Promise((r) => p.child.once('exit', r))
        : undefined,
    ),
  );
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('the production build, from the files the image is built from', () => {
  beforeAll(async () => {
    for (const stage of stages) await buildStage(stage);
  }, BUILD_TIMEOUT_MS);

  test('the compiled gateway, bridge and worker serve the page, carry the seed order to COMPLETED, and answer /metrics and /readyz', async () => {
    const app = stageDir(stages[stages.length - 1]);
    // Nothing TypeScript is left to run: no sources beside dist/, no tsx among the dependencies.
    expect(filesUnder(app).filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(fs.existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);

    const [gatewayPort, gatewayAdminPort, bridgePort, workerHealthPort, workerMetricsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const ledger = path.join(scratch, 'ledger.jsonl');
    // The bridge's fresh group starts at the topic's end, so it carries this test's order and not
    // every order other runs left on the shared topic.
    const bridgeGroup = uniqueId('production-bridge');
    await groupAtTopicEnd(testKafka(), bridgeGroup, TOPICS.orderPlacement);
    const procsByName = {
      worker: run(app, 'dist/worker/main.js', {
        WORKER_HEALTH_PORT: String(workerHealthPort),
        WORKER_METRICS_PORT: String(workerMetricsPort),
        SIM_LEDGER_FILE: ledger,
      }),
      bridge: run(app, 'dist/bridge/main.js', {
        BRIDGE_HEALTH_PORT: String(bridgePort),
        BRIDGE_GROUP_ID: bridgeGroup,
        STEP_DELAY_MS: '0',
      }),
      gateway: run(app, 'dist/gateway/main.js', {
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_HEALTH_PORT: String(gatewayAdminPort),
      }),
    };
    const logs = (): string =>
      Object.entries(procsByName)
        .map(([name, p]) => `--- ${name} ---\n${p.output()}`)
        .join('\n');

    const probes = {
      gateway: {
        readyz: `http://127.0.0.1:${gatewayAdminPort}/readyz`,
        metrics: `http://127.0.0.1:${gatewayAdminPort}/metrics`,
      },
      bridge: { readyz: `http://127.0.0.1:${bridgePort}/readyz`, metrics: `http://127.0.0.1:${bridgePort}/metrics` },
      worker: {
        readyz: `http://127.0.0.1:${workerHealthPort}/readyz`,
        metrics: `http://127.0.0.1:${workerMetricsPort}/metrics`,
      },
    };
    for (const [name, urls] of Object.entries(probes)) {
      await waitUntil(async () => (await get(urls.readyz))?.status === 200, {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${name} /readyz`,
        context: logs,
      });
    }

    const page = await get(`http://127.0.0.1:${gatewayPort}/`);
    expect(page?.status).toBe(200);
    expect(page?.type).toMatch(/^text\/html/);
    const scripts = [...(page?.body ?? '').matchAll(/<script[^>]*src="\.?\/?([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect((await get(`http://127.0.0.1:${gatewayPort}/${script}`))?.status).toBe(200);

    const orderId = `#101-${uniqueId('prod')}`;
    const client = await TestClient.connect(`ws://127.0.0.1:${gatewayPort}`);
    try {
      const answer = await client.placeOrder({ orderId, item: 'Mechanical Keyboard', price: 150 });
      expect(answer.event).toBe('orderAccepted');
      await client
        .waitFor(
          (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED',
          90_000,
        )
        .catch((err: unknown) => {
          throw new Error(`${String(err)}\n${logs()}`);
        });
    } finally {
      await client.close();
    }
    const charges = readLedgerLines(ledger).filter((e) => e.orderId === orderId && e.kind === 'charge');
    expect(charges).toHaveLength(1);
    expect(charges[0].amount).toBe(150);

    for (const [name, urls] of Object.entries(probes)) {
      const metrics = await get(urls.metrics);
      expect({ name, status: metrics?.status }).toEqual({ name, status: 200 });
      expect(metrics?.body).toMatch(/^# (HELP|TYPE) /m);
    }
  }, 300_000);

  test('the compiled worker with WORKER_DEPLOYMENT_NAME polls as the build id `npm run build` wrote: the hash of dist/workflow-bundle.js', async () => {
    const app = stageDir(stages[stages.length - 1]);
    const buildId = fs.readFileSync(path.join(app, 'dist', 'build-id'), 'utf8').trim();
    expect(buildId).toBe(buildIdOf(fs.readFileSync(path.join(app, 'dist', 'workflow-bundle.js'))));
    // A namespace of its own: the first versioned build becomes current on its `orders` queue.
    const namespace = await createNamespace(process.env.TEMPORAL_ADDRESS!, 'production-versioned');
    const deploymentName = uniqueId('order-worker');
    const worker = run(app, 'dist/worker/main.js', {
      TEMPORAL_NAMESPACE: namespace,
      WORKER_DEPLOYMENT_NAME: deploymentName,
      LOG_FORMAT: 'line',
    });
    await waitUntil(() => worker.output().includes(`made ${buildId} current`), {
      timeoutMs: 90_000,
      what: `the compiled worker making build ${buildId} current`,
      context: worker.output,
    });
    expect(worker.output()).toContain(`as build ${buildId} of deployment ${deploymentName}`);
  }, 180_000);
});
