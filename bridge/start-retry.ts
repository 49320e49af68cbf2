/**
 * Starting one order's workflow while Temporal may be unreachable: transient failures are retried
 * with capped exponential backoff, heart-beating the consumer group between tries so the bridge
 * keeps its partitions; a start Temporal refuses for good (PermanentStartError) is thrown at once,
 * and a consumer that is stopping gives up (its message stays uncommitted and is redelivered).
 */
import type { Client } from '@temporalio/client';
import type { Order } from '../common/order';
import { PermanentStartError, startOrderWorkflow, StartOutcome } from './starter';
import { nextWait, type Backoff } from '../common/backoff';

export { attemptDelay, nextWait, type Backoff } from '../common/backoff';

export interface StartRetryOptions {
  client: Client;
  stepDelayMs: number;
  taskQueue?: string;
  backoff: Backoff;
  /** Deadline of one start call (see BridgeOptions.startDeadlineMs). */
  startDeadlineMs: number;
  /** Called once when an order starts retrying, and with `false` once it stops. */
  onBackoff(active: boolean): void;
  /** Called before each wait, with the error and how long the wait is. */
  onRetry(err: Error, waitMs: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts `order`'s workflow, retrying transient failures until it works or `alive()` turns false. */
export async function startWithRetry(
  opts: StartRetryOptions,
  order: Order,
  heartbeat: () => Promise<void>,
  alive: () => boolean,
): Promise<StartOutcome> {
  let wait = opts.backoff.initialMs;
  let retrying = false;
  try {
    for (;;) {
      try {
        return await opts.client.connection.withDeadline(Date.now() + opts.startDeadlineMs, () =>
          startOrderWorkflow(opts.client, order, opts.stepDelayMs, opts.taskQueue),
        );
      } catch (err) {
        if (err instanceof PermanentStartError) throw err;
        if (!alive())
          throw new Error(`stopping while Temporal was unreachable; order ${order.orderId} left uncommitted`);
        if (!retrying) opts.onBackoff(true);
        retrying = true;
        opts.onRetry(err as Error, wait);
        await heartbeat();
        await sleep(wait);
        wait = nextWait(wait, opts.backoff);
      }
    }
  } finally {
    if (retrying) opts.onBackoff(false);
  }
}
