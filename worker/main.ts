/**
 * Worker entry: runs processOrder and its activities on task queue "orders" against the simulated
 * providers. SIGINT/SIGTERM make the SDK stop polling, let running tasks finish, and exit.
 */
import { NativeConnection } from '@temporalio/worker';
import { simulatedProviders } from '../activities/simulated';
import { KafkaStatusPublisher } from '../activities/status-publisher';
import { loadConfig, TASK_QUEUE } from '../common/config';
import { kafkaClient } from '../common/connections';
import { installCompactLogger } from './logging';
import { createOrderWorker } from './worker';

async function run(): Promise<void> {
  installCompactLogger();
  const config = loadConfig();
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
    console.log(`[worker] polling task queue "${TASK_QUEUE}" at ${config.temporalAddress}; payment ledger ${settings.ledgerFile}`);
    await worker.run();
  } finally {
    await statusPublisher.disconnect();
    await connection.close();
  }
}

run().catch((err: unknown) => {
  console.error('[worker] fatal:', err);
  process.exit(1);
});
