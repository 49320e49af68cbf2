/**
 * The order history's process: reads order-placement and order-status into PostgreSQL
 * (history/consumer.ts) so that `listOrders` answers from the log, whatever the bridge and Temporal
 * are doing. One instance is enough (each batch is one small transaction); a second one in the same
 * group shares the partitions, and both write the same rows the same way. With HISTORY_HEALTH_PORT
 * set, /livez, /readyz (ready once its consumer has joined its group) and /metrics on its admin
 * listener, started first so that probes answer while it migrates and connects.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startAdminListener, type AdminListener } from '../common/admin-listener';
import { erasureCheckOf, keyStoreOpener } from '../common/codec';
import { loadConfig } from '../common/config';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { drainOnSignal } from '../common/shutdown';
import { startProjection, type Projection } from './consumer';
import { migrate, openHistoryDb } from './store';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  log = initLogger('history', { level: config.logLevel, format: config.logFormat });
  // Read by /readyz from the start: the admin listener answers before the reader exists.
  let projection: Projection | undefined = undefined;
  let admin: AdminListener | undefined;
  if (config.historyHealthPort !== undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    admin = await startAdminListener({
      host: config.historyHealthHost,
      port: config.historyHealthPort,
      registry,
      checks: [{ name: 'consumer', ok: () => projection?.inGroup() ?? false }],
    });
    log.info(`admin on http://${config.historyHealthHost}:${admin.port} (/livez, /readyz, /metrics)`);
  }
  const db = openHistoryDb(config.historyDatabaseUrl, 5, (err) =>
    log.warn({ err }, `history database connection lost: ${err.message}`),
  );
  await migrate(db);
  projection = await startProjection({
    kafka: kafkaClient(config, 'order-history'),
    db,
    groupId: config.historyGroupId,
    log: (line) => log.warn(line),
    erasedAt: erasureCheckOf(config.payloadEncryption),
    keyStore: keyStoreOpener(config.payloadEncryption),
  });
  log.info({ groupId: config.historyGroupId }, 'history reading order-placement and order-status');
  const running = projection;
  drainOnSignal(log, 'finishing the batch in hand', async () => {
    await running.stop();
    await db.destroy();
    await admin?.close();
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, `history failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
