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
import { ErrorCode, errorFrame } from '../common/protocol';
import type { Client } from './client';
import { orderRequests } from './order-requests';
import { placeOrder } from './place-order';
import { claimedOrderId, ReadRequest, Reply } from './read-request';
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

export type { ReadRequest, Reply };

export interface Dispatcher {
  /**
   * One request from a client: charged to its rate limit, then `read` (the transport's parsing) is
   * called and the request handled; every answer goes through `reply`.
   */
  handle(client: Client, read: () => ReadRequest, reply: Reply): void;
}

export function createDispatcher(opts: FrameHandlerOptions): Dispatcher {
  const { rate } = opts;
  const { getOrder, cancelOrder, subscribeOrder } = orderRequests(opts.subscriptions, opts.orders);

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
          return opts.track(placeOrder(opts, client, request.data, reply));
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
