/**
 * placeOrder: validate the order, stamp the caller's customer id (JWT mode), follow it from its
 * first status, write it to Kafka and answer orderAccepted only once Kafka stored it. A placement
 * Kafka did not take is answered KAFKA_UNAVAILABLE (resend with the same orderId) and leaves no
 * subscription behind.
 */
import * as crypto from 'node:crypto';
import { describeZodError, Order, PlaceOrderRequest, workflowIdFor } from '../common/order';
import { ErrorCode, errorFrame, ServerFrame } from '../common/protocol';
import {
  contextFromTraceparent,
  contextOf,
  endSpan,
  SpanKind,
  startSpan,
  traceIdOf,
  type Context,
} from '../common/tracing';
import type { Client } from './client';
import type { FrameHandlerOptions, PlacementOutcome } from './frame-handlers';
import { claimedOrderId, Reply } from './read-request';

export type PlacementOptions = Pick<
  FrameHandlerOptions,
  'producer' | 'subscriptions' | 'log' | 'onPlacement' | 'statusPartition'
>;

/**
 * The order a placeOrder frame asks for, or the INVALID_ORDER frame that refuses it: an order
 * without id gets a UUID; with a customer id (JWT mode) the order carries it, and a different one
 * in the frame is refused.
 */
export function placementOf(
  data: unknown,
  customerId: string | undefined,
): { order: Order; trace?: Context } | { error: ServerFrame } {
  const parsed = PlaceOrderRequest.safeParse(data);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    return { error: errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), field) };
  }
  if (customerId !== undefined && parsed.data.customerId !== undefined && parsed.data.customerId !== customerId) {
    const message = "customerId: must be your own (your token's sub) or left out";
    return { error: errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), 'customerId') };
  }
  // The client's W3C trace context (docs/TRACING.md) is not part of the order.
  const { traceparent, tracestate, ...input } = parsed.data;
  const order: Order = { ...input, orderId: input.orderId ?? crypto.randomUUID() };
  if (customerId !== undefined) order.customerId = customerId;
  return { order, trace: contextFromTraceparent(traceparent, tracestate) };
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
  // Partition routing: the worker publishes this order's status events to this gateway's home partition.
  if (opts.statusPartition !== undefined) order.statusPartition = opts.statusPartition;
  // The order's trace starts here (or continues the client's); undefined while tracing is off.
  const span = startSpan('placeOrder', SpanKind.SERVER, placement.trace, { 'order.id': order.orderId });
  // Follow the order from its first status on; the workflow does not exist yet, so no catch-up now.
  // With a customer id, nothing is sent before the order's owner is confirmed to be this customer.
  // (A resend on a connection already following the order keeps its progress.)
  const newFollower = !opts.subscriptions.has(client, order.orderId);
  if (newFollower) opts.subscriptions.subscribe(client, order.orderId, 1, false, order.statusPartition);
  try {
    await opts.producer.publish(order, contextOf(span));
  } catch (err) {
    endSpan(span, err);
    // Not accepted: this placement's subscription must not outlive it.
    if (newFollower) opts.subscriptions.unsubscribe(client, order.orderId);
    opts.log(`order ${order.orderId}: not accepted: ${(err as Error).message}`);
    reply(
      errorFrame(
        ErrorCode.kafkaUnavailable,
        `order not accepted: ${(err as Error).message}; resend with the same orderId`,
        order.orderId,
      ),
    );
    placed('kafka_unavailable');
    return;
  }
  const traceId = traceIdOf(span);
  reply({
    event: 'orderAccepted',
    data: { orderId: order.orderId, workflowId: workflowIdFor(order.orderId), ...(traceId ? { traceId } : {}) },
  });
  endSpan(span);
  placed('accepted');
}
