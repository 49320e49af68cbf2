/**
 * `npm run history:rebuild`: empties the order history and reads it again from the topics, up to
 * where they end when the command starts, then exits. Rows come only from the log, so the rebuilt
 * history equals the one kept live (for what the topics still retain). A history process running
 * meanwhile is harmless: both apply the same events, and applying an event twice changes nothing.
 */
import { Command } from 'commander';
import { erasureCheckOf, keyStoreOpener } from '../common/codec';
import { loadConfig } from '../common/config';
import { kafkaClient } from '../common/connections';
import { startProjection } from './consumer';
import { clearHistory, migrate, openHistoryDb } from './store';

async function main(): Promise<void> {
  const program = new Command()
    .name('history:rebuild')
    .description('empty the order history and read it again from order-placement and order-status')
    .option('--timeout <seconds>', 'give up after this long', (v) => Number(v), 600)
    .parse();
  const { timeout } = program.opts<{ timeout: number }>();
  if (!Number.isFinite(timeout) || timeout <= 0) {
    console.error('--timeout must be a number of seconds above 0');
    process.exit(2);
  }
  const config = loadConfig();
  const db = openHistoryDb(config.historyDatabaseUrl);
  try {
    await migrate(db);
    await clearHistory(db);
    const started = Date.now();
    const projection = await startProjection({
      kafka: kafkaClient(config, 'order-history-rebuild'),
      db,
      groupId: `${config.historyGroupId}-rebuild-${started}`,
      log: (line) => console.error(line),
      // Customers erased since their orders were placed stay out of the rebuilt history.
      erasedAt: erasureCheckOf(config.payloadEncryption),
      keyStore: keyStoreOpener(config.payloadEncryption),
    });
    const progress = setInterval(() => {
      void db
        .selectFrom('orders')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst()
        .then((r) => console.error(`… ${r?.n ?? 0} orders so far (${((Date.now() - started) / 1000).toFixed(0)} s)`));
    }, 2_000);
    try {
      const done = projection.caughtUp();
      const timedOut = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeout * 1000).unref());
      if ((await Promise.race([done, timedOut])) === 'timeout')
        throw new Error(`not caught up after ${timeout} s; run it again (it starts from the beginning)`);
    } finally {
      clearInterval(progress);
      await projection.stop();
    }
    const count = await db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    console.log(`order history rebuilt: ${count.n} orders in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`history:rebuild failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
