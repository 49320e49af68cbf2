/** The bench's command line: options, their defaults, and what --quick changes. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { KINDS, ON_REQUEST_KINDS, SelKind } from './plan';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

export interface Opts {
  orders: number;
  slowOrders: number;
  slowDelay: number;
  connections: number;
  rate: number;
  quick?: boolean;
  only?: string;
  stock: boolean;
  seedSeconds: number;
  drainTimeout: number;
  budget: number;
  stallTimeout: number;
  gatewayPort: number;
  gatewayHealthPort: number;
  bridgePort: number;
  idleConnections: number;
  fanoutRates: number[];
  fanoutSeconds: number;
  fanoutGateways: number;
  floodConnections: number;
  floodLookups: number;
  lookupsRate: number;
  historyOrders: number;
  historyQueries: number;
  historyFeed: number;
  historyLiveOrders: number;
  historyLiveRate: number;
  historyListedOrders: number;
  historyListedRate: number;
  idleHold: number;
  sampleMs: number;
  out: string;
  chart?: string;
  baseline?: string;
  progress: boolean;
  allowShared?: boolean;
}

/** The whole-number options: flag, help, default, and the smaller default of a --quick run. */
const NUMBER_OPTIONS: Array<[flag: string, help: string, fallback: number, quick?: number]> = [
  ['--orders <n>', 'orders (messages) per configuration at step delay 0', 1200, 200],
  ['--slow-delay <ms>', "the seed's own step delay (STEP_DELAY_MS) for the steady-state configurations", 2000],
  ['--slow-orders <n>', 'orders for the configurations at --slow-delay', 1200, 200],
  ['--connections <n>', 'WebSocket connections (and concurrent sends for raw Kafka)', 20, 5],
  ['--rate <n>', 'offered orders/s for the fixed-rate pipeline configuration', 300],
  ['--seed-seconds <s>', 'time cap for the seed-style consumer', 30, 10],
  ['--drain-timeout <s>', 'time cap of one configuration once its load is offered', 180, 120],
  [
    '--budget <s>',
    'time budget of the whole run: later configurations get shorter caps, or are skipped, to stay within it',
    1380,
    600,
  ],
  ['--stall-timeout <s>', 'give up on a configuration when no workflow closed for this long', 60, 30],
  ['--gateway-port <n>', 'GATEWAY_PORT for the bench gateway', 3100],
  ['--bridge-port <n>', 'BRIDGE_HEALTH_PORT for the bench bridge', 3101],
  ['--gateway-health-port <n>', 'GATEWAY_HEALTH_PORT for the bench gateway (its /healthz)', 3102],
  ['--idle-connections <n>', 'idle WebSocket connections for the gateway RSS check (kind "idle")', 5000, 500],
  ['--idle-hold <s>', 'seconds to hold the idle connections open', 10, 3],
  ['--fanout-seconds <s>', 'publishing window of one fanout configuration', 10, 5],
  ['--fanout-gateways <n>', 'gateways (status feeds) in the fanout configurations', 4],
  ['--flood-connections <n>', 'connections of the look-up flood (kind "lookups")', 4],
  ['--flood-lookups <n>', 'look-ups the flood sends at most, over all its connections (kind "lookups")', 60000, 10000],
  ['--lookups-rate <n>', 'offered orders/s of the customer beside the flood (kind "lookups")', 50],
  ['--history-orders <n>', 'orders of the one customer whose list the history configuration reads', 10_000, 2_000],
  ['--history-queries <n>', 'listOrders queries of each kind (first page, deep page) on each path', 500, 100],
  ['--history-feed <n>', 'orders whose events (ORDER_PLACED + 8 statuses) are fed to the history process', 2_000, 300],
  ['--history-live-orders <n>', 'orders fed to the history process afterwards as a live stream (0: none)', 300, 100],
  ['--history-live-rate <n>', 'orders/s of that live stream', 20],
  [
    '--history-listed-orders <n>',
    'orders placed through a gateway for accepted → listed, no bridge or worker running (0: not measured)',
    200,
    100,
  ],
  ['--history-listed-rate <n>', 'orders/s offered for accepted → listed', 20],
  ['--sample-ms <n>', 'CPU/RSS sampling interval', 500],
];

const program = new Command()
  .name('bench')
  .description('Benchmark the order pipeline against the engine ceilings, raw Kafka and a seed-style consumer')
  .option(
    '--quick',
    'a quick check: 200 orders over 5 connections unless given, short caps, 500 idle connections, fan-out at 1 000/s for 5 s, order history of 2 000 orders and 100 queries, chart into the results dir',
  )
  .option(
    '--only <kinds>',
    `comma list of configuration kinds to run: ${KINDS.join(', ')} (without --only: all but ${[...ON_REQUEST_KINDS].join(', ')})`,
  )
  .option('--no-stock', 'skip the ceilings against a second dev server at stock settings')
  .option(
    '--fanout-rates <list>',
    'status events/s offered in the fanout configurations (comma list)',
    (v: string) => v.split(',').map((x) => int(x.trim())),
    [500, 2000],
  )
  .option('--out <dir>', 'where the JSON result goes', 'bench-results')
  .option('--chart <file>', 'PNG chart (default docs/bench.png; with --quick, next to the JSON)')
  .option('--baseline <json>', "an earlier run's bench-results JSON: print the per-order cost before -> after")
  .option('--no-progress', 'no progress bars')
  .option('--allow-shared', 'run even if another bridge is consuming as group order-bridge');
for (const [flag, help, fallback] of NUMBER_OPTIONS) program.option(flag, help, int, fallback);

/** Parses argv; --quick shrinks every default the user did not set. */
export function parseOptions(argv = process.argv): { opts: Opts; kinds: Set<SelKind> } {
  program.parse(argv);
  const opts = program.opts<Opts>();
  if (opts.quick) {
    for (const [flag, , , quick] of NUMBER_OPTIONS) {
      const key = new Option(flag).attributeName();
      if (quick !== undefined && program.getOptionValueSource(key) === 'default')
        (opts as unknown as Record<string, number>)[key] = quick;
    }
    if (program.getOptionValueSource('fanoutRates') === 'default') opts.fanoutRates = [1000];
  }
  const kinds = new Set<SelKind>(
    opts.only
      ? opts.only.split(',').map((s) => {
          const k = s.trim() as SelKind;
          if (!KINDS.includes(k)) throw new InvalidArgumentError(`--only: unknown kind "${s}"`);
          return k;
        })
      : KINDS.filter((k) => !ON_REQUEST_KINDS.has(k)),
  );
  return { opts, kinds };
}
