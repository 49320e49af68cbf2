/**
 * The requests that name an existing order: getOrder and cancelOrder (answered from the workflow)
 * and subscribeOrder. With a customer id (JWT mode) only the caller's own orders are served; another
 * customer's order is answered exactly as an unknown one (NOT_FOUND, or `subscribed` and nothing).
 */
import type { z } from 'zod';
import { describeZodError } from '../common/order';
import {
  CancelOrderInput,
  ErrorCode,
  errorFrame,
  OrderRef,
  ServerFrame,
  SubscribeOrderInput,
} from '../common/protocol';
import type { Client } from './client';
import type { OrderLookup } from './order-lookup';
import type { Reply } from './read-request';
import type { Subscriptions } from './subscriptions';

export interface OrderRequests {
  getOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  cancelOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  subscribeOrder(client: Client, data: unknown, reply: Reply): void;
}

/** Without `orders`, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
export function orderRequests(subscriptions: Subscriptions, orders: OrderLookup | undefined): OrderRequests {
  const notFound = (orderId: string): ServerFrame => errorFrame(ErrorCode.notFound, `no order ${orderId}`, orderId);

  /** Parses a request naming an order; answers INVALID_REQUEST (naming the field) when it does not parse. */
  const orderRef = <T extends { orderId: string }>(
    schema: z.ZodType<T>,
    data: unknown,
    reply: Reply,
  ): T | undefined => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const { field, message } = describeZodError(parsed.error);
    reply(errorFrame(ErrorCode.invalidRequest, message, null, field));
    return undefined;
  };

  /** A request answered from the workflow: its parsed order reference and the look-up, or undefined once answered. */
  const lookupRequest = <T extends { orderId: string }>(
    schema: z.ZodType<T>,
    data: unknown,
    reply: Reply,
  ): { ref: T; lookup: OrderLookup } | undefined => {
    const ref = orderRef(schema, data, reply);
    if (!ref) return undefined;
    if (orders) return { ref, lookup: orders };
    reply(errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', ref.orderId));
    return undefined;
  };

  const unreachable = (verb: 'read' | 'cancel', orderId: string, err: unknown): ServerFrame =>
    errorFrame(ErrorCode.temporalUnavailable, `could not ${verb} order ${orderId}: ${(err as Error).message}`, orderId);

  const getOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const request = lookupRequest(OrderRef, data, reply);
    if (!request) return;
    const { ref, lookup } = request;
    try {
      const [view, visible] = await Promise.all([
        lookup.view(ref.orderId),
        lookup.visibleTo(ref.orderId, client.customerId),
      ]);
      if (!view || !visible) reply(notFound(ref.orderId));
      else reply({ event: 'order', data: view });
    } catch (err) {
      reply(unreachable('read', ref.orderId, err));
    }
  };

  const cancelOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const request = lookupRequest(CancelOrderInput, data, reply);
    if (!request) return;
    const { ref, lookup } = request;
    try {
      if (!(await lookup.visibleTo(ref.orderId, client.customerId))) return reply(notFound(ref.orderId));
    } catch (err) {
      return reply(unreachable('cancel', ref.orderId, err));
    }
    const outcome = await lookup.cancel(ref.orderId);
    if (outcome.kind === 'cancelled') reply({ event: 'orderCancelled', data: { orderId: ref.orderId } });
    else if (outcome.kind === 'not-found') reply(notFound(ref.orderId));
    else if (outcome.kind === 'refused') reply(errorFrame(ErrorCode.cannotCancel, outcome.reason, ref.orderId));
    else reply(errorFrame(ErrorCode.temporalUnavailable, outcome.reason, ref.orderId));
  };

  const subscribeOrder = (client: Client, data: unknown, reply: Reply): void => {
    const ref = orderRef(SubscribeOrderInput, data, reply);
    if (!ref) return;
    // Answered at once, as for an order that does not exist yet; events follow only for the caller's own orders.
    reply({ event: 'subscribed', data: { orderId: ref.orderId } });
    subscriptions.subscribe(client, ref.orderId, ref.fromSeq, true);
  };

  return { getOrder, cancelOrder, subscribeOrder };
}
