/** Builds the order worker: the processOrder workflow plus activities over the given providers. */
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
  /** Prebuilt workflow bundle (tests bundle once per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  tuning?: Partial<Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>>;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export function createOrderWorker(opts: OrderWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.providers, opts.statusPublisher),
    ...opts.tuning,
  });
}
