/**
 * The frames a client sends, by event name, with the schema of each one's data: the gateway has
 * one handler per name (gateway/frame-handlers.ts, typed by this table, so a frame added here
 * without a handler does not compile), and tools/dev/contract.ts publishes these schemas.
 */
import { AmendOrderInput, PlaceOrderRequest } from './order';
import { CancelOrderInput, ListOrdersInput, OrderRef, SubscribeOrderInput, UnsubscribeOrderInput } from './protocol';

export const CLIENT_FRAME_DATA = {
  placeOrder: PlaceOrderRequest,
  subscribeOrder: SubscribeOrderInput,
  unsubscribeOrder: UnsubscribeOrderInput,
  getOrder: OrderRef,
  cancelOrder: CancelOrderInput,
  listOrders: ListOrdersInput,
  amendOrder: AmendOrderInput,
} as const;

export type ClientEvent = keyof typeof CLIENT_FRAME_DATA;
export const CLIENT_EVENTS = Object.keys(CLIENT_FRAME_DATA) as ClientEvent[];
