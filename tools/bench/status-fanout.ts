/**
 * Status fan-out bench (`npm run bench:fanout [-- --gateways 4 --rate 2000 --seconds 15 --orders 2000]`):
 * what a gateway pays for the order-status stream. G gateway processes each run the gateway's real
 * StatusFeed (own consumer group, as every gateway has) handing events to the gateway's real
 * Subscriptions; the clients are spread over the gateways (each gateway's clients follow 1/G of
 * the orders, as with a load balancer in front). This process publishes status events at a fixed
 * rate, keyed by orderId like the worker does, on a fresh topic of the shared Kafka, and reads each
 * gateway's CPU time (process.cpuUsage, reported over IPC) over the publishing window.
 *
 * It runs twice: `parse-all` (the feed without `follows`: every event parsed and validated, the
 * behaviour before the key filter) and `key-filter` (the gateway's behaviour: events for orders no
 * client here follows are dropped by key). Printed per mode: CPU % of one core per gateway, CPU ms per
 * 1 000 events, the events/s one gateway core could follow at that cost, and the load average.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { loadConfig } from '../../common/config';
import { StatusEvent } from '../../common/status';
import { StatusFeed } from '../../gateway/status-feed';
import { Subscriber, Subscriptions } from '../../gateway/subscriptions';
import { benchKafka, createTopic, deleteTopics } from './kafka-util';
import { sleep } from '../infra/proc';

type Mode = 'parse-all' | 'key-filter';
type FromChild = { ready: true } | { cpuMs: number; read: number; skipped: number; delivered: number };

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** One gateway's status path: StatusFeed -> Subscriptions, with subscribers for its share of the orders. */
async function child(
  topic: string,
  mode: Mode,
  index: number,
  gateways: number,
  orders: number,
  followed: number,
): Promise<void> {
  const kafka = benchKafka(loadConfig().kafkaBrokers, `fanout-${index}`);
  const subs = new Subscriptions(async () => undefined);
  let delivered = 0;
  const subscriber: Subscriber = { sendStatus: () => void (delivered += 1) };
  // This gateway's clients follow its share (o mod G) of the first `followed` orders.
  for (let o = index; o < Math.min(orders, followed); o += gateways) subs.subscribe(subscriber, `fan-${o}`, 1, false);
  const feed = new StatusFeed(kafka, (e: StatusEvent) => subs.onEvent(e), {
    topic,
    log: () => undefined,
    follows: mode === 'key-filter' ? (id) => subs.follows(id) : undefined,
  });
  await feed.start();
  let mark = process.cpuUsage();
  let readAtMark = 0;
  let skippedAtMark = 0;
  process.on('message', (msg: string) => {
    if (msg === 'mark') {
      mark = process.cpuUsage();
      readAtMark = feed.stats.read;
      skippedAtMark = feed.stats.skippedByKey;
    }
    if (msg === 'snap') {
      const d = process.cpuUsage(mark);
      process.send!({
        cpuMs: (d.user + d.system) / 1000,
        read: feed.stats.read - readAtMark,
        skipped: feed.stats.skippedByKey - skippedAtMark,
        delivered,
      });
    }
    if (msg === 'exit') void feed.stop().then(() => process.exit(0));
  });
  process.send!({ ready: true });
}

async function runMode(mode: Mode, g: number, rate: number, seconds: number, orders: number, followed: number) {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = benchKafka(loadConfig().kafkaBrokers, 'fanout-bench');
  const topic = `bench-fanout-${crypto.randomUUID().slice(0, 8)}`;
  await createTopic(kafka, topic, 3);
  const kids: ChildProcess[] = [];
  const replies = new Map<ChildProcess, FromChild[]>();
  const next = (c: ChildProcess): Promise<FromChild> =>
    new Promise((resolve) => c.once('message', (m: FromChild) => resolve(m)));
  try {
    for (let i = 0; i < g; i++) {
      const c = fork(__filename, ['--child', topic, mode, String(i), String(g), String(orders), String(followed)], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      });
      kids.push(c);
      replies.set(c, []);
    }
    await Promise.all(kids.map((c) => next(c)));
    const producer = kafka.producer();
    await producer.connect();
    // Warm-up: the feeds start at the end of the topic; a second of traffic settles their fetches.
    // Each order's events are numbered 1, 2, 3, ... as the workflow numbers them.
    const seqs = new Array<number>(orders).fill(0);
    const event = (n: number) => {
      const o = n % orders;
      const orderId = `fan-${o}`;
      seqs[o] += 1;
      return {
        key: orderId,
        value: JSON.stringify({ orderId, status: 'CHARGING', seq: seqs[o], at: Date.now(), schemaVersion: 1 }),
      };
    };
    const snap = () =>
      Promise.all(
        kids.map((c) => {
          const p = next(c);
          c.send('snap');
          return p;
        }),
      ) as Promise<Array<Extract<FromChild, { cpuMs: number }>>>;
    await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => event(i)) });
    await sleep(2_000);
    // Idle window: what a gateway's feed costs with no traffic (fetch polling), subtracted below.
    for (const c of kids) c.send('mark');
    const idleStarted = Date.now();
    await sleep(5_000);
    const idle = await snap();
    const idleMsPerSec = idle.reduce((a, r) => a + r.cpuMs, 0) / g / ((Date.now() - idleStarted) / 1000);
    for (const c of kids) c.send('mark');
    const load1 = os.loadavg()[0];
    const started = Date.now();
    let sent = 0;
    const batch = Math.max(1, Math.round(rate / 20));
    while (Date.now() - started < seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      if (sent < due) {
        const n = Math.min(batch, due - sent);
        await producer.send({ topic, messages: Array.from({ length: n }, (_, i) => event(sent + i)) });
        sent += n;
      } else await sleep(10);
    }
    const elapsed = (Date.now() - started) / 1000;
    await sleep(2_000); // let the feeds read the tail
    await producer.disconnect();
    const reports = await snap();
    for (const c of kids) c.send('exit');
    const cpuMs = reports.map((r) => r.cpuMs);
    const meanCpuMs = cpuMs.reduce((a, b) => a + b, 0) / g;
    // Per event: the CPU above the idle feed's, over the events each gateway read.
    const windowSecs = elapsed + 2;
    const perK = ((meanCpuMs - idleMsPerSec * windowSecs) / sent) * 1000;
    return {
      mode,
      gateways: g,
      eventsPerSec: Math.round(sent / elapsed),
      cpuPctPerGateway: cpuMs.map((ms) => Math.round((ms / 1000 / elapsed) * 1000) / 10),
      idleCpuPct: Math.round(idleMsPerSec) / 10,
      cpuMsPer1000Events: Math.round(perK * 10) / 10,
      eventsPerSecPerCore: Math.round(1_000_000 / perK),
      skippedShare: reports.map((r) => Math.round((r.skipped / Math.max(1, r.read)) * 100) / 100),
      delivered: reports.reduce((a, r) => a + r.delivered, 0),
      load1: Math.round(load1 * 100) / 100,
      load1End: Math.round(os.loadavg()[0] * 100) / 100,
    };
  } finally {
    for (const c of kids) if (c.exitCode === null) c.kill('SIGKILL');
    await deleteTopics(kafka, [topic]);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [topic, mode, index, g, orders, followed] = process.argv.slice(3);
    await child(topic, mode as Mode, Number(index), Number(g), Number(orders), Number(followed));
    return;
  }
  const g = arg('gateways', 4);
  const rate = arg('rate', 2000);
  const seconds = arg('seconds', 15);
  const orders = arg('orders', 2000);
  // How many of the orders some client follows (default all, spread over the gateways; 0 = none).
  const fi = process.argv.indexOf('--followed');
  const followed = fi >= 0 ? Number(process.argv[fi + 1]) : orders;
  console.log(
    `status fan-out: ${g} gateways, ${rate} events/s for ${seconds}s over ${orders} orders, ${os.cpus().length} cores`,
  );
  for (const mode of ['parse-all', 'key-filter'] as const)
    console.log(JSON.stringify(await runMode(mode, g, rate, seconds, orders, followed)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
