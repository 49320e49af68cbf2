/**
 * Gateway entry: WebSocket + page + /healthz on GATEWAY_PORT (3000). Produces orders to Kafka,
 * follows order-status for live updates, and asks Temporal for look-ups and cancels.
 */
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { kafkaReady } from '../common/health';
import { initLogger, logger, type Logger } from '../common/logger';
import { OrderLookup } from './order-lookup';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';
import { StatusFeed } from './status-feed';

const SHUTDOWN_GRACE_MS = 25_000;
let log: Logger = logger();

async function run(): Promise<void> {
  const config = loadConfig();
  log = initLogger('gateway', { level: config.logLevel, format: config.logFormat });
  const kafka = kafkaClient(config, 'order-gateway');
  const producer = new OrderProducer(kafka);
  await producer.connect();
  const { client, connection } = await temporalClient(config);
  const gateway = await startGateway({
    port: config.gatewayPort,
    host: config.gatewayHost,
    producer,
    kafkaHealthy: () => kafkaReady(config.kafkaBrokers),
    orders: new OrderLookup(client),
    authToken: config.gatewayAuthToken,
    allowedOrigins: config.gatewayAllowedOrigins,
    temporalUi: { url: config.temporalUiUrl, namespace: config.temporalNamespace },
    log: (line) => log.info(line),
  });
  const feed = new StatusFeed(kafka, (event) => gateway.deliverStatus(event), undefined, (line) => log.warn(line));
  const shutdown = async (signal: string): Promise<void> => {
    // Bounded: whatever has not drained by then is abandoned (Kafka redelivers; clients resend).
    setTimeout(() => {
      log.error(`drain took longer than ${SHUTDOWN_GRACE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    log.info(`${signal}: draining`);
    await gateway.close();
    await Promise.allSettled([producer.disconnect(), feed.stop(), connection.close()]);
    process.exit(0);
  };
  // Handlers first: a signal during start-up must still drain, not kill the process mid-request.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(sig));
  await feed.start();
  log.info('ready: following order-status');
}

run().catch((err: unknown) => {
  log.fatal({ err }, `gateway failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
