/** The bench's command line: options, their defaults, and what --quick changes. */
import { Command, InvalidArgumentError } from 'commander';
import { KINDS, SelKind } from './plan';

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
  bridgePort: number;
  idleConnections: number;
  fanoutRates: number[];
  fanoutSeconds: number;
  fanoutGateways: number;
  idleHold: number;
  sampleMs: number;
  out: string;
  chart?: string;
  baseline?: string;
  progress: boolean;
  allowShared?: boolean;
}

const program = new Command()
  .name('bench')
  .description('Benchmark the order pipeline against the engine ceilings, raw Kafka and a seed-style consumer')
  .option('--orders <n>', 'orders (messages) per configuration at step delay 0', int, 1200)
  .option(
    '--slow-delay <ms>',
    "the seed's own step delay (STEP_DELAY_MS) for the steady-state configurations",
    int,
    2000,
  )
  .option('--slow-orders <n>', 'orders for the configurations at --slow-delay', int, 1200)
  .option('--connections <n>', 'WebSocket connections (and concurrent sends for raw Kafka)', int, 20)
  .option('--rate <n>', 'offered orders/s for the fixed-rate pipeline configuration', int, 300)
  .option(
    '--quick',
    'a quick check: 200 orders over 5 connections unless given, short caps, 500 idle connections, fan-out at 1 000/s for 5 s, chart into the results dir',
  )
  .option('--only <kinds>', `comma list of configuration kinds to run: ${KINDS.join(', ')}`)
  .option('--no-stock', 'skip the ceilings against a second dev server at stock settings')
  .option('--seed-seconds <s>', 'time cap for the seed-style consumer', int, 30)
  .option('--drain-timeout <s>', 'time cap of one configuration once its load is offered', int, 180)
  .option(
    '--budget <s>',
    'time budget of the whole run: later configurations get shorter caps, or are skipped, to stay within it',
    int,
    1380,
  )
  .option('--stall-timeout <s>', 'give up on a configuration when no workflow closed for this long', int, 60)
  .option('--gateway-port <n>', 'GATEWAY_PORT for the bench gateway', int, 3100)
  .option('--bridge-port <n>', 'BRIDGE_HEALTH_PORT for the bench bridge', int, 3101)
  .option('--idle-connections <n>', 'idle WebSocket connections for the gateway RSS check (kind "idle")', int, 5000)
  .option('--idle-hold <s>', 'seconds to hold the idle connections open', int, 10)
  .option(
    '--fanout-rates <list>',
    'status events/s offered in the fanout configurations (comma list)',
    (v: string) => v.split(',').map((x) => int(x.trim())),
    [500, 2000],
  )
  .option('--fanout-seconds <s>', 'publishing window of one fanout configuration', int, 10)
  .option('--fanout-gateways <n>', 'gateways (status feeds) in the fanout configurations', int, 4)
  .option('--sample-ms <n>', 'CPU/RSS sampling interval', int, 500)
  .option('--out <dir>', 'where the JSON result goes', 'bench-results')
  .option('--chart <file>', 'PNG chart (default docs/bench.png; with --quick, next to the JSON)')
  .option('--baseline <json>', "an earlier run's bench-results JSON: print the per-order cost before -> after")
  .option('--no-progress', 'no progress bars')
  .option('--allow-shared', 'run even if another bridge is consuming as group order-bridge');

/** Parses argv; --quick shrinks every default the user did not set. */
export function parseOptions(argv = process.argv): { opts: Opts; kinds: Set<SelKind> } {
  program.parse(argv);
  const opts = program.opts<Opts>();
  if (opts.quick) {
    const quick: Partial<Record<keyof Opts, number>> = {
      orders: 200,
      slowOrders: 200,
      connections: 5,
      seedSeconds: 10,
      drainTimeout: 120,
      budget: 600,
      stallTimeout: 30,
      idleConnections: 500,
      idleHold: 3,
      fanoutSeconds: 5,
    };
    for (const [key, value] of Object.entries(quick)) {
      if (program.getOptionValueSource(key) === 'default') (opts as unknown as Record<string, number>)[key] = value;
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
      : KINDS,
  );
  return { opts, kinds };
}
