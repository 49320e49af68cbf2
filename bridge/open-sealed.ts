/**
 * Opening a sealed order (KAFKA_ENCRYPT_ORDER_FIELDS) while the key store may be unreadable: the
 * order, `erased` (its customer's key destroyed) or `poison` come back at once; any other failure
 * (the key store cannot be read, no KEK here) is retried with capped exponential backoff,
 * heart-beating the group, until it works or the consumer stops (the message then stays
 * uncommitted and is read again). Never a silent skip.
 */
import type { KeyStore } from '../common/codec';
import { openPlacedEvent, type OpenedEvent } from '../common/codec';
import type { OrderPlacedEvent } from '../common/order';
import { nextWait, type Backoff } from './start-retry';

export interface OpenRetryOptions {
  keyStore: () => KeyStore;
  backoff: Backoff;
  /** Called once when an event starts retrying, and with `false` once it stops (the bridge's health). */
  onBackoff(active: boolean): void;
  /** Called before each wait, with the error and how long the wait is. */
  onRetry(err: Error, waitMs: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function openWithRetry(
  opts: OpenRetryOptions,
  event: OrderPlacedEvent,
  heartbeat: () => Promise<void>,
  alive: () => boolean,
): Promise<OpenedEvent> {
  let wait = opts.backoff.initialMs;
  let retrying = false;
  try {
    for (;;) {
      try {
        return await openPlacedEvent(event, opts.keyStore);
      } catch (err) {
        if (!alive())
          throw new Error(
            `stopping while the key store was unreadable; order ${event.payload.order.orderId} left uncommitted`,
          );
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
