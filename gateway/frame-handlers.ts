/**
 * What the gateway does with each client frame: rate limit, parse, then placeOrder (validate, write
 * to Kafka, answer orderAccepted only once Kafka stored it), getOrder, cancelOrder, subscribeOrder.
 * Anything wrong is answered with an error frame naming the problem; the connection stays open.
 */
import * as crypto from 'node:crypto';
import type { RawData } from 'ws';
import type { z } from 'zod';
import { describeZodError, Order, PlaceOrderInput, workflowIdFor } from '../common/order';
import { CancelOrderInput, ClientFrame, ErrorCode, errorFrame, OrderRef, ServerFrame, SubscribeOrderInput } from '../common/protocol';
import type { Conn } from './connections';
import type { OrderLookup } from './order-lookup';
import type { OrderProducer } from './order-producer';
import type { Subscriptions } from './subscriptions';

export interface FrameHandlerOptions {
  producer: Pick<OrderProducer, 'publish'>;
  /** Without it, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  subscriptions: Subscriptions;
  rate: { burst: number; perSecond: number };
  send: (conn: Conn, frame: ServerFrame) => void;
  /** True once the gateway is shutting down: requests are answered SHUTTING_DOWN. */
  closing: () => boolean;
  /** Keeps an answer in flight until it is sent (shutdown waits for these). */
  track: (job: Promise<void>) => void;
  log: (line: string) => void;
}

/** An order id claimed by a frame that may not parse, cut to the protocol's length, or null. */
function claimedOrderId(data: unknown): string | null {
  const orderId = (data as { orderId?: unknown } | null)?.orderId;
  return typeof orderId === 'string' ? orderId.slice(0, 64) : null;
}

export function frameHandler(opts: FrameHandlerOptions): (conn: Conn, raw: RawData, isBinary: boolean) => void {
  const { send, subscriptions, orders, rate } = opts;

  const placeOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const parsed = PlaceOrderInput.safeParse(data);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      send(conn, errorFrame(ErrorCode.invalidOrder, message, claimedOrderId(data), field));
      return;
    }
    const order: Order = { ...parsed.data, orderId: parsed.data.orderId ?? crypto.randomUUID() };
    // Follow the order from its first status on; the workflow does not exist yet, so no catch-up now.
    subscriptions.subscribe(conn, order.orderId, 1, false);
    try {
      await opts.producer.publish(order);
    } catch (err) {
      opts.log(`order ${order.orderId}: not accepted: ${(err as Error).message}`);
      send(
        conn,
        errorFrame(ErrorCode.kafkaUnavailable, `order not accepted: ${(err as Error).message}; resend with the same orderId`, order.orderId),
      );
      return;
    }
    send(conn, { event: 'orderAccepted', data: { orderId: order.orderId, workflowId: workflowIdFor(order.orderId) } });
  };

  /** Parses a request naming an order; answers INVALID_REQUEST (naming the field) when it does not parse. */
  const orderRef = <T extends { orderId: string }>(conn: Conn, schema: z.ZodType<T>, data: unknown): T | undefined => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const { field, message } = describeZodError(parsed.error);
    send(conn, errorFrame(ErrorCode.invalidRequest, message, null, field));
    return undefined;
  };

  const withOrders = (conn: Conn, orderId: string): OrderLookup | undefined => {
    if (!orders) send(conn, errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', orderId));
    return orders;
  };

  const getOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const ref = orderRef(conn, OrderRef, data);
    if (!ref) return;
    const lookup = withOrders(conn, ref.orderId);
    if (!lookup) return;
    try {
      const view = await lookup.view(ref.orderId);
      if (!view) send(conn, errorFrame(ErrorCode.notFound, `no order ${ref.orderId}`, ref.orderId));
      else send(conn, { event: 'order', data: view });
    } catch (err) {
      send(conn, errorFrame(ErrorCode.temporalUnavailable, `could not read order ${ref.orderId}: ${(err as Error).message}`, ref.orderId));
    }
  };

  const cancelOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const ref = orderRef(conn, CancelOrderInput, data);
    if (!ref) return;
    const lookup = withOrders(conn, ref.orderId);
    if (!lookup) return;
    const outcome = await lookup.cancel(ref.orderId);
    if (outcome.kind === 'cancelled') send(conn, { event: 'orderCancelled', data: { orderId: ref.orderId } });
    else if (outcome.kind === 'not-found') send(conn, errorFrame(ErrorCode.notFound, `no order ${ref.orderId}`, ref.orderId));
    else if (outcome.kind === 'refused') send(conn, errorFrame(ErrorCode.cannotCancel, outcome.reason, ref.orderId));
    else send(conn, errorFrame(ErrorCode.temporalUnavailable, outcome.reason, ref.orderId));
  };

  const subscribeOrder = (conn: Conn, data: unknown): void => {
    const ref = orderRef(conn, SubscribeOrderInput, data);
    if (!ref) return;
    send(conn, { event: 'subscribed', data: { orderId: ref.orderId } });
    subscriptions.subscribe(conn, ref.orderId, ref.fromSeq, true);
  };

  return (conn, raw, isBinary) => {
    if (!conn.bucket.take()) {
      send(conn, errorFrame(ErrorCode.rateLimited, `too many frames: at most ${rate.perSecond}/s (burst ${rate.burst})`));
      return;
    }
    if (isBinary) {
      send(conn, errorFrame(ErrorCode.badFrame, 'binary frames are not accepted: send JSON text'));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      send(conn, errorFrame(ErrorCode.badJson, 'frame is not valid JSON'));
      return;
    }
    const frame = ClientFrame.safeParse(json);
    if (!frame.success) {
      send(conn, errorFrame(ErrorCode.badFrame, `expected {"event": string, "data": ...}: ${describeZodError(frame.error).message}`));
      return;
    }
    if (opts.closing()) {
      send(conn, errorFrame(ErrorCode.shuttingDown, 'gateway is shutting down; reconnect and resend', claimedOrderId(frame.data.data)));
      return;
    }
    switch (frame.data.event) {
      case 'placeOrder':
        return opts.track(placeOrder(conn, frame.data.data));
      case 'getOrder':
        return opts.track(getOrder(conn, frame.data.data));
      case 'cancelOrder':
        return opts.track(cancelOrder(conn, frame.data.data));
      case 'subscribeOrder':
        return subscribeOrder(conn, frame.data.data);
      default:
        send(
          conn,
          errorFrame(ErrorCode.unknownEvent, `unknown event "${frame.data.event.slice(0, 64)}"; supported: placeOrder, subscribeOrder, getOrder, cancelOrder`),
        );
    }
  };
}
