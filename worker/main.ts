/**
 * Worker entry: runs processOrder and its activities on task queue "orders" against the simulated
 * providers. SIGINT/SIGTERM make the SDK stop polling, let running tasks finish, and exit.
 */
import * as http from 'node:http';
import { NativeConnection, Worker } from '@temporalio/worker';
import { simulatedProviders } from '../activities/simulated';
import { KafkaStatusPublisher } from '../activities/status-publisher';
import { loadConfig } from '../common/config';
import { TASK_QUEUE } from '../common/names';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { temporalConnectionOptions } from '../common/connection-settings';
import { probeRoutes, temporalProbe } from '../common/probes';
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

/** /livez and /readyz (worker running and Temporal answering on the worker's own connection). */
async function serveHealth(
  worker: Worker,
  connection: NativeConnection,
  host: string,
  port: number,
): Promise<{ close(): Promise<void> }> {
  const temporal = temporalProbe(connection);
  await temporal.start();
  const routes = probeRoutes({
    checks: [
      { name: 'worker', ok: () => worker.getState() === 'RUNNING', detail: () => worker.getState() },
      { name: 'temporal', ok: () => temporal.ok, detail: () => temporal.error },
    ],
  });
  const server = http.createServer((req, res) => {
    if (!routes(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  log.info(`health on http://${host}:${port} (/livez, /readyz)`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        temporal.stop();
        server.close(() => resolve());
      }),
  };
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
