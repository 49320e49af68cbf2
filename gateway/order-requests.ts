/**
 * The requests that name an existing order: getOrder, cancelOrder and amendOrder (answered from the
 * workflow) and subscribeOrder.
 *
 * With a customer id (JWT mode) ownership is decided first, before anything about the order is
 * read: from the gateway's cache of owners when it knows the order (no Temporal call), else from
 * Temporal within `ownerCheckMs`. Another customer's order, an unknown id, and an order whose owner
 * could not be decided in time (Temporal down or slow) all get the same answer, NOT_FOUND with the
 * same message, sent no earlier than `ownerCheckMs` after the request: so neither the answer nor
 * its timing tells them apart, whatever Temporal's health or the order's state. subscribeOrder is
 * answered `subscribed` at once for any id (events follow only for the caller's own orders).
 *
 * Failures inside the system (Temporal unreachable) are answered with a generic message and a
 * correlation id; the detail goes to the log (./internal-error).
 */
import type { z } from 'zod';
import { AmendOrderInput, describeZodError } from '../common/order';
import {
  CancelOrderInput,
  ErrorCode,
  errorFrame,
  OrderRef,
  ServerFrame,
  SubscribeOrderInput,
} from '../common/protocol';
import type { Client } from './client';
import { detailOf, internalError } from './internal-error';
import { clientWorkflowId } from './order-key';
import type { OrderLookup } from './order-lookup';
import type { Reply } from './read-request';
import type { Subscriptions } from './subscriptions';

export interface OrderRequests {
  getOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  cancelOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  amendOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  subscribeOrder(client: Client, data: unknown, reply: Reply): void;
}

/** Default for `ownerCheckMs`: how long ownership may take to decide, and the earliest a customer's NOT_FOUND is sent. */
export const OWNER_CHECK_MS = 1_000;

export interface OrderRequestOptions {
  subscriptions: Subscriptions;
  /** Without it, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  log: (line: string) => void;
  ownerCheckMs?: number;
}

const sleepUntil = (at: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

export function orderRequests(opts: OrderRequestOptions): OrderRequests {
  const { subscriptions, orders, log } = opts;
  const ownerCheckMs = opts.ownerCheckMs ?? OWNER_CHECK_MS;

  /** NOT_FOUND; to a customer, never earlier than ownerCheckMs after `askedAt` (one timing for every hidden order). */
  const notFound = async (client: Client, orderId: string, askedAt: number, reply: Reply): Promise<void> => {
    if (client.customerId !== undefined) await sleepUntil(askedAt + ownerCheckMs);
    reply(errorFrame(ErrorCode.notFound, `no order ${orderId}`, orderId));
  };

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

  /**
   * The workflow id of the order the caller means, when it may act on it: without customer identity
   * the global one (any order); with one, the caller's own order of that id (./order-lookup
   * ownedWorkflowId, which also finds one placed before ids were scoped). Undefined: not theirs.
   */
  const actionable = async (lookup: OrderLookup, client: Client, orderId: string): Promise<string | undefined> => {
    const workflowId = clientWorkflowId(client.customerId, orderId);
    if (client.customerId === undefined) return workflowId;
    return lookup.ownedWorkflowId(workflowId, client.customerId, ownerCheckMs);
  };

  /**
   * The gate of a request answered from the workflow: the request parses, this gateway can look orders
   * up, and the caller may act on the order. Returns the reference and the look-up, or undefined once answered.
   */
  const ownOrder = async <T extends { orderId: string }>(
    schema: z.ZodType<T>,
    client: Client,
    data: unknown,
    reply: Reply,
    askedAt: number,
  ): Promise<{ ref: T; lookup: OrderLookup; workflowId: string } | undefined> => {
    const ref = orderRef(schema, data, reply);
    if (!ref) return undefined;
    if (!orders) {
      reply(errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', ref.orderId));
      return undefined;
    }
    const workflowId = await actionable(orders, client, ref.orderId);
    if (workflowId !== undefined) return { ref, lookup: orders, workflowId };
    await notFound(client, ref.orderId, askedAt, reply);
    return undefined;
  };

  const unreachable = (verb: 'read' | 'cancel' | 'amend', orderId: string, detail: string): ServerFrame =>
    internalError(
      log,
      ErrorCode.temporalUnavailable,
      `could not ${verb} the order right now: try again later`,
      orderId,
      `${verb} order ${orderId}: ${detail}`,
    );

  const getOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    const request = await ownOrder(OrderRef, client, data, reply, askedAt);
    if (!request) return;
    const { ref, lookup, workflowId } = request;
    let view;
    try {
      view = await lookup.view(workflowId);
    } catch (err) {
      return reply(unreachable('read', ref.orderId, detailOf(err)));
    }
    if (!view) return notFound(client, ref.orderId, askedAt, reply);
    reply({ event: 'order', data: view });
  };

  const cancelOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    const request = await ownOrder(CancelOrderInput, client, data, reply, askedAt);
    if (!request) return;
    const { ref, lookup, workflowId } = request;
    const outcome = await lookup.cancel(workflowId);
    if (outcome.kind === 'cancelled') reply({ event: 'orderCancelled', data: { orderId: ref.orderId } });
    else if (outcome.kind === 'not-found') await notFound(client, ref.orderId, askedAt, reply);
    else if (outcome.kind === 'refused') reply(errorFrame(ErrorCode.cannotCancel, outcome.reason, ref.orderId));
    else reply(unreachable('cancel', ref.orderId, outcome.reason));
  };

  /** Validated by placeOrder's rules here (INVALID_REQUEST naming the field), then by the workflow's validator. */
  const amendOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    const request = await ownOrder(AmendOrderInput, client, data, reply, askedAt);
    if (!request) return;
    const { ref, lookup, workflowId } = request;
    const { orderId, ...amendment } = ref;
    const outcome = await lookup.amend(workflowId, amendment);
    if (outcome.kind === 'amended') {
      const { amendmentId, order } = outcome.result;
      reply({ event: 'orderAmended', data: { orderId, amendmentId, ...order } });
    } else if (outcome.kind === 'not-found') await notFound(client, orderId, askedAt, reply);
    else if (outcome.kind === 'refused') reply(errorFrame(ErrorCode.cannotAmend, outcome.reason, orderId));
    else reply(unreachable('amend', orderId, outcome.reason));
  };

  const subscribeOrder = (client: Client, data: unknown, reply: Reply): void => {
    const ref = orderRef(SubscribeOrderInput, data, reply);
    if (!ref) return;
    // Answered at once, as for an order that does not exist yet; events follow only for the caller's own orders.
    reply({ event: 'subscribed', data: { orderId: ref.orderId } });
    subscriptions.subscribe(client, clientWorkflowId(client.customerId, ref.orderId), ref.fromSeq, true);
  };

  return { getOrder, cancelOrder, amendOrder, subscribeOrder };
}
