/** Stops the servers that global setup started (servers that were already running are left alone). */
import { stop } from '../tools/infra/launcher';

export default async function globalTeardown(): Promise<void> {
  const started = (process.env.ORDERS_TEST_STARTED_SERVERS ?? '').split(',').filter(Boolean) as Array<
    'kafka' | 'temporal'
  >;
  if (started.length && !process.env.KEEP_INFRA) await stop(started);
}
