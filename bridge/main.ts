/**
 * Bridge entry: Kafka order-placement -> one Temporal processOrder run per order; /livez, /readyz,
 * /metrics and /healthz on its admin listener, BRIDGE_HEALTH_PORT (3001, loopback unless BRIDGE_HOST says otherwise).
 */
import { startAdminListener } from '../common/admin-listener';
import { keyStoreOpener } from '../common/codec';
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { logTurns, temporalProbe } from '../common/probes';
import { drainOnSignal } from '../common/shutdown';
import { initTracing, SERVICE_NAMES, shutdownTracing, temporalClientInterceptors } from '../common/tracing';
import { BridgeMetrics } from './metrics';
import { startBridge } from './bridge';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  initTracing(SERVICE_NAMES.bridge);
  log = initLogger('bridge', { level: config.logLevel, format: config.logFormat });
  const { client, connection } = temporalClient(config, { interceptors: temporalClientInterceptors() });
  // Temporal's reachability on the bridge's own connection, every second with a 2 s deadline: an
  // outage turns /healthz and /readyz to 503 within ~3 s, whatever the client's own retries do; why, in the log.
  const temporal = temporalProbe(connection, { onChange: logTurns('temporal', log) });
  await temporal.start();
  const metrics = new BridgeMetrics();
  const bridge = await startBridge({
    metrics,
    kafka: kafkaClient(config, 'order-bridge'),
    client,
    stepDelayMs: config.stepDelayMs,
    groupId: config.bridgeGroupId,
    keyStore: keyStoreOpener(config.payloadEncryption),
    log: (line, fields) => log.info(fields ?? {}, line),
  });
  const admin = await startAdminListener({
    host: config.bridgeHost,
    port: config.bridgeHealthPort,
    registry: metrics.registry,
    checks: [
      { name: 'consumer', ok: () => bridge.healthy() },
      { name: 'temporal', ok: () => temporal.ok },
    ],
    health: () => ({
      ok: bridge.healthy() && temporal.ok,
      temporal: temporal.ok ? 'up' : 'unreachable',
      ...bridge.stats,
    }),
  });
  log.info(`admin on http://${config.bridgeHost}:${admin.port} (/livez, /readyz, /metrics, /healthz)`);
  drainOnSignal(log, 'finishing in-flight starts and committing', async () => {
    temporal.stop();
    await bridge.stop();
    await connection.close();
    await admin.close();
    await shutdownTracing();
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, `bridge failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
