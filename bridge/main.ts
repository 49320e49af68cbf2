/** Bridge entry: Kafka order-placement -> one Temporal processOrder run per order; /healthz on 3001. */
import * as http from 'node:http';
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { probeRoutes, temporalProbe } from '../common/probes';
import { drainOnSignal } from '../common/shutdown';
import { BridgeMetrics } from './metrics';
import { startBridge } from './bridge';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  log = initLogger('bridge', { level: config.logLevel, format: config.logFormat });
  const { client, connection } = temporalClient(config);
  // Temporal's reachability on the bridge's own connection, every second with a 2 s deadline: an
  // outage turns /healthz and /readyz to 503 within ~3 s, whatever the client's own retries do.
  const temporal = temporalProbe(connection);
  await temporal.start();
  const metrics = new BridgeMetrics();
  const bridge = await startBridge({
    metrics,
    kafka: kafkaClient(config, 'order-bridge'),
    client,
    stepDelayMs: config.stepDelayMs,
    groupId: config.bridgeGroupId,
    log: (line, fields) => log.info(fields ?? {}, line),
  });
  const routes = probeRoutes({
    registry: metrics.registry,
    checks: [
      { name: 'consumer', ok: () => bridge.healthy(), detail: () => 'not in the group, or retrying starts' },
      { name: 'temporal', ok: () => temporal.ok, detail: () => temporal.error },
    ],
  });
  const health = http.createServer((req, res) => {
    if (routes(req, res)) return;
    if (req.method === 'GET' && req.url === '/healthz') {
      const ok = bridge.healthy() && temporal.ok;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ok ? 'ok' : 'degraded',
          temporal: temporal.ok ? 'up' : temporal.error,
          ...bridge.stats,
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  health.listen(config.bridgeHealthPort, config.bridgeHost);
  drainOnSignal(log, 'finishing in-flight starts and committing', async () => {
    health.close();
    temporal.stop();
    await bridge.stop();
    await connection.close();
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, `bridge failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
