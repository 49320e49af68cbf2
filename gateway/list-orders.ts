/**
 * listOrders: a page of the caller's orders from the order history (history/list.ts), which is built
 * from the Kafka log, so an order accepted here is listed even while the bridge or Temporal is down.
 * Whose orders: in JWT mode the token's customer only (a customerId in the request is refused, as in
 * placeOrder); in no-auth and shared-token modes the orders placed under the customer label the
 * request names (`unverified:<customerId>`), or without one, those placed without a label. A
 * customer with no orders gets an empty page like any other.
 */
import { ErrorCode, errorFrame, ListOrdersInput } from '../common/protocol';
import { describeZodError } from '../common/order';
import { BadCursorError, type OrderFilter, type OrderPage } from '../history/list';
import { UNVERIFIED_CUSTOMER_PREFIX } from './auth';
import type { Client } from './client';
import { detailOf, internalError } from './internal-error';
import type { Reply } from './read-request';

/** Where the gateway reads the history from (history/list.ts listOrders over the history's database). */
export interface OrderHistory {
  list(customerId: string | null, options: { limit: number; cursor?: string; filter: OrderFilter }): Promise<OrderPage>;
}

export function listOrdersHandler(
  history: OrderHistory | undefined,
  log: (line: string) => void,
): (client: Client, data: unknown, reply: Reply) => Promise<void> {
  return async (client, data, reply) => {
    const parsed = ListOrdersInput.safeParse(data ?? {});
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return reply(errorFrame(ErrorCode.invalidRequest, message, null, field));
    }
    const { status, cursor, limit, customerId: label } = parsed.data;
    if (client.customerId !== undefined && label !== undefined)
      return reply(
        errorFrame(
          ErrorCode.customerIdNotAllowed,
          'customerId is not accepted here: your orders are those of your token; leave customerId out',
          null,
          'customerId',
        ),
      );
    const customer = client.customerId ?? (label === undefined ? null : `${UNVERIFIED_CUSTOMER_PREFIX}${label}`);
    if (!history)
      return reply(errorFrame(ErrorCode.historyUnavailable, 'the order history is not configured on this gateway'));
    try {
      const page = await history.list(customer, { limit, filter: status, ...(cursor ? { cursor } : {}) });
      reply({ event: 'orders', data: page });
    } catch (err) {
      if (err instanceof BadCursorError)
        return reply(errorFrame(ErrorCode.invalidRequest, err.message, null, 'cursor'));
      reply(
        internalError(
          log,
          ErrorCode.historyUnavailable,
          'the order history is unavailable; ask again',
          null,
          detailOf(err),
        ),
      );
    }
  };
}
