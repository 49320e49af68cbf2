/**
 * Status fan-out bench (`npm run bench:fanout [-- --gateways 4 --rate 2000 --seconds 15 --orders 2000 --followed none]`):
 * what a gateway pays for the order-status stream, in each mode of tools/bench/fanout-run.ts
 * (parse-all, key-filter, partition-routed), one JSON line per mode. `npm run bench` runs the same
 * measurement as its `fanout` configurations (tools/bench/fanout-step.ts).
 */
import * as os from 'node:os';
import { FANOUT_MODES, fanoutChild, runFanout } from './fanout-run';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return fanoutChild(process.argv.slice(3));
  const gateways = arg('gateways', 4);
  const rate = arg('rate', 2000);
  const seconds = arg('seconds', 15);
  const orders = arg('orders', 2000);
  const fi = process.argv.indexOf('--followed');
  const followed = fi >= 0 ? process.argv[fi + 1] : 'spread';
  if (followed !== 'spread' && followed !== 'none') throw new Error('--followed must be spread or none');
  console.log(
    `status fan-out: ${gateways} gateways, ${rate} events/s for ${seconds}s over ${orders} orders, followed ${followed}, ${os.cpus().length} cores`,
  );
  for (const mode of FANOUT_MODES)
    console.log(JSON.stringify(await runFanout({ mode, gateways, rate, seconds, orders, followed }, __filename)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
