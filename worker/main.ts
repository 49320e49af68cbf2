/**
 * Worker entry: runs processOrder and its activities on task queue "orders" against the simulated
 * providers. SIGINT/SIGTERM make the SDK stop polling, let running tasks finish, and exit.
 * With WORKER_HEALTH_PORT, /livez, /readyz and /metrics (the process's own) on that admin listener;
 * with WORKER_METRICS_PORT, the Temporal SDK's metrics on the SDK's own exporter (both on WORKER_HOST).
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startAdminListener } from '../common/admin-listener';
import { simulatedProviders } from '../activities/simulated';
import { KafkaStatusPublisher } from '../activities/status-publisher';
import { loadConfig } from '../common/config';
import { TASK_QUEUE } from '../common/names';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { temporalConnectionOptions } from '../common/connection-settings';
import { logTurns, temporalProbe } from '../common/probes';
import { initTracing, SERVICE_NAMES, shutdownTracing } from '../common/tracing';
import { installRuntime } from './runtime';
import { createOrderWorker } from './worker';

let log: Logger = logger();

async function main(): Promise<void> {
  const config = loadConfig();
  initTracing(SERVICE_NAMES.worker);
  log = initLogger('worker', { level: config.logLevel, format: config.logFormat });
  installRuntime({
    logLevel: config.logLevel,
    metricsBindAddress:
      config.workerMetricsPort === undefined ? undefined : `${config.workerHost}:${config.workerMetricsPort}`,
  });
  const settings = config.simulation;
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const statusPublisher = new KafkaStatusPublisher(kafkaClient(config, 'order-worker'));
  try {
    const worker = await createOrderWorker({
      connection,
      namespace: config.temporalNamespace,
      providers: simulatedProviders(settings),
      statusPublisher,
    });
    const health =
      config.workerHealthPort === undefined
        ? undefined
        : await serveHealth(worker, connection, config.workerHost, config.workerHealthPort);
    log.info(
      { taskQueue: TASK_QUEUE, temporal: config.temporalAddress, ledger: settings.ledgerFile },
      `polling task queue "${TASK_QUEUE}"`,
    );
    try {
      await worker.run();
    } finally {
      // Logged at both ends of the shutdown, so a stop that hangs shows whether run() or a close holds it.
      log.info('worker stopped; closing the health port, the status producer and the Temporal connection');
      await health?.close();
    }
  } finally {
    await statusPublisher.disconnect();
    await connection.close();
    await shutdownTracing();
    log.info('closed');
  }
}

/**
 * The admin listener: /livez, /readyz (worker running, Temporal answering on the worker's own
 * connection) and /metrics (Node process metrics; the SDK's metrics come from its own exporter,
 * which Core serves on a listener of its own, WORKER_METRICS_PORT).
 */
async function serveHealth(
  worker: Worker,
  connection: NativeConnection,
  host: string,
  port: number,
): Promise<{ close(): Promise<void> }> {
  const temporal = temporalProbe(connection, { onChange: logTurns('temporal', log) });
  await temporal.start();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const admin = await startAdminListener({
    host,
    port,
    registry,
    checks: [
      { name: 'worker', ok: () => worker.getState() === 'RUNNING' },
      { name: 'temporal', ok: () => temporal.ok },
    ],
  });
  log.info(`admin on http://${host}:${admin.port} (/livez, /readyz, /metrics)`);
  return {
    close: async () => {
      temporal.stop();
      await admin.close();
    },
  };
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
