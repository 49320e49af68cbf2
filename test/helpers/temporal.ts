/** Temporal helpers for tests: every run of a workflow id, and an order's result once the bridge started it. */
import { Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { OrderView } from '../../common/status';
import { sleep } from './wait';

export interface RunInfo {
  workflowId: string;
  runId: string;
  status: string;
}

async function listRuns(client: Client, workflowId: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name });
  }
  return runs;
}

/**
 * Every run (open or closed) with this workflow id, from visibility. Visibility trails the run by a
 * moment, so it first waits (up to 10 s) until at least `atLeast` runs are listed; the caller then
 * asserts the exact number.
 */
export async function runsOf(client: Client, workflowId: string, atLeast = 1): Promise<RunInfo[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const runs = await listRuns(client, workflowId);
    if (runs.length >= atLeast || Date.now() > deadline) return runs;
    await sleep(200);
  }
}

/** Waits for the bridge to start the order's workflow, then for its result (rethrows a workflow failure). */
export async function waitForResult(client: Client, workflowId: string, timeoutMs = 60_000): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as OrderView;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw err;
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}
