/** The Temporal runs of a chaos scenario's orders, as visibility lists them. */
import { workflowIdFor } from '../../common/order';
import type { IsolatedStack } from './isolated-stack';

export interface RunInfo {
  workflowId: string;
  runId: string;
  status: string;
  /** Epoch ms, from visibility (StartTime, CloseTime). */
  startTime: number;
  closeTime?: number;
}

export async function listRuns(stack: IsolatedStack, prefix: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for await (const wf of stack.temporal.workflow.list({
    query: `WorkflowId STARTS_WITH '${workflowIdFor({ orderId: prefix })}'`,
    pageSize: 1000,
  })) {
    runs.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      startTime: wf.startTime.getTime(),
      closeTime: wf.closeTime?.getTime(),
    });
  }
  return runs;
}
