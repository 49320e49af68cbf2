/**
 * `npm run chaos [-- --orders N --scenario name ...]`: runs the crash matrix on an isolated stack
 * (its own Kafka and Temporal on other ports, data under os.tmpdir()) and prints one row per scenario.
 * Exit code 1 when any scenario fails its checks.
 */
import { Command, Option } from 'commander';
import {
  ALL_SCENARIOS,
  DEFAULT_OPTIONS,
  Fleet,
  formatTable,
  passed,
  runScenario,
  ScenarioName,
  ScenarioResult,
  SCENARIOS,
} from './harness';
import { IsolatedStack } from './isolated-stack';

interface Flags {
  orders: string;
  scenario?: ScenarioName[];
  connections: string;
  rate: string;
  outageMs: string;
  temporalOutageMs: string;
  keepData?: boolean;
}

const positiveInt = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
};

async function main(): Promise<void> {
  const program = new Command()
    .name('chaos')
    .description(
      'Crash matrix: SIGKILL one process or server partway through a stream of orders, restart it, check nothing was lost or duplicated.',
    )
    .option('-n, --orders <n>', 'orders per scenario', String(DEFAULT_OPTIONS.orders))
    .addOption(
      new Option('-s, --scenario <name...>', `scenarios to run (default: ${SCENARIOS.join(' ')})`).choices([
        ...ALL_SCENARIOS,
      ]),
    )
    .option('--connections <n>', 'WebSocket connections', String(DEFAULT_OPTIONS.connections))
    .option('--rate <n>', 'orders per second (first attempts)', String(DEFAULT_OPTIONS.rate))
    .option('--outage-ms <ms>', 'how long the killed Kafka broker stays down', String(DEFAULT_OPTIONS.outageMs))
    .option(
      '--temporal-outage-ms <ms>',
      'how long the killed Temporal server stays down',
      String(DEFAULT_OPTIONS.temporalOutageMs),
    )
    .option('--keep-data', "keep the isolated stack's data dir and logs");
  program.parse();
  const flags = program.opts<Flags>();
  const scenarios = flags.scenario?.length ? flags.scenario : [...SCENARIOS];
  const opts = {
    ...DEFAULT_OPTIONS,
    orders: positiveInt('orders', flags.orders),
    connections: positiveInt('connections', flags.connections),
    rate: positiveInt('rate', flags.rate),
    outageMs: positiveInt('outage-ms', flags.outageMs),
    temporalOutageMs: positiveInt('temporal-outage-ms', flags.temporalOutageMs),
    log: (line: string) => process.stderr.write(`[chaos] ${line}\n`),
  };

  const started = Date.now();
  const stack = await IsolatedStack.start({ keepData: flags.keepData });
  const fleet = new Fleet(stack);
  const stopOnSignal = (): void => {
    process.stderr.write('[chaos] interrupted: stopping the isolated stack\n');
    void fleet
      .stopAll()
      .finally(() => stack.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const results: ScenarioResult[] = [];
  try {
    for (const name of scenarios) {
      opts.log(`--- scenario ${name} ---`);
      const result = await runScenario(fleet, name, opts);
      results.push(result);
      opts.log(`[${name}] ${passed(result) ? 'ok' : 'FAILED'} in ${(result.wallMs / 1000).toFixed(1)}s`);
    }
  } finally {
    await fleet.stopAll();
    if (flags.keepData) opts.log(`data and logs kept in ${stack.workDir}`);
    await stack.stop();
  }

  console.log(
    `\nCrash matrix: N = ${opts.orders} orders per scenario, ${opts.connections} connections; wall time ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
  );
  console.log(formatTable(results));
  console.log('');
  for (const r of results) {
    console.log(`${r.scenario}: ${r.notes.join('; ')}`);
    for (const f of r.failures) console.log(`  FAILED: ${f}`);
  }
  if (!results.every(passed)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error('[chaos] fatal:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
