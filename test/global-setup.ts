/**
 * Jest global setup: makes the real servers reachable before any test runs.
 *  - Kafka and the Temporal dev server: reused when they answer, else provisioned and started.
 *  - Temporal's time-skipping test server: provisioned; its wrapper path goes to the tests.
 *  - A fresh Temporal namespace for this run (so ids like the seed's "#101" are new every run),
 *    with the app's search attributes registered in it.
 */
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ENV } from '../common/env-variables';
import { loadConfig } from '../common/config';
import { ensureSearchAttributes, up } from '../tools/infra/launcher';
import { provisionTestServer } from '../tools/infra/provision';
import { sleep } from '../tools/infra/proc';
import { requireChromium } from './helpers/browser';

const log = (line: string): void => void process.stderr.write(`[test-setup] ${line}\n`);

async function createRunNamespace(address: string): Promise<string> {
  const namespace = `test-${new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14)}-${process.pid}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
      description: 'order-orchestrator test run',
    });
    // Wait until the namespace is usable (describe answers).
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  } finally {
    await connection.close();
  }
  await ensureSearchAttributes(address, namespace, log);
  return namespace;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // A missing prerequisite stops the run before any server starts, naming its install line.
  requireChromium();
  const result = await up(log);
  process.env.ORDERS_TEST_STARTED_SERVERS = result.started.join(',');
  // Spelled out for the tests' child processes that pass on only these two (not the ORDERS_*_PORT
  // variables they derive from): a lane of tools/dev/test-lanes.ts runs on ports of its own.
  process.env[ENV.kafkaBrokers] ??= result.kafkaBrokers.join(',');
  process.env[ENV.temporalAddress] ??= result.temporalAddress;
  process.env.TEMPORAL_TEST_SERVER_PATH = await provisionTestServer(log);
  process.env[ENV.temporalNamespace] = await createRunNamespace(loadConfig().temporalAddress);
  log(
    `servers ready in ${((Date.now() - started) / 1000).toFixed(1)}s; namespace ${process.env[ENV.temporalNamespace]}`,
  );
}
