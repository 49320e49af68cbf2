/** What every step activity needs from its Temporal context: idempotency keys and heartbeats. */
import { Context } from '@temporalio/activity';
import type { Order } from '../common/order';

/**
 * The idempotency key of a step: derived from the workflow id, so a retried or re-run activity
 * never charges, refunds or ships twice.
 */
export function workflowKey(step: string): string {
  return `${runningWorkflowId()}:${step}`;
}

/** The workflow id of the order this activity works for (common/order workflowIdFor made it). */
export function runningWorkflowId(): string {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('order activities run only inside a workflow');
  return execution.workflowId;
}

export function orderTotal(order: Order): number {
  return Math.round(order.price * order.quantity * 100) / 100;
}

/**
 * Heartbeats while `work` runs, so a step on a worker that died is retried after the heartbeat
 * timeout (seconds) instead of its whole start-to-close timeout. The SDK throttles the calls, and a
 * step that finishes within the first interval sends none.
 */
export async function heartbeating<T>(work: Promise<T>, everyMs = 1_000): Promise<T> {
  const timer = setInterval(() => Context.current().heartbeat(), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
