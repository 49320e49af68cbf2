/** Builds the order worker: the processOrder workflow plus activities over the given providers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Providers } from '../activities/providers';
import type { StatusPublisher } from '../activities/status-publisher';
import { TASK_QUEUE } from '../common/config';

export interface OrderWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  providers: Providers;
  statusPublisher: StatusPublisher;
  taskQueue?: string;
  /**
   * Prebuilt workflow bundle (tests bundle once per file). Otherwise the one `npm run build` wrote
   * next to the compiled code (dist/workflow-bundle.js) when there is one, else workflows/ is
   * bundled at start (development, through tsx).
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  tuning?: Partial<
    Pick<
      WorkerOptions,
      'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
    >
  >;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** File name of the prebuilt bundle in dist/ (worker/build-bundle.ts writes it). */
export const PREBUILT_BUNDLE_FILE = 'workflow-bundle.js';

/** The bundle `npm run build` made for this compiled code, if this code is the compiled one. */
export function prebuiltBundlePath(): string | undefined {
  const file = path.join(__dirname, '..', PREBUILT_BUNDLE_FILE);
  return __filename.endsWith('.js') && fs.existsSync(file) ? file : undefined;
}

function workflowSource(opts: OrderWorkerOptions): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (opts.workflowBundle) return { workflowBundle: opts.workflowBundle };
  const prebuilt = prebuiltBundlePath();
  return prebuilt ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: WORKFLOWS_PATH };
}

export function createOrderWorker(opts: OrderWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...workflowSource(opts),
    activities: createActivities(opts.providers, opts.statusPublisher),
    // A workflow task waits this long on a (possibly killed) worker's sticky queue before going to
    // the shared one: 3 s rather than the SDK's 10 s, so a timer that fires while its worker is
    // dead is picked up by another within seconds. A live worker takes its tasks well within it.
    stickyQueueScheduleToStartTimeout: '3s',
    ...opts.tuning,
  });
}
