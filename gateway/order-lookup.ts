/** The gateway's questions to Temporal about an order: its current view, and cancelling it. */
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { workflowIdFor } from '../common/order';
import type { OrderView } from '../common/status';
import { cancelUpdate, statusQuery } from '../common/workflow-api';

export type CancelOutcome =
  | { kind: 'cancelled'; view: OrderView }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-found' }
  | { kind: 'unavailable'; reason: string };

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} got no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function notFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { name?: string })?.name === 'WorkflowNotFoundError';
}

export class OrderLookup {
  constructor(
    private readonly client: Client,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The order's current view, or undefined when no such order (workflow) exists. */
  async view(orderId: string): Promise<OrderView | undefined> {
    try {
      return await withTimeout(this.client.workflow.getHandle(workflowIdFor(orderId)).query(statusQuery), this.timeoutMs, 'status query');
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async cancel(orderId: string): Promise<CancelOutcome> {
    const handle = this.client.workflow.getHandle(workflowIdFor(orderId));
    try {
      const view = await withTimeout(handle.executeUpdate(cancelUpdate), 60_000, 'cancel');
      if (view.status === 'CANCELLED') return { kind: 'cancelled', view };
      return { kind: 'refused', reason: `order ${orderId} ended ${view.status} before it could be cancelled` };
    } catch (err) {
      if (notFound(err)) {
        // Either no such order, or it has finished (updates need a running workflow).
        const view = await this.view(orderId).catch(() => undefined);
        return view ? { kind: 'refused', reason: `order ${orderId} is already ${view.status}` } : { kind: 'not-found' };
      }
      if (err instanceof WorkflowUpdateFailedError) {
        return { kind: 'refused', reason: (err.cause as Error | undefined)?.message ?? err.message };
      }
      return { kind: 'unavailable', reason: `could not cancel order ${orderId}: ${(err as Error).message}` };
    }
  }
}
