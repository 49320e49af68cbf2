/**
 * One status fan-out measurement (the core of `npm run bench:fanout` and of the bench's `fanout`
 * configurations): G gateway processes each run the gateway's real StatusFeed into the real
 * Subscriptions; each gateway's clients follow 1/G of the orders (order o is followed at gateway
 * o mod G, as with a load balancer in front). This process publishes status events at a fixed rate
 * on a fresh topic of the shared Kafka (G + 1 partitions) and reads each gateway's CPU time
 * (process.cpuUsage over IPC) over the publishing window, less the idle feed's (fetch polling).
 *
 * Modes: `parse-all` (no key filter: every event parsed and validated), `key-filter` (events keyed by
 * orderId, those for orders nobody here follows dropped before parsing), `partition-routed` (the
 * product's partition routing, gateway/status-routing.ts: gateway i has home partition i, the orders
 * its clients follow were placed there, so each event goes to the partition of the gateway whose
 * clients follow its order and a gateway fetches only its home partition). With `followed: 'none'` no client follows anything: the CPU is then what a
 * gateway pays for events it has no subscriber for (routed: all events go to the extra partition no
 * gateway reads, as another gateway's would).
 */
import { ChildProcess, fork } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { loadConfig } from '../../common/config';
import { StatusEvent } from '../../common/status';
import { StatusFeed } from '../../gateway/status-feed';
import { StatusRouting } from '../../gateway/status-routing';
import { Subscriber, Subscriptions } from '../../gateway/subscriptions';
import { benchKafka, createTopic, deleteTopics } from './kafka-util';
import { sleep } from '../infra/proc';

export type FanoutMode = 'parse-all' | 'key-filter' | 'partition-routed';
export const FANOUT_MODES: readonly FanoutMode[] = ['parse-all', 'key-filter', 'partition-routed'];

export interface FanoutSpec {
  mode: FanoutMode;
  gateways: number;
  /** Events/s offered, for `seconds`. */
  rate: number;
  seconds: number;
  /** Distinct orders the events are spread over. */
  orders: number;
  /** 'spread': every order is followed at one gateway; 'none': no client follows anything. */
  followed: 'spread' | 'none';
}

export interface FanoutResult extends FanoutSpec {
  eventsPerSec: number;
  cpuPctPerGateway: number[];
  idleCpuPct: number;
  /** Mean CPU ms per gateway per 1 000 events published (all gateways' events), idle polling subtracted. */
  cpuMsPer1000Events: number;
  /** Published events/s one gateway core could keep up with at that cost. */
  eventsPerSecPerCore: number | null;
  /** Events each gateway's feed read (fetched and decoded), summed. */
  read: number;
  delivered: number;
  loadAvg: { start: number; end: number };
}

type FromChild = { ready: true } | { cpuMs: number; read: number; delivered: number };

/** One gateway's status path (runs in a child process): StatusFeed -> Subscriptions. */
export async function fanoutChild(argv: string[]): Promise<void> {
  const [topic, mode, indexArg, gArg, ordersArg, followed] = argv;
  const [index, g, orders] = [Number(indexArg), Number(gArg), Number(ordersArg)];
  const kafka = benchKafka(loadConfig().kafkaBrokers, `fanout-${index}`);
  const routed = mode === 'partition-routed';
  const feed = new StatusFeed(kafka, { topic, log: () => undefined, partitions: routed ? [index] : undefined });
  // Routed: the gateway's own StatusRouting, told by Subscriptions what is followed (orders placed here).
  const routing = routed
    ? new StatusRouting({
        home: index,
        partitionCount: g + 1,
        fetcher: feed,
        lookup: async (id) => ({ exists: true, statusPartition: Number(id.slice('fan-'.length)) % g }),
      })
    : undefined;
  const subs = new Subscriptions(async () => undefined, {
    onFollow: routing && ((id, partition) => routing.follow(id, partition)),
    onUnfollow: routing && ((id) => routing.unfollow(id)),
  });
  let delivered = 0;
  const subscriber: Subscriber = { sendStatus: () => void (delivered += 1) };
  if (followed === 'spread')
    for (let o = index; o < orders; o += g)
      subs.subscribe(subscriber, `fan-${o}`, 1, false, routed ? index : undefined);
  await feed.start({
    deliverStatus: (e: StatusEvent) => subs.onEvent(e),
    ...(mode === 'parse-all' ? {} : { followsOrder: (id: string) => subs.follows(id) }),
  });
  let mark = process.cpuUsage();
  let readAtMark = 0;
  process.on('message', (msg: string) => {
    if (msg === 'mark') {
      mark = process.cpuUsage();
      readAtMark = feed.stats.read;
    }
    if (msg === 'snap') {
      const d = process.cpuUsage(mark);
      process.send!({ cpuMs: (d.user + d.system) / 1000, read: feed.stats.read - readAtMark, delivered });
    }
    if (msg === 'exit') void feed.stop().then(() => process.exit(0));
  });
  process.send!({ ready: true });
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export async function runFanout(spec: FanoutSpec, entry: string): Promise<FanoutResult> {
  const { mode, gateways: g, rate, seconds, orders, followed } = spec;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = benchKafka(loadConfig().kafkaBrokers, 'fanout-bench');
  const topic = `bench-fanout-${crypto.randomUUID().slice(0, 8)}`;
  await createTopic(kafka, topic, g + 1);
  const kids: ChildProcess[] = [];
  const next = (c: ChildProcess): Promise<FromChild> =>
    new Promise((resolve) => c.once('message', (m: FromChild) => resolve(m)));
  try {
    for (let i = 0; i < g; i++)
      kids.push(
        fork(entry, ['--child', topic, mode, String(i), String(g), String(orders), followed], {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
        }),
      );
    await Promise.all(kids.map((c) => next(c)));
    const producer = kafka.producer();
    await producer.connect();
    // Each order's events are numbered 1, 2, 3, ... as the workflow numbers them. Routed: to the
    // partition of the gateway following the order (or, followed by none, to the one nobody reads).
    const seqs = new Array<number>(orders).fill(0);
    const event = (n: number) => {
      const o = n % orders;
      const orderId = `fan-${o}`;
      seqs[o] += 1;
      const value = JSON.stringify({ orderId, status: 'CHARGING', seq: seqs[o], at: Date.now(), schemaVersion: 1 });
      if (mode !== 'partition-routed') return { key: orderId, value };
      return { key: orderId, value, partition: followed === 'spread' ? o % g : g };
    };
    const snap = () =>
      Promise.all(
        kids.map((c) => {
          const p = next(c);
          c.send('snap');
          return p;
        }),
      ) as Promise<Array<Extract<FromChild, { cpuMs: number }>>>;
    // Warm-up: the feeds start at the end of the topic; a second of traffic settles their fetches.
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
    const windowSecs = (Date.now() - started) / 1000;
    for (const c of kids) c.send('exit');
    const meanCpuMs = reports.reduce((a, r) => a + r.cpuMs, 0) / g;
    const perK = ((meanCpuMs - idleMsPerSec * windowSecs) / Math.max(1, sent)) * 1000;
    return {
      ...spec,
      eventsPerSec: Math.round(sent / elapsed),
      cpuPctPerGateway: reports.map((r) => round1((r.cpuMs / 1000 / windowSecs) * 100)),
      idleCpuPct: round1(idleMsPerSec / 10),
      cpuMsPer1000Events: round1(perK),
      // At or below the idle feed's cost: too small to tell apart from polling in this window.
      eventsPerSecPerCore: perK > 0.05 ? Math.round(1_000_000 / perK) : null,
      read: reports.reduce((a, r) => a + r.read, 0),
      delivered: reports.reduce((a, r) => a + r.delivered, 0),
      loadAvg: { start: Math.round(load1 * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 },
    };
  } finally {
    for (const c of kids) if (c.exitCode === null) c.kill('SIGKILL');
    await deleteTopics(kafka, [topic]);
  }
}
