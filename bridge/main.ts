/** Bridge entry: Kafka order-placement -> one Temporal processOrder run per order; /healthz on 3001. */
import * as http from 'node:http';
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { startBridge } from './bridge';

const SHUTDOWN_GRACE_MS = 25_000;
let log: Logger = logger();

async function run(): Promise<void> {
  const config = loadConfig();
  log = initLogger('bridge', { level: config.logLevel, format: config.logFormat });
  const { client, connection } = await temporalClient(config);
  const bridge = await startBridge({
    kafka: kafkaClient(config, 'order-bridge'),
    client,
    stepDelayMs: config.stepDelayMs,
    groupId: config.bridgeGroupId,
    log: (line, fields) => log.info(fields ?? {}, line),
  });
  const health = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      const ok = bridge.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', ...bridge.stats }));
      return;
    }
    res.writeHead(404).end();
  });
  health.listen(config.bridgeHealthPort, config.bridgeHost);
  const shutdown = async (signal: string): Promise<void> => {
    // Bounded: whatever has not drained by then is abandoned (Kafka redelivers; clients resend).
    setTimeout(() => {
      log.error(`drain took longer than ${SHUTDOWN_GRACE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    log.info(`${signal}: finishing in-flight starts and committing`);
    health.close();
    await bridge.stop();
    await connection.close();
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(sig));
}

run().catch((err: unknown) => {
  log.fatal({ err }, `bridge failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
