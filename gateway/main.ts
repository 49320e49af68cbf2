/**
 * Gateway entry: WebSocket + page + /healthz on GATEWAY_PORT (3000). Produces orders to Kafka,
 * follows order-status for live updates, and asks Temporal for look-ups and cancels.
 */
import { infraPorts, loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { kafkaReady } from '../common/health';
import { drainOnSignal } from '../common/shutdown';
import { authenticatorFor, authSettingsFromEnv } from './auth';
import { OrderLookup } from './order-lookup';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';
import { StatusFeed } from './status-feed';

async function main(): Promise<void> {
  const config = loadConfig();
  const kafka = kafkaClient(config, 'order-gateway');
  const producer = new OrderProducer(kafka);
  await producer.connect();
  const { client, connection } = await temporalClient(config);
  const gateway = await startGateway({
    port: config.gatewayPort,
    host: process.env.GATEWAY_HOST ?? '127.0.0.1',
    producer,
    kafkaHealthy: () => kafkaReady(config.kafkaBrokers),
    orders: new OrderLookup(client),
    auth: authenticatorFor(authSettingsFromEnv()),
    allowedOrigins: process.env.GATEWAY_ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    temporalUi: { url: process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${infraPorts().temporalUi}`, namespace: config.temporalNamespace },
  });
  const feed = new StatusFeed(kafka, (event) => gateway.deliverStatus(event));
  // Installed before the feed starts: a signal during start-up must still drain.
  drainOnSignal('gateway', 'draining', async () => {
    await gateway.close();
    await Promise.allSettled([producer.disconnect(), feed.stop(), connection.close()]);
  });
  await feed.start();
  console.log('[gateway] ready: following order-status');
}

main().catch((err: unknown) => {
  console.error('[gateway] fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
