/**
 * Starts exactly one processOrder run per order. The workflow id comes from the order (common/order
 * workflowIdFor: its id, and in JWT mode its customer too), and the start names its policies: a
 * running run with the same id is a conflict (FAIL), and a closed one, however it ended, is never
 * reused (REJECT_DUPLICATE, for as long as the namespace retains it). Either way the order is
 * already being handled, so the bridge counts it as done.
 */
import { Client, isGrpcServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TASK_QUEUE } from '../common/names';
import { Order, workflowIdFor } from '../common/order';
import { CustomerIdKey, OrderIdKey, OrderItemKey, OrderStatusKey } from '../common/names';
import { customerSearchValue, keyStoreOfClient } from '../common/codec';
import type { ProcessOrderInput } from '../workflows';

export type StartOutcome = 'started' | 'duplicate';

/** A start that can never succeed (the request itself is wrong): retrying would stall the partition. */
export class PermanentStartError extends Error {
  override name = 'PermanentStartError';
}

const PERMANENT_CODES = new Set<number>([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNIMPLEMENTED,
]);

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

export async function startOrderWorkflow(
  client: Client,
  order: Order,
  stepDelayMs: number,
  taskQueue = TASK_QUEUE,
): Promise<StartOutcome> {
  const input: ProcessOrderInput = { order, stepDelayMs, statusEvents: 'plans' };
  // Search attributes are never sealed: with the codec on, no item, and the customer as a keyed hash.
  const keyStore = keyStoreOfClient(client);
  const customerValue =
    order.customerId === undefined ? undefined : await customerSearchValue(keyStore, order.customerId);
  try {
    await client.workflow.start('processOrder', {
      taskQueue,
      workflowId: workflowIdFor(order),
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // The memo and the summary are payloads: sealed by the client's codec like the input.
      memo: { order },
      staticSummary: `${order.quantity} x ${order.item} at ${order.price.toFixed(2)}`,
      typedSearchAttributes: [
        { key: OrderIdKey, value: order.orderId },
        ...(keyStore ? [] : [{ key: OrderItemKey, value: order.item.slice(0, 100) }]),
        { key: OrderStatusKey, value: 'ACCEPTED' },
        // Who placed it (JWT mode): the gateway reads the owner back from the memo's order.
        ...(customerValue === undefined ? [] : [{ key: CustomerIdKey, value: customerValue }]),
      ],
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    const code = grpcCode(err);
    if (code !== undefined && PERMANENT_CODES.has(code)) throw new PermanentStartError((err as Error).message);
    throw err;
  }
}
