/**
 * Gateway entry: WebSocket + page + /healthz on GATEWAY_PORT (3000). Produces orders to Kafka,
 * follows order-status for live updates, and asks Temporal for look-ups and cancels.
 */
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { kafkaReady } from '../common/health';
import { OrderLookup } from './order-lookup';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';
import { StatusFeed } from './status-feed';

const SHUTDOWN_GRACE_MS = 25_000;

async function run(): Promise<void> {
  const config = loadConfig();
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
  });
  const feed = new StatusFeed(kafka, (event) => gateway.deliverStatus(event));
  const shutdown = async (signal: string): Promise<void> => {
    // Bounded: whatever has not drained by then is abandoned (Kafka redelivers; clients resend).
    setTimeout(() => {
      console.error(`[gateway] drain took longer than ${SHUTDOWN_GRACE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    console.log(`[gateway] ${signal}: draining`);
    await gateway.close();
    await Promise.allSettled([producer.disconnect(), feed.stop(), connection.close()]);
    process.exit(0);
  };
  // Handlers first: a signal during start-up must still drain, not kill the process mid-request.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(sig));
  await feed.start();
  console.log('[gateway] ready: following order-status');
}

run().catch((err: unknown) => {
  console.error('[gateway] fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
