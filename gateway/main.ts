/**
 * Gateway entry: WebSocket (raw and Socket.IO) + page + probes + /metrics on GATEWAY_PORT (3000).
 * Produces orders to Kafka, follows order-status for live updates, and asks Temporal for look-ups
 * and cancels.
 */
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { TOPICS } from '../common/names';
import { kafkaProbe, probeRoutes } from '../common/probes';
import { drainOnSignal } from '../common/shutdown';
import { initTracing, SERVICE_NAMES, shutdownTracing } from '../common/tracing';
import { authenticatorFor } from './auth';
import { GatewayMetrics, meteredProducer, metricsObserver } from './metrics';
import { OrderLookup } from './order-lookup';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';
import { StatusFeed } from './status-feed';
import { checkStatusPartition, StatusRouting } from './status-routing';

let log: Logger = logger();

async function run(): Promise<void> {
  const config = loadConfig();
  initTracing(SERVICE_NAMES.gateway);
  log = initLogger('gateway', { level: config.logLevel, format: config.logFormat });
  const warn = (line: string): void => log.warn(line);
  const kafka = kafkaClient(config, 'order-gateway');
  const producer = new OrderProducer(kafka);
  await producer.connect();
  const { client, connection } = temporalClient(config);
  const orders = new OrderLookup(client);
  // Readiness from one long-lived admin client, checked every second (not a connection per probe).
  const kafkaCheck = kafkaProbe(kafka);
  await kafkaCheck.start();
  const ready = { feedJoined: false, draining: false };
  const metrics = new GatewayMetrics();

  // Partition routing (GATEWAY_STATUS_PARTITION): the feed fetches the home partition, and others only while needed.
  const home = config.gatewayStatusPartition;
  const feed = new StatusFeed(kafka, { log: warn, ...(home === undefined ? {} : { partitions: [home] }) });
  const routing =
    home === undefined
      ? undefined
      : new StatusRouting({
          home,
          partitionCount: await checkStatusPartition(kafka, TOPICS.orderStatus, home),
          fetcher: feed,
          lookup: (workflowId, charge) => orders.routed(workflowId, charge),
          log: warn,
        });

  const gateway = await startGateway({
    port: config.gatewayPort,
    host: config.gatewayHost,
    producer: meteredProducer(producer, metrics),
    kafkaHealthy: async () => kafkaCheck.ok,
    orders,
    routing,
    auth: authenticatorFor(config.gatewayAuth),
    allowedOrigins: config.gatewayAllowedOrigins,
    allowedHosts: config.gatewayAllowedHosts,
    limits: config.gatewayLimits,
    temporalUi: { url: config.temporalUiUrl, namespace: config.temporalNamespace },
    traceUrlTemplate: config.traceUrlTemplate,
    routes: probeRoutes({
      registry: metrics.registry,
      checks: [
        { name: 'kafka', ok: () => kafkaCheck.ok, detail: () => kafkaCheck.error },
        { name: 'statusFeed', ok: () => ready.feedJoined, detail: () => 'not in its consumer group yet' },
        { name: 'accepting', ok: () => !ready.draining, detail: () => 'draining' },
      ],
    }),
    observer: metricsObserver(metrics, warn),
    log: (line) => log.info(line),
  });
  // Installed before the feed starts: a signal during start-up must still drain.
  drainOnSignal(log, 'draining', async () => {
    ready.draining = true;
    await gateway.close();
    await Promise.allSettled([producer.disconnect(), feed.stop(), connection.close(), kafkaCheck.disconnect()]);
    await shutdownTracing();
  });
  await feed.start(gateway);
  ready.feedJoined = true;
  log.info(`ready: following order-status${home === undefined ? '' : ` (home partition ${home}, partition routing)`}`);
}

run().catch((err: unknown) => {
  log.fatal({ err }, `gateway failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
