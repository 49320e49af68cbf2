/**
 * The order history's process: reads order-placement and order-status into PostgreSQL
 * (history/consumer.ts) so that `listOrders` answers from the log, whatever the bridge and Temporal
 * are doing. One instance is enough (each batch is one small transaction); a second one in the same
 * group shares the partitions, and both write the same rows the same way.
 */
import { loadConfig } from '../common/config';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { drainOnSignal } from '../common/shutdown';
import { startProjection } from './consumer';
import { migrate, openHistoryDb } from './store';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  log = initLogger('history', { level: config.logLevel, format: config.logFormat });
  const db = openHistoryDb(config.historyDatabaseUrl, 5, (err) =>
    log.warn({ err }, `history database connection lost: ${err.message}`),
  );
  await migrate(db);
  const projection = await startProjection({
    kafka: kafkaClient(config, 'order-history'),
    db,
    groupId: config.historyGroupId,
    log: (line) => log.warn(line),
  });
  log.info({ groupId: config.historyGroupId }, 'history reading order-placement and order-status');
  drainOnSignal(log, 'finishing the batch in hand', async () => {
    await projection.stop();
    await db.destroy();
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, `history failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
