/**
 * Starting one order's workflow while Temporal may be unreachable: transient failures are retried
 * with capped exponential backoff, heart-beating the consumer group between tries so the bridge
 * keeps its partitions; a start Temporal refuses for good (PermanentStartError) is thrown at once,
 * and a consumer that is stopping gives up (its message stays uncommitted and is redelivered).
 */
import type { Client } from '@temporalio/client';
import { retryWhileAlive, type RetryReporting } from '../common/backoff';
import type { Order } from '../common/order';
import { PermanentStartError, startOrderWorkflow, StartOutcome } from './starter';

export interface StartRetryOptions extends RetryReporting {
  client: Client;
  stepDelayMs: number;
  taskQueue?: string;
  /** Deadline of one start call (see BridgeOptions.startDeadlineMs). */
  startDeadlineMs: number;
}

/** Starts `order`'s workflow, retrying transient failures until it works or `alive()` turns false. */
export function startWithRetry(
  opts: StartRetryOptions,
  order: Order,
  heartbeat: () => Promise<void>,
  alive: () => boolean,
): Promise<StartOutcome> {
  const start = (): Promise<StartOutcome> =>
    opts.client.connection.withDeadline(Date.now() + opts.startDeadlineMs, () =>
      startOrderWorkflow(opts.client, order, opts.stepDelayMs, opts.taskQueue),
    );
  return retryWhileAlive(start, opts, {
    heartbeat,
    alive,
    stopping: () => new Error(`stopping while Temporal was unreachable; order ${order.orderId} left uncommitted`),
    isPermanent: (err) => err instanceof PermanentStartError,
  });
}
