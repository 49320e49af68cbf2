/**
 * Gateway entry: WebSocket (raw and Socket.IO) + page + probes + /metrics on GATEWAY_PORT (3000).
 * Produces orders to Kafka, follows order-status for live updates, and asks Temporal for look-ups
 * and cancels.
 */
import { loadConfig, TOPICS } from '../common/config';
import type { StatusEvent } from '../common/status';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { kafkaProbe, probeRoutes } from '../common/probes';
import { drainOnSignal } from '../common/shutdown';
import { initTracing, SERVICE_NAMES, shutdownTracing } from '../common/tracing';
import { authenticatorFor } from './auth';
import { authFailureRecorder, GatewayMetrics, meteredProducer, refusalRecorder } from './metrics';
import { OrderLookup } from './order-lookup';
import { OrderProducer } from './order-producer';
import { startGateway } from './server';
import { StatusFeed } from './status-feed';
import { checkStatusPartition, StatusRouting } from './status-routing';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  initTracing(SERVICE_NAMES.gateway);
  log = initLogger('gateway', { level: config.logLevel, format: config.logFormat });
  const kafka = kafkaClient(config, 'order-gateway');
  const producer = new OrderProducer(kafka);
  await producer.connect();
  const { client, connection } = temporalClient(config);
  // Readiness from one long-lived admin client, checked every second (not a connection per probe).
  const kafkaCheck = kafkaProbe(kafka);
  await kafkaCheck.start();
  let feedJoined = false;
  let draining = false;
  const connections = { count: (): number => 0 };
  const metrics = new GatewayMetrics(() => connections.count());
  const routes = probeRoutes({
    registry: metrics.registry,
    checks: [
      { name: 'kafka', ok: () => kafkaCheck.ok, detail: () => kafkaCheck.error },
      { name: 'statusFeed', ok: () => feedJoined, detail: () => 'not in its consumer group yet' },
      { name: 'accepting', ok: () => !draining, detail: () => 'draining' },
    ],
  });
  const home = config.gatewayStatusPartition;
  // Partition routing (GATEWAY_STATUS_PARTITION): the feed fetches the home partition, and others only while needed.
  const partitionCount = home === undefined ? 0 : await checkStatusPartition(kafka, TOPICS.orderStatus, home);
  const sink = { deliver: (_event: StatusEvent): void => undefined, follows: (_orderId: string): boolean => true };
  const feed = new StatusFeed(kafka, (event) => sink.deliver(event), {
    log: (line) => log.warn(line),
    follows: (orderId) => sink.follows(orderId),
    ...(home === undefined ? {} : { partitions: [home] }),
  });
  const orders = new OrderLookup(client);
  const routing =
    home === undefined
      ? undefined
      : new StatusRouting({
          home,
          partitionCount,
          fetcher: feed,
          lookup: (orderId) => orders.routed(orderId),
          log: (line) => log.warn(line),
        });
  const gateway = await startGateway({
    routing,
    port: config.gatewayPort,
    host: config.gatewayHost,
    producer: meteredProducer(producer, metrics),
    kafkaHealthy: async () => kafkaCheck.ok,
    orders,
    auth: authenticatorFor(config.gatewayAuth),
    allowedOrigins: config.gatewayAllowedOrigins,
    allowedHosts: config.gatewayAllowedHosts,
    maxConnections: config.gatewayLimits.maxConnections,
    perIp: config.gatewayLimits.perIp,
    rateLimit: config.gatewayLimits.rateLimit,
    maxPayloadBytes: config.gatewayLimits.maxPayloadBytes,
    maxSubscriptions: config.gatewayLimits.maxSubscriptions,
    temporalUi: { url: config.temporalUiUrl, namespace: config.temporalNamespace },
    traceUrlTemplate: config.traceUrlTemplate,
    log: (line) => log.info(line),
    routes,
    onPlacement: (outcome, seconds) => metrics.placement(outcome, seconds),
    onAuthFailure: authFailureRecorder(metrics, (line) => log.warn(line)),
    onRefusal: refusalRecorder(metrics, (line) => log.warn(line)),
  });
  connections.count = () => gateway.connectionCount();
  // Installed before the feed starts: a signal during start-up must still drain.
  drainOnSignal(log, 'draining', async () => {
    draining = true;
    await gateway.close();
    await Promise.allSettled([producer.disconnect(), feed.stop(), connection.close(), kafkaCheck.disconnect()]);
    await shutdownTracing();
  });
  sink.deliver = (event) => gateway.deliverStatus(event);
  sink.follows = (key) => gateway.followsOrder(key);
  await feed.start();
  feedJoined = true;
  log.info(`ready: following order-status${home === undefined ? '' : ` (home partition ${home}, partition routing)`}`);
}

main().catch((err: unknown) => {
  log.fatal({ err }, `gateway failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
