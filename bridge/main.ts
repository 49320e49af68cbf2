/** Bridge entry: Kafka order-placement -> one Temporal processOrder run per order; /healthz on 3001. */
import * as http from 'node:http';
import { loadConfig } from '../common/config';
import { kafkaClient, temporalClient } from '../common/connections';
import { drainOnSignal } from '../common/shutdown';
import { startBridge } from './bridge';

async function main(): Promise<void> {
  const config = loadConfig();
  const { client, connection } = await temporalClient(config);
  const bridge = await startBridge({
    kafka: kafkaClient(config, 'order-bridge'),
    client,
    stepDelayMs: config.stepDelayMs,
    groupId: process.env.BRIDGE_GROUP_ID || undefined,
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
  health.listen(config.bridgeHealthPort, process.env.BRIDGE_HOST ?? '127.0.0.1');
  drainOnSignal('bridge', 'finishing in-flight starts and committing', async () => {
    health.close();
    await bridge.stop();
    await connection.close();
  });
}

main().catch((err: unknown) => {
  console.error('[bridge] fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
