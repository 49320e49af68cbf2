/**
 * The worker's Temporal Runtime (installed once per process, before any connection): the SDK's
 * logs (workflow and activity loggers, worker internals, core) go into the process's pino logger,
 * with orderId / workflowId / runId as fields; with a metrics address, the SDK's own Prometheus
 * metrics (task latencies, slots, polls, activity and workflow outcomes) are served there.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '../common/env-variables';
import { temporalLogLevel, temporalLogSink } from '../common/logger';

export interface RuntimeOptions {
  logLevel: LogLevel;
  /** host:port for the SDK's Prometheus exporter (GET /metrics); none when undefined. */
  metricsBindAddress?: string;
}

export function installRuntime(opts: RuntimeOptions): Runtime {
  return Runtime.install({
    logger: new DefaultLogger(temporalLogLevel(opts.logLevel), temporalLogSink()),
    ...(opts.metricsBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsBindAddress } } } }
      : {}),
  });
}
