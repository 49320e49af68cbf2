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
 *
 * Each of the three is a look-up admitted by the gateway's budget of Temporal calls (./lookup-budget)
 * before anything else about it is done: over the budget, or over the caller's share of it, the
 * answer is BUSY with a `retryAfterMs`, decided the same way whatever the order (so it says nothing
 * about it), and Temporal is not asked.
 */
import type { z } from 'zod';
import { AmendOrderInput, describeZodError } from '../common/order';
import {
  CancelOrderInput,
  ErrorCode,
  errorFrame,
  OrderIdSchema,
  OrderRef,
  ServerFrame,
  SubscribeOrderInput,
} from '../common/protocol';
import type { Client } from './client';
import { detailOf, internalError } from './internal-error';
import { type LookupBudget, type LookupCost, type LookupTicket, partyOf, UNCHARGED } from './lookup-budget';
import { clientWorkflowId } from './order-key';
import { ownerCandidates, type OrderLookup } from './order-lookup';
import type { Reply } from './read-request';
import type { Subscriptions } from './subscriptions';

export interface OrderRequests {
  getOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  cancelOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  amendOrder(client: Client, data: unknown, reply: Reply): Promise<void>;
  subscribeOrder(client: Client, data: unknown, reply: Reply): void;
}

type LookupKind = 'getOrder' | 'cancelOrder' | 'amendOrder' | 'subscribeOrder';

/**
 * The most Temporal calls a look-up makes, and how many at once: with a customer id the owner of
 * each candidate workflow id first (./order-lookup ownerCandidates; getOrder, cancelOrder and amendOrder ask
 * them at once, a subscription's catch-up one after the other, ./subscriptions), then the status
 * query (getOrder, subscribeOrder) or the cancel or amend update and, when it finds no run, a status query.
 */
export function lookupCost(kind: LookupKind, customerId: string | undefined, workflowId: string): LookupCost {
  const owners = customerId === undefined ? 0 : ownerCandidates(workflowId).length;
  const after = kind === 'cancelOrder' || kind === 'amendOrder' ? 2 : 1;
  return { calls: owners + after, atOnce: kind === 'subscribeOrder' ? 1 : Math.max(1, owners) };
}

/** The ticket of a look-up on a gateway without a budget: charged to nobody. */
const UNCHARGED_TICKET: LookupTicket = { ...UNCHARGED, answered: () => undefined, end: () => undefined };

/** The answer to a look-up over the budget: BUSY, resend after `retryAfterMs`. */
export function busyFrame(orderId: string, retryAfterMs: number): ServerFrame {
  return {
    event: 'error',
    data: {
      code: ErrorCode.busy,
      message: `too many order look-ups right now: retry in ${retryAfterMs} ms`,
      orderId,
      retryAfterMs,
    },
  };
}

/** Default for `ownerCheckMs`: how long ownership may take to decide, and the earliest a customer's NOT_FOUND is sent. */
export const OWNER_CHECK_MS = 1_000;

export interface OrderRequestOptions {
  subscriptions: Subscriptions;
  /** Without it, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  log: (line: string) => void;
  ownerCheckMs?: number;
  /** The budget of Temporal calls look-ups are admitted by; without it, none is refused. */
  budget?: LookupBudget;
}

const sleepUntil = (at: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

export function orderRequests(opts: OrderRequestOptions): OrderRequests {
  const { subscriptions, orders, log, budget } = opts;
  const ownerCheckMs = opts.ownerCheckMs ?? OWNER_CHECK_MS;

  /** The look-up's ticket, or undefined once it was answered BUSY. */
  const admitted = (kind: LookupKind, client: Client, orderId: string, reply: Reply): LookupTicket | undefined => {
    if (!budget) return UNCHARGED_TICKET;
    const cost = lookupCost(kind, client.customerId, clientWorkflowId(client.customerId, orderId));
    const admission = budget.admit(partyOf(client), cost);
    if ('ticket' in admission) return admission.ticket;
    reply(busyFrame(orderId, admission.retryAfterMs));
    return undefined;
  };

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
    // The order id, when it is a valid one, tells the client which of its requests was refused
    // (an amendOrder with a bad price, say); an invalid id is never echoed.
    const named = OrderIdSchema.safeParse((data as { orderId?: unknown } | null | undefined)?.orderId);
    reply(errorFrame(ErrorCode.invalidRequest, message, named.success ? named.data : null, field));
    return undefined;
  };

  /**
   * The workflow id of the order the caller means, when it may act on it: without customer identity
   * the global one (any order); with one, the caller's own order of that id (./order-lookup
   * ownedWorkflowId, which also finds one placed before ids were scoped). Undefined: not theirs.
   */
  const actionable = async (
    lookup: OrderLookup,
    client: Client,
    orderId: string,
    ticket: LookupTicket,
  ): Promise<string | undefined> => {
    const workflowId = clientWorkflowId(client.customerId, orderId);
    if (client.customerId === undefined) return workflowId;
    return lookup.ownedWorkflowId(workflowId, client.customerId, ownerCheckMs, ticket);
  };

  /**
   * A request answered from the workflow: it parses, this gateway can look orders up, and the budget
   * admits it; then `answer` runs with the look-up and the ticket its Temporal calls are charged to.
   * The ticket ends once the answer is sent, so the caller's share is freed at the same moment
   * whatever the caches held (a NOT_FOUND to a customer: ownerCheckMs after the request).
   */
  const lookedUp = async <T extends { orderId: string }>(
    kind: Exclude<LookupKind, 'subscribeOrder'>,
    schema: z.ZodType<T>,
    request: { client: Client; data: unknown; reply: Reply },
    answer: (ref: T, lookup: OrderLookup, ticket: LookupTicket) => Promise<void>,
  ): Promise<void> => {
    const { client, data, reply } = request;
    const ref = orderRef(schema, data, reply);
    if (!ref) return;
    if (!orders) {
      reply(errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', ref.orderId));
      return;
    }
    const ticket = admitted(kind, client, ref.orderId, reply);
    if (!ticket) return;
    try {
      await answer(ref, orders, ticket);
    } finally {
      ticket.end();
    }
  };

  const unreachable = (verb: 'read' | 'cancel' | 'amend', orderId: string, detail: string): ServerFrame =>
    internalError(
      log,
      ErrorCode.temporalUnavailable,
      `could not ${verb} the order right now: try again later`,
      orderId,
      `${verb} order ${orderId}: ${detail}`,
    );

  const getOrder = (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    return lookedUp('getOrder', OrderRef, { client, data, reply }, async (ref, lookup, ticket) => {
      const workflowId = await actionable(lookup, client, ref.orderId, ticket);
      if (workflowId === undefined) return notFound(client, ref.orderId, askedAt, reply);
      let view;
      try {
        view = await lookup.view(workflowId, ticket);
      } catch (err) {
        return reply(unreachable('read', ref.orderId, detailOf(err)));
      }
      if (!view) return notFound(client, ref.orderId, askedAt, reply);
      reply({ event: 'order', data: view });
    });
  };

  const cancelOrder = (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    return lookedUp('cancelOrder', CancelOrderInput, { client, data, reply }, async (ref, lookup, ticket) => {
      const workflowId = await actionable(lookup, client, ref.orderId, ticket);
      if (workflowId === undefined) return notFound(client, ref.orderId, askedAt, reply);
      const outcome = await lookup.cancel(workflowId, ticket);
      if (outcome.kind === 'cancelled') reply({ event: 'orderCancelled', data: { orderId: ref.orderId } });
      else if (outcome.kind === 'not-found') await notFound(client, ref.orderId, askedAt, reply);
      else if (outcome.kind === 'refused') reply(errorFrame(ErrorCode.cannotCancel, outcome.reason, ref.orderId));
      else reply(unreachable('cancel', ref.orderId, outcome.reason));
    });
  };

  /** Validated by placeOrder's rules here (INVALID_REQUEST naming the field), then by the workflow's validator. */
  const amendOrder = (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const askedAt = Date.now();
    return lookedUp('amendOrder', AmendOrderInput, { client, data, reply }, async (ref, lookup, ticket) => {
      const { orderId, ...amendment } = ref;
      const workflowId = await actionable(lookup, client, orderId, ticket);
      if (workflowId === undefined) return notFound(client, orderId, askedAt, reply);
      const outcome = await lookup.amend(workflowId, amendment, ticket);
      if (outcome.kind === 'amended') {
        const { amendmentId, order } = outcome.result;
        reply({ event: 'orderAmended', data: { orderId, amendmentId, ...order } });
      } else if (outcome.kind === 'not-found') await notFound(client, orderId, askedAt, reply);
      else if (outcome.kind === 'refused') reply(errorFrame(ErrorCode.cannotAmend, outcome.reason, orderId));
      else reply(unreachable('amend', orderId, outcome.reason));
    });
  };

  const subscribeOrder = (client: Client, data: unknown, reply: Reply): void => {
    const ref = orderRef(SubscribeOrderInput, data, reply);
    if (!ref) return;
    // Without a look-up this gateway's catch-up asks nothing of Temporal: nothing to admit.
    const ticket = orders ? admitted('subscribeOrder', client, ref.orderId, reply) : UNCHARGED_TICKET;
    if (!ticket) return;
    // Answered at once, as for an order that does not exist yet; events follow only for the caller's own orders.
    reply({ event: 'subscribed', data: { orderId: ref.orderId } });
    ticket.answered();
    const workflowId = clientWorkflowId(client.customerId, ref.orderId);
    void subscriptions.follow(client, workflowId, ref.fromSeq, ticket).finally(() => ticket.end());
  };

  return { getOrder, cancelOrder, amendOrder, subscribeOrder };
}
