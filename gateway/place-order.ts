/**
 * placeOrder: validate the order, stamp the caller's customer id (JWT mode), follow it from its
 * first status, write it to Kafka and answer orderAccepted only once Kafka stored it. A placement
 * Kafka did not take is answered KAFKA_UNAVAILABLE (resend with the same orderId) and leaves no
 * subscription behind.
 */
import * as crypto from 'node:crypto';
import { describeZodError, Order, PlaceOrderRequest, workflowIdFor } from '../common/order';
import { CUSTOMER_ID_MAX_LENGTH, ErrorCode, errorFrame, ServerFrame } from '../common/protocol';
import {
  contextOf,
  endSpan,
  linkFromTraceparent,
  SpanKind,
  startRootSpan,
  traceIdOf,
  type Link,
} from '../common/tracing';
import { UNVERIFIED_CUSTOMER_PREFIX } from './auth';
import { idScopeOf } from './order-key';
import type { Client } from './client';
import { detailOf, internalError } from './internal-error';
import type { OrderProducer } from './order-producer';
import { claimedOrderId, Reply } from './read-request';
import type { Subscriptions } from './subscriptions';

export type PlacementOutcome = 'accepted' | 'invalid' | 'kafka_unavailable';

/** What a placement needs (the dispatcher's options, ./frame-handlers, include these). */
export interface PlacementOptions {
  producer: Pick<OrderProducer, 'publish'>;
  subscriptions: Subscriptions;
  log: (line: string) => void;
  /** An accepted order that shows no status this long is read from its workflow (an id placed before); default 3 s. */
  placedCatchUpMs?: number;
  /** Told each placeOrder's outcome and the seconds from reading the frame to answering it. */
  onPlacement?: (outcome: PlacementOutcome, seconds: number) => void;
  /** Partition routing: the home partition of order-status written into each order placed here. */
  statusPartition?: number;
}

/** How long an accepted order may show no status before its workflow is read (PlacementOptions.placedCatchUpMs). */
export const PLACED_CATCH_UP_MS = 3_000;

/**
 * The order a placeOrder frame asks for, or the frame that refuses it: an order without id gets a
 * UUID. The owner: with a customer id (JWT mode) the token's, the order id is scoped to it (its
 * workflow id names the customer), and a customerId in the frame is refused CUSTOMER_ID_NOT_ALLOWED; without one (none, shared token) a customerId the client sends
 * is recorded as `unverified:<id>`, which no token can claim (./auth UNVERIFIED_CUSTOMER_PREFIX).
 */
export function placementOf(
  data: unknown,
  customerId: string | undefined,
): { order: Order; clientSpan?: Link } | { error: ServerFrame } {
  const parsed = PlaceOrderRequest.safeParse(data);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    return { error: errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), field) };
  }
  const claimed = parsed.data.customerId;
  if (customerId !== undefined && claimed !== undefined) {
    const message = "customerId is not accepted here: the order's owner is your token's sub; leave customerId out";
    return { error: errorFrame(ErrorCode.customerIdNotAllowed, message, claimedOrderId(data), 'customerId') };
  }
  if (claimed !== undefined && UNVERIFIED_CUSTOMER_PREFIX.length + claimed.length > CUSTOMER_ID_MAX_LENGTH) {
    const max = CUSTOMER_ID_MAX_LENGTH - UNVERIFIED_CUSTOMER_PREFIX.length;
    const message = `customerId: must be at most ${max} characters (it is recorded as ${UNVERIFIED_CUSTOMER_PREFIX}<customerId>)`;
    return { error: errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), 'customerId') };
  }
  // The client's W3C trace context (docs/TRACING.md) is not part of the order; at most a link from its trace.
  const { traceparent, tracestate, ...input } = parsed.data;
  const order: Order = { ...input, orderId: input.orderId ?? crypto.randomUUID() };
  if (customerId !== undefined) Object.assign(order, { customerId, idScope: idScopeOf(customerId) });
  else if (claimed !== undefined) order.customerId = `${UNVERIFIED_CUSTOMER_PREFIX}${claimed}`;
  return { order, clientSpan: linkFromTraceparent(traceparent, tracestate) };
}

export async function placeOrder(opts: PlacementOptions, client: Client, data: unknown, reply: Reply): Promise<void> {
  const readAt = process.hrtime.bigint();
  const placed = (outcome: PlacementOutcome): void =>
    opts.onPlacement?.(outcome, Number(process.hrtime.bigint() - readAt) / 1e9);
  const placement = placementOf(data, client.customerId);
  if ('error' in placement) {
    reply(placement.error);
    placed('invalid');
    return;
  }
  const { order } = placement;
  const workflowId = workflowIdFor(order);
  // Partition routing: the worker publishes this order's status events to this gateway's home partition.
  if (opts.statusPartition !== undefined) order.statusPartition = opts.statusPartition;
  // The order's trace starts here, with this gateway's trace id and sampling whatever the client sent
  // (its span only linked); undefined while tracing is off.
  const span = startRootSpan('placeOrder', SpanKind.SERVER, {
    attributes: { 'order.id': order.orderId },
    links: placement.clientSpan && [placement.clientSpan],
  });
  // Follow the order from its first status on; the workflow does not exist yet, so no catch-up now.
  // With a customer id, nothing is sent before the order's owner is confirmed to be this customer.
  // (A resend on a connection already following the order keeps its progress.)
  const newFollower = !opts.subscriptions.has(client, workflowId);
  if (newFollower) opts.subscriptions.subscribe(client, workflowId, 1, false, order.statusPartition);
  try {
    await opts.producer.publish(order, contextOf(span));
  } catch (err) {
    endSpan(span, err);
    // Not accepted: this placement's subscription must not outlive it.
    if (newFollower) opts.subscriptions.unsubscribe(client, workflowId);
    reply(
      internalError(
        opts.log,
        ErrorCode.kafkaUnavailable,
        'order not accepted: it could not be stored right now; resend with the same orderId',
        order.orderId,
        `order ${order.orderId} not accepted: ${detailOf(err)}`,
      ),
    );
    placed('kafka_unavailable');
    return;
  }
  const traceId = traceIdOf(span);
  reply({
    event: 'orderAccepted',
    data: { orderId: order.orderId, workflowId, ...(traceId ? { traceId } : {}) },
  });
  endSpan(span);
  // An id whose workflow already exists gets no new status events: read its state if none come.
  if (newFollower) opts.subscriptions.catchUpIfUnseen(client, workflowId, opts.placedCatchUpMs ?? PLACED_CATCH_UP_MS);
  placed('accepted');
}
