/**
 * What the gateway does with each client request, whatever transport carried it (one dispatch, two
 * transports: ./connections for raw WebSocket frames, ./socket-io for Socket.IO events): rate limit,
 * parse, then placeOrder (validate, write to Kafka, answer orderAccepted only once Kafka stored it),
 * getOrder, cancelOrder, subscribeOrder. Anything wrong is answered with an error frame naming the
 * problem; the connection stays open.
 *
 * Ownership (JWT mode, the client has a customer id): placeOrder stamps the order with the caller's
 * customer id; getOrder, cancelOrder and subscribeOrder serve only the caller's own orders, and
 * answer another customer's order exactly as an unknown one (NOT_FOUND, or for subscribeOrder
 * `subscribed` followed by nothing).
 */
import * as crypto from 'node:crypto';
import type { RawData } from 'ws';
import type { z } from 'zod';
import { describeZodError, Order, PlaceOrderRequest, workflowIdFor } from '../common/order';
import {
  CancelOrderInput,
  ClientFrame,
  ErrorCode,
  errorFrame,
  OrderRef,
  ServerFrame,
  SubscribeOrderInput,
} from '../common/protocol';
import { contextFromTraceparent, contextOf, endSpan, SpanKind, startSpan, traceIdOf } from '../common/tracing';
import type { Client } from './client';
import type { OrderLookup } from './order-lookup';
import type { OrderProducer } from './order-producer';
import type { Subscriptions } from './subscriptions';

export interface FrameHandlerOptions {
  producer: Pick<OrderProducer, 'publish'>;
  /** Without it, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  subscriptions: Subscriptions;
  rate: { burst: number; perSecond: number };
  /** True once the gateway is shutting down: requests are answered SHUTTING_DOWN. */
  closing: () => boolean;
  /** Keeps an answer in flight until it is sent (shutdown waits for these). */
  track: (job: Promise<void>) => void;
  log: (line: string) => void;
  /** Told each placeOrder's outcome and the seconds from reading the frame to answering it. */
  onPlacement?: (outcome: PlacementOutcome, seconds: number) => void;
}

export type PlacementOutcome = 'accepted' | 'invalid' | 'kafka_unavailable';

/** An order id claimed by a frame that may not parse, cut to the protocol's length, or null. */
function claimedOrderId(data: unknown): string | null {
  const orderId = (data as { orderId?: unknown } | null)?.orderId;
  return typeof orderId === 'string' ? orderId.slice(0, 64) : null;
}

/** A request as a transport read it: an event name and its data, or the error frame that answers a malformed one. */
export type ReadRequest = { event: string; data: unknown } | { error: ServerFrame };

/** How a request is answered: the transport sends the frame (Socket.IO also passes it to the ack callback). */
export type Reply = (frame: ServerFrame) => void;

export interface Dispatcher {
  /**
   * One request from a client: charged to its rate limit, then `read` (the transport's parsing) is
   * called and the request handled; every answer goes through `reply`.
   */
  handle(client: Client, read: () => ReadRequest, reply: Reply): void;
}

/** The raw WebSocket transport's parsing: a JSON text frame of the {"event", "data"} envelope. */
export function readWsFrame(raw: RawData, isBinary: boolean): ReadRequest {
  if (isBinary) return { error: errorFrame(ErrorCode.badFrame, 'binary frames are not accepted: send JSON text') };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { error: errorFrame(ErrorCode.badJson, 'frame is not valid JSON') };
  }
  return readEnvelope(json);
}

/** Checks the {"event", "data"} envelope (both transports end here). */
export function readEnvelope(json: unknown): ReadRequest {
  const frame = ClientFrame.safeParse(json);
  if (!frame.success) {
    return {
      error: errorFrame(
        ErrorCode.badFrame,
        `expected {"event": string, "data": ...}: ${describeZodError(frame.error).message}`,
      ),
    };
  }
  return { event: frame.data.event, data: frame.data.data };
}

export function createDispatcher(opts: FrameHandlerOptions): Dispatcher {
  const { subscriptions, orders, rate } = opts;
  const notFound = (orderId: string): ServerFrame => errorFrame(ErrorCode.notFound, `no order ${orderId}`, orderId);

  const placeOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const readAt = process.hrtime.bigint();
    const placed = (outcome: PlacementOutcome): void =>
      opts.onPlacement?.(outcome, Number(process.hrtime.bigint() - readAt) / 1e9);
    const parsed = PlaceOrderRequest.safeParse(data);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      reply(errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), field));
      placed('invalid');
      return;
    }
    if (
      client.customerId !== undefined &&
      parsed.data.customerId !== undefined &&
      parsed.data.customerId !== client.customerId
    ) {
      reply(
        errorFrame(
          ErrorCode.invalidOrder,
          "customerId: must be your own (your token's sub) or left out",
          claimedOrderId(data),
          'customerId',
        ),
      );
      placed('invalid');
      return;
    }
    const { traceparent, tracestate, ...input } = parsed.data;
    const order: Order = { ...input, orderId: input.orderId ?? crypto.randomUUID() };
    if (client.customerId !== undefined) order.customerId = client.customerId;
    // The order's trace starts here (or continues the client's); undefined while tracing is off.
    const span = startSpan('placeOrder', SpanKind.SERVER, contextFromTraceparent(traceparent, tracestate), {
      'order.id': order.orderId,
    });
    // Follow the order from its first status on; the workflow does not exist yet, so no catch-up now.
    // With a customer id, nothing is sent before the order's owner is confirmed to be this customer.
    // (A resend on a connection already following the order keeps its progress.)
    const newFollower = !subscriptions.has(client, order.orderId);
    if (newFollower) subscriptions.subscribe(client, order.orderId, 1, false);
    try {
      await opts.producer.publish(order, contextOf(span));
    } catch (err) {
      endSpan(span, err);
      // Not accepted: this placement's subscription must not outlive it.
      if (newFollower) subscriptions.unsubscribe(client, order.orderId);
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

  const withOrders = (orderId: string, reply: Reply): OrderLookup | undefined => {
    if (!orders)
      reply(errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', orderId));
    return orders;
  };

  const unreachable = (verb: 'read' | 'cancel', orderId: string, err: unknown): ServerFrame =>
    errorFrame(ErrorCode.temporalUnavailable, `could not ${verb} order ${orderId}: ${(err as Error).message}`, orderId);

  const getOrder = async (client: Client, data: unknown, reply: Reply): Promise<void> => {
    const ref = orderRef(OrderRef, data, reply);
    if (!ref) return;
    const lookup = withOrders(ref.orderId, reply);
    if (!lookup) return;
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
    const ref = orderRef(CancelOrderInput, data, reply);
    if (!ref) return;
    const lookup = withOrders(ref.orderId, reply);
    if (!lookup) return;
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

  return {
    handle(client, read, reply) {
      if (!client.bucket.take()) {
        // The refusal names the frame's order, so the client knows which one to resend.
        const refused = read();
        const orderId = 'error' in refused ? null : claimedOrderId(refused.data);
        reply(
          errorFrame(
            ErrorCode.rateLimited,
            `too many frames: at most ${rate.perSecond}/s (burst ${rate.burst})`,
            orderId,
          ),
        );
        return;
      }
      const request = read();
      if ('error' in request) return reply(request.error);
      if (opts.closing()) {
        reply(
          errorFrame(
            ErrorCode.shuttingDown,
            'gateway is shutting down; reconnect and resend',
            claimedOrderId(request.data),
          ),
        );
        return;
      }
      switch (request.event) {
        case 'placeOrder':
          return opts.track(placeOrder(client, request.data, reply));
        case 'getOrder':
          return opts.track(getOrder(client, request.data, reply));
        case 'cancelOrder':
          return opts.track(cancelOrder(client, request.data, reply));
        case 'subscribeOrder':
          return subscribeOrder(client, request.data, reply);
        default:
          reply(
            errorFrame(
              ErrorCode.unknownEvent,
              `unknown event "${request.event.slice(0, 64)}"; supported: placeOrder, subscribeOrder, getOrder, cancelOrder`,
            ),
          );
      }
    },
  };
}
