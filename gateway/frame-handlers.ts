/**
 * What the gateway does with each client request, whatever transport carried it (one dispatch, two
 * transports: ./connections for raw WebSocket frames, ./socket-io for Socket.IO events): rate limit,
 * parse, then placeOrder (validate, write to Kafka, answer orderAccepted only once Kafka stored it),
 * getOrder, cancelOrder, amendOrder, subscribeOrder, listOrders. Anything wrong is answered with an error frame
 * naming the problem; the connection stays open (unless it keeps exceeding its rate limit, ./pushback).
 *
 * Ownership (JWT mode, the client has a customer id): placeOrder stamps the order with the caller's
 * customer id; getOrder, cancelOrder, amendOrder and subscribeOrder serve only the caller's own orders, and
 * answer another customer's order exactly as an unknown one (NOT_FOUND, or for subscribeOrder
 * `subscribed` followed by nothing).
 */
import { CLIENT_EVENTS, type ClientEvent } from '../common/client-frames';
import { ErrorCode, errorFrame, UnsubscribeOrderInput } from '../common/protocol';
import { describeZodError } from '../common/order';
import type { Client } from './client';
import { clientWorkflowId } from './order-key';
import { orderRequests } from './order-requests';
import { placeOrder, type PlacementOptions } from './place-order';
import { claimedOrderId, ReadRequest, Reply } from './read-request';
import type { LookupBudget } from './lookup-budget';
import type { OrderLookup } from './order-lookup';
import type { AbuseSettings, RateSettings } from './pushback';
import { listOrdersHandler, type OrderHistory } from './list-orders';

export interface FrameHandlerOptions extends PlacementOptions {
  /** Without it, getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  /** The order history listOrders reads; without it, listOrders answers HISTORY_UNAVAILABLE. */
  history?: OrderHistory;
  /** Admits each look-up (getOrder, cancelOrder, subscribeOrder) or answers it BUSY (./lookup-budget); without it, none is refused. */
  budget?: LookupBudget;
  rate: RateSettings;
  /** Named in the notices (./pushback enforces it). */
  rateAbuse: AbuseSettings;
  /** Orders one connection may follow at once (placeOrder and subscribeOrder beyond it: TOO_MANY_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** JWT mode: how long an order's ownership may take to decide, and the earliest a NOT_FOUND goes out (./order-requests). */
  ownerCheckMs?: number;
  /** True once the gateway is shutting down: requests are answered SHUTTING_DOWN. */
  closing: () => boolean;
  /** Keeps an answer in flight until it is sent (shutdown waits for these). */
  track: (job: Promise<void>) => void;
}

export type { ReadRequest, Reply };

export interface Dispatcher {
  /**
   * One request from a client: charged to its rate limit, then `read` (the transport's parsing) is
   * called and the request handled; every answer goes through `reply`. Over the rate limit, `read`
   * is never called: the frame is dropped, and the first of an episode answered RATE_LIMITED, with
   * `claimed` (a cheap look at the unparsed frame) naming its order (./pushback).
   */
  handle(client: Client, read: () => ReadRequest, reply: Reply, claimed?: () => string | null): void;
}

export function createDispatcher(opts: FrameHandlerOptions): Dispatcher {
  const { rate, rateAbuse } = opts;
  const limitText = `at most ${rate.perSecond}/s (burst ${rate.burst})`;
  const pausedText =
    `too many frames: ${limitText}; this frame, and any received with it, are dropped, and the ` +
    `connection is not read until the rate allows; send again what was not answered`;
  const abusedText =
    `too many frames: ${limitText}, exceeded ${rateAbuse.episodes} times within ` +
    `${rateAbuse.windowMs / 1000} s; closing the connection`;
  const { getOrder, cancelOrder, amendOrder, subscribeOrder } = orderRequests(opts);
  const { subscriptions } = opts;
  const listOrders = listOrdersHandler(opts.history, opts.log);

  /** True (after answering TOO_MANY_SUBSCRIPTIONS) when following one more order would exceed the cap. */
  const atCap = (client: Client, orderId: string | null, reply: Reply): boolean => {
    if (
      (orderId !== null && subscriptions.has(client, clientWorkflowId(client.customerId, orderId))) ||
      subscriptions.countOf(client) < opts.maxSubscriptions
    )
      return false;
    reply(
      errorFrame(
        ErrorCode.tooManySubscriptions,
        `this connection already follows ${opts.maxSubscriptions} orders: unsubscribeOrder some, or wait for them to finish`,
        orderId,
      ),
    );
    return true;
  };

  const unsubscribeOrder = (client: Client, data: unknown, reply: Reply): void => {
    const ref = UnsubscribeOrderInput.safeParse(data);
    if (!ref.success) {
      const { field, message } = describeZodError(ref.error);
      return reply(errorFrame(ErrorCode.invalidRequest, message, null, field));
    }
    subscriptions.unsubscribeOrder(client, clientWorkflowId(client.customerId, ref.data.orderId));
    reply({ event: 'unsubscribed', data: { orderId: ref.data.orderId } });
  };

  /** One handler per client frame (common/client-frames.ts names them). */
  const handlers: Record<ClientEvent, (client: Client, data: unknown, reply: Reply) => void> = {
    placeOrder: (client, data, reply) => {
      // Refused before Kafka: an order placed here is followed here, and there is no room to follow it.
      if (atCap(client, claimedOrderId(data), reply)) return opts.onPlacement?.('invalid', 0);
      opts.track(placeOrder(opts, client, data, reply));
    },
    getOrder: (client, data, reply) => opts.track(getOrder(client, data, reply)),
    cancelOrder: (client, data, reply) => opts.track(cancelOrder(client, data, reply)),
    amendOrder: (client, data, reply) => opts.track(amendOrder(client, data, reply)),
    subscribeOrder: (client, data, reply) => {
      if (!atCap(client, claimedOrderId(data), reply)) subscribeOrder(client, data, reply);
    },
    unsubscribeOrder,
    listOrders: (client, data, reply) => opts.track(listOrders(client, data, reply)),
  };

  return {
    handle(client, read, reply, claimed = () => null) {
      const admission = client.throttle.admit();
      if (admission !== 'pass') {
        // Refused before `read` (no JSON parse, no validation): a flood costs one check per frame,
        // and only the frames read before the transport paused. One notice per episode; it names the
        // frame's order when a cheap look finds one.
        if (admission === 'drop') return;
        reply(errorFrame(ErrorCode.rateLimited, admission === 'close' ? abusedText : pausedText, claimed()));
        if (admission === 'close') client.closeForPolicy('rate limit exceeded repeatedly');
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
      const handler = Object.hasOwn(handlers, request.event) ? handlers[request.event as ClientEvent] : undefined;
      if (handler) return handler(client, request.data, reply);
      reply(
        errorFrame(
          ErrorCode.unknownEvent,
          `unknown event "${request.event.slice(0, 64)}"; supported: ${CLIENT_EVENTS.join(', ')}`,
        ),
      );
    },
  };
}
