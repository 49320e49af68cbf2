/**
 * Worker process for the bare-engine ceiling (tools/bench/bare-workflow.ts) on its own task queue.
 * Started by the bench exactly like `npm run worker` (node --import tsx), against whatever
 * TEMPORAL_ADDRESS says; SIGINT/SIGTERM stop it (the SDK's own handlers). Worker options: the
 * same as worker/worker.ts (SDK defaults for slots, cache and pollers), so the only difference
 * from the order worker is the work itself; keep the two in step when the order worker gets tuning.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../common/config';
import { BARE_TASK_QUEUE, createBareActivities } from './bare-activities';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: BARE_TASK_QUEUE,
      workflowsPath: require.resolve('./bare-workflow'),
      activities: createBareActivities(),
    });
    console.log(`[bare-worker] polling task queue "${BARE_TASK_QUEUE}" at ${config.temporalAddress}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('[bare-worker] fatal:', err);
    process.exit(1);
  });
}
