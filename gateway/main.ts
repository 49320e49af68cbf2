/**
 * Gateway entry: WebSocket (raw and Socket.IO) + page on GATEWAY_PORT (3000), the clients' port;
 * /livez, /readyz, /metrics and /healthz on the admin listener, GATEWAY_HEALTH_PORT (3003, loopback
 * unless GATEWAY_HEALTH_HOST says otherwise). Produces orders to Kafka, follows order-status for
 * live updates, and asks Temporal for look-ups and cancels.
 */
import { startAdminListener } from '../common/admin-listener';
import { payloadPrivacyOf } from '../common/codec';
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { TOPICS } from '../common/names';
import { kafkaProbe, logTurns } from '../common/probes';
import { drainOnSignal } from '../common/shutdown';
import { initTracing, SERVICE_NAMES, shutdownTracing } from '../common/tracing';
import { authenticatorFor } from './auth';
import { GatewayMetrics, meteredProducer, metricsObserver } from './metrics';
import { OrderLookup } from './order-lookup';
import type { OrderHistory } from './list-orders';
import { listOrders } from '../history/list';
import { openHistoryDb } from '../history/store';
import { OrderProducer, SEND_TIMEOUT_MS } from './order-producer';
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
  // Readiness from one long-lived admin client, checked every second (not a connection per probe);
  // why it fails goes to the log, /readyz only names it.
  const kafkaCheck = kafkaProbe(kafka, { onChange: logTurns('kafka', log) });
  const ready = { feedJoined: false, draining: false };
  const metrics = new GatewayMetrics();
  // For /healthz: zero until the gateway below has started and can count its connections.
  let openConnections = (): number => 0;
  // First, so that while the gateway starts it already answers live and not ready.
  const admin = await startAdminListener({
    host: config.gatewayHealthHost,
    port: config.gatewayHealthPort,
    registry: metrics.registry,
    checks: [
      { name: 'kafka', ok: () => kafkaCheck.ok },
      { name: 'statusFeed', ok: () => ready.feedJoined },
      { name: 'accepting', ok: () => !ready.draining },
    ],
    health: () => ({
      ok: kafkaCheck.ok,
      kafka: kafkaCheck.ok ? 'up' : 'unreachable',
      connections: openConnections(),
    }),
  });
  log.info(`admin on http://${config.gatewayHealthHost}:${admin.port} (/livez, /readyz, /metrics, /healthz)`);
  await kafkaCheck.start();
  // KAFKA_ENCRYPT_ORDER_FIELDS: orders' customer data sealed on order-placement with the payload key store.
  const sealWith = config.kafkaEncryptOrderFields ? payloadPrivacyOf(config.payloadEncryption).keyStore : undefined;
  const producer = new OrderProducer(kafka, SEND_TIMEOUT_MS, TOPICS.orderPlacement, { sealWith });
  await producer.connect();
  const { client, connection } = temporalClient(config);
  const orders = new OrderLookup(client);
  // The order history's database: connected on the first listOrders, so a database that is down
  // costs listOrders (HISTORY_UNAVAILABLE) and nothing else.
  const historyDb = openHistoryDb(config.historyDatabaseUrl, 5, (err) =>
    log.warn(`order history database connection lost: ${err.message}`),
  );
  const history: OrderHistory = { list: (customerId, options) => listOrders(historyDb, customerId, options) };

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
    orders,
    history,
    routing,
    auth: authenticatorFor(config.gatewayAuth),
    allowedOrigins: config.gatewayAllowedOrigins,
    allowedHosts: config.gatewayAllowedHosts,
    limits: config.gatewayLimits,
    temporalUi: { url: config.temporalUiUrl, namespace: config.temporalNamespace },
    traceUrlTemplate: config.traceUrlTemplate,
    observer: metricsObserver(metrics, warn),
    log: (line) => log.info(line),
  });
  openConnections = gateway.connectionCount;
  // Installed before the feed starts: a signal during start-up must still drain.
  drainOnSignal(log, 'draining', async () => {
    ready.draining = true;
    await gateway.close();
    await Promise.allSettled([
      producer.disconnect(),
      feed.stop(),
      connection.close(),
      kafkaCheck.disconnect(),
      admin.close(),
      historyDb.destroy(),
    ]);
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
