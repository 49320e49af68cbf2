/**
 * Worker entry: runs processOrder and its activities on task queue "orders" against the simulated
 * providers. SIGINT/SIGTERM make the SDK stop polling, let running tasks finish, and exit.
 * With WORKER_HEALTH_PORT, /livez, /readyz and /metrics (the process's own) on that admin listener;
 * with WORKER_METRICS_PORT, the Temporal SDK's metrics on the SDK's own exporter (both on WORKER_HOST).
 * With WORKER_DEPLOYMENT_NAME set it polls as a deployment version (worker/versioning.ts) and, when
 * the deployment has no current build yet, makes its own build current.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startAdminListener } from '../common/admin-listener';
import { simulatedProviders } from '../activities/simulated';
import { KafkaStatusPublisher } from '../activities/status-publisher';
import { dataConverterOf } from '../common/codec';
import { loadConfig } from '../common/config';
import { TASK_QUEUE } from '../common/names';
import { kafkaClient } from '../common/connections';
import { initLogger, logger, type Logger } from '../common/logger';
import { temporalConnectionOptions } from '../common/connection-settings';
import { logTurns, temporalProbe } from '../common/probes';
import { initTracing, SERVICE_NAMES, shutdownTracing } from '../common/tracing';
import { installRuntime } from './runtime';
import { becomeCurrentIfNone, currentVersionOfQueue, type WorkerDeploymentVersion } from './versioning';
import { createOrderWorker, deploymentVersionFor } from './worker';

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
  const stopped = new AbortController();
  try {
    const versioned = config.workerDeployment ? await deploymentVersionFor(config.workerDeployment) : undefined;
    const worker = await createOrderWorker({
      connection,
      namespace: config.temporalNamespace,
      dataConverter: dataConverterOf(config.payloadEncryption),
      providers: simulatedProviders(settings),
      statusPublisher,
      deployment: versioned?.version,
      workflowBundle: versioned?.workflowBundle,
    });
    const health =
      config.workerHealthPort === undefined
        ? undefined
        : await serveHealth(worker, connection, config.workerHost, config.workerHealthPort);
    const deployment = versioned?.version;
    log.info(
      { taskQueue: TASK_QUEUE, temporal: config.temporalAddress, ledger: settings.ledgerFile, ...deployment },
      `polling task queue "${TASK_QUEUE}"${deployment ? ` as build ${deployment.buildId} of deployment ${deployment.deploymentName}` : ''}`,
    );
    const bootstrap = deployment
      ? adoptDeployment(connection, config.temporalNamespace, deployment, stopped.signal)
      : warnIfQueueVersioned(connection, config.temporalNamespace);
    try {
      await worker.run();
    } finally {
      stopped.abort();
      await bootstrap;
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

/** Makes this build current when its deployment has none yet; logs where new orders go otherwise. */
async function adoptDeployment(
  connection: NativeConnection,
  namespace: string,
  version: WorkerDeploymentVersion,
  signal: AbortSignal,
): Promise<void> {
  const result = await becomeCurrentIfNone({
    service: connection.workflowService,
    namespace,
    version,
    identity: `order-worker ${version.buildId}`,
    signal,
    log: (level, message) => log[level](message),
  });
  if (result.outcome === 'other-current')
    log.info(
      { current: result.current },
      `build ${result.current} is current: new orders go there until \`npm run deploy:promote -- ${version.buildId}\``,
    );
}

/**
 * An unversioned worker on a queue that a versioned build was made current on gets no new orders:
 * they go to that build (even with none of its workers left) until the queue is handed back.
 */
async function warnIfQueueVersioned(connection: NativeConnection, namespace: string): Promise<void> {
  try {
    const current = await currentVersionOfQueue(connection.workflowService, namespace, TASK_QUEUE);
    if (current)
      log.warn(
        current,
        `task queue "${TASK_QUEUE}" sends new orders to build ${current.buildId} of deployment ` +
          `${current.deploymentName}, not to this unversioned worker: set WORKER_DEPLOYMENT_NAME, or hand the queue ` +
          `back with \`npm run deploy:promote -- --unversioned --deployment ${current.deploymentName}\``,
      );
  } catch (err) {
    log.debug({ err }, 'could not read the task queue versioning');
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
