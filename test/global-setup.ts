/**
 * Jest global setup: makes the real servers reachable before any test runs.
 *  - Kafka and the Temporal dev server: reused when they answer, else provisioned and started.
 *  - Temporal's time-skipping test server: provisioned; its wrapper path goes to the tests.
 *  - A fresh Temporal namespace for this run (so ids like the seed's "#101" are new every run),
 *    with the app's search attributes registered in it.
 */
import { ENV } from '../common/env-variables';
import { loadConfig } from '../common/config';
import { useDevKekUnlessSet } from '../tools/infra/dev-kek';
import { up } from '../tools/infra/launcher';
import { provisionTestServer } from '../tools/infra/provision';
import { requireChromium } from './helpers/browser';
import { createNamespace } from './helpers/namespace';

const log = (line: string): void => void process.stderr.write(`[test-setup] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // A missing prerequisite stops the run before any server starts, naming its install line.
  requireChromium();
  // Every test process and the apps they spawn seal payloads under one development KEK.
  useDevKekUnlessSet(loadConfig().dataDir);
  const result = await up(log);
  process.env.ORDERS_TEST_STARTED_SERVERS = result.started.join(',');
  // Spelled out for the tests' child processes that pass on only these two (not the ORDERS_*_PORT
  // variables they derive from): a lane of tools/dev/test-lanes.ts runs on ports of its own.
  process.env[ENV.kafkaBrokers] ??= result.kafkaBrokers.join(',');
  process.env[ENV.temporalAddress] ??= result.temporalAddress;
  process.env.TEMPORAL_TEST_SERVER_PATH = await provisionTestServer(log);
  process.env[ENV.temporalNamespace] = await createNamespace(loadConfig().temporalAddress, 'test', log);
  log(
    `servers ready in ${((Date.now() - started) / 1000).toFixed(1)}s; namespace ${process.env[ENV.temporalNamespace]}`,
  );
}
