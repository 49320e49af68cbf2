// The time-skipping test server is real: thirty days of durable sleep pass in seconds of wall time.
import * as crypto from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { longSleeper } from '../workflows/infra-probe';
import { createTimeSkippingEnv } from '../helpers/time-skipping';

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  test('a workflow sleeping 30 days completes in seconds and the server clock moves 30 days', async () => {
    expect(env.supportsTimeSkipping).toBe(true);
    const taskQueue = `sleeper-${crypto.randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../workflows/infra-probe'),
    });
    const serverBefore = await env.currentTimeMs();
    const wallBefore = Date.now();
    const sleptMs = await worker.runUntil(
      env.client.workflow.execute(longSleeper, { taskQueue, workflowId: `sleeper-${crypto.randomUUID()}` }),
    );
    const wallMs = Date.now() - wallBefore;
    const serverAdvanced = (await env.currentTimeMs()) - serverBefore;

    expect(sleptMs).toBeGreaterThanOrEqual(THIRTY_DAYS_MS);
    expect(serverAdvanced).toBeGreaterThanOrEqual(THIRTY_DAYS_MS);
    // Wall time is reported, not asserted tightly (speed belongs in benchmarks): it must merely not be real time.
    expect(wallMs).toBeLessThan(THIRTY_DAYS_MS / 1000);
    process.stderr.write(`30 days of workflow time took ${wallMs} ms of wall time\n`);
  });
});
