/**
 * Worker entry: runs processOrder and its activities on task queue "orders" against the simulated
 * providers. SIGINT/SIGTERM make the SDK stop polling, let running tasks finish, and exit.
 */
import { NativeConnection } from '@temporalio/worker';
import { simulatedProviders } from '../activities/simulated';
import { KafkaStatusPublisher } from '../activities/status-publisher';
import { loadConfig, TASK_QUEUE } from '../common/config';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { installRuntime } from './runtime';
import { createOrderWorker } from './worker';

let log: Logger = logger();

async function run(): Promise<void> {
  const config = loadConfig();
  log = initLogger('worker', { level: config.logLevel, format: config.logFormat });
  installRuntime({ logLevel: config.logLevel });
  const settings = config.simulation;
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const statusPublisher = new KafkaStatusPublisher(kafkaClient(config, 'order-worker'));
  try {
    const worker = await createOrderWorker({
      connection,
      namespace: config.temporalNamespace,
      providers: simulatedProviders(settings),
      statusPublisher,
    });
    log.info({ taskQueue: TASK_QUEUE, temporal: config.temporalAddress, ledger: settings.ledgerFile }, `polling task queue "${TASK_QUEUE}"`);
    await worker.run();
  } finally {
    await statusPublisher.disconnect();
    await connection.close();
  }
}

run().catch((err: unknown) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
