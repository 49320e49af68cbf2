/**
 * Opening a sealed order (KAFKA_ENCRYPT_ORDER_FIELDS) while the key store may be unreadable: the
 * order, `erased` (its customer's key destroyed) or `poison` come back at once; any other failure
 * (the key store cannot be read, no KEK here) is retried with capped exponential backoff,
 * heart-beating the group, until it works or the consumer stops (the message then stays
 * uncommitted and is read again). Never a silent skip.
 */
import { retryWhileAlive, type RetryReporting } from '../common/backoff';
import type { KeyStore } from '../common/codec';
import { openPlacedEvent, type OpenedEvent } from '../common/codec';
import type { OrderPlacedEvent } from '../common/order';

export interface OpenRetryOptions extends RetryReporting {
  keyStore: () => KeyStore;
}

export function openWithRetry(
  opts: OpenRetryOptions,
  event: OrderPlacedEvent,
  heartbeat: () => Promise<void>,
  alive: () => boolean,
): Promise<OpenedEvent> {
  return retryWhileAlive(() => openPlacedEvent(event, opts.keyStore), opts, {
    heartbeat,
    alive,
    stopping: () =>
      new Error(`stopping while the key store was unreadable; order ${event.payload.order.orderId} left uncommitted`),
  });
}
