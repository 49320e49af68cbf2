/** Gateway entry: WebSocket + /healthz on GATEWAY_PORT (3000), producing to Kafka. */
import { loadConfig } from '../common/config';
import { kafkaClient } from '../common/connections';
import { kafkaReady } from '../common/health';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';

async function run(): Promise<void> {
  const config = loadConfig();
  const producer = new OrderProducer(kafkaClient(config, 'order-gateway'));
  await producer.connect();
  const gateway = await startGateway({
    port: config.gatewayPort,
    host: process.env.GATEWAY_HOST ?? '127.0.0.1',
    producer,
    kafkaHealthy: () => kafkaReady(config.kafkaBrokers),
  });
  const shutdown = async (signal: string): Promise<void> => {
    console.log(`[gateway] ${signal}: draining`);
    await gateway.close();
    await producer.disconnect();
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(sig));
}

run().catch((err: unknown) => {
  console.error('[gateway] fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
