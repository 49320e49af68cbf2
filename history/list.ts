/**
 * One customer's orders from the history, newest first, a page at a time. Pages are keyset-paged on
 * (placed_at, workflow_id) so a page costs the same whatever its depth and orders placed meanwhile
 * neither repeat nor skip rows on later pages. The cursor is opaque to clients.
 */
import type { Kysely } from 'kysely';
import { FINAL_STATUSES, type OrderStatus } from '../common/status';
import type { HistoryDb } from './store';

export const MAX_PAGE_SIZE = 50;

export type OrderFilter = 'all' | 'open' | 'finished';

export interface OrderRow {
  orderId: string;
  item: string | null;
  price: number | null;
  quantity: number | null;
  status: OrderStatus;
  seq: number;
  placedAt: number;
  updatedAt: number;
}

export interface OrderPage {
  orders: OrderRow[];
  /** Pass it back for the next page; absent on the last page. */
  cursor?: string;
}

interface Position {
  placedAt: number;
  workflowId: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.placedAt, p.workflowId]), 'utf8').toString('base64url');
}

/** The position a cursor names, or undefined for anything this module did not make. */
export function decodeCursor(cursor: string): Position | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string' &&
      value[1].length <= 300
    )
      return { placedAt: value[0] as number, workflowId: value[1] };
  } catch {
    // not base64url JSON: not ours
  }
  return undefined;
}

export class BadCursorError extends Error {}

/**
 * A page of `customerId`'s orders (null: the orders placed without a customer id); orders whose
 * placement the history has not read yet are left out.
 */
export async function listOrders(
  db: Kysely<HistoryDb>,
  customerId: string | null,
  options: { limit?: number; cursor?: string; filter?: OrderFilter } = {},
): Promise<OrderPage> {
  const limit = Math.min(Math.max(1, options.limit ?? MAX_PAGE_SIZE), MAX_PAGE_SIZE);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  if (options.cursor !== undefined && after === undefined) throw new BadCursorError('cursor: not one this server gave');
  let query = db
    .selectFrom('orders')
    .select(['workflow_id', 'order_id', 'item', 'price', 'quantity', 'status', 'seq', 'placed_at', 'updated_at'])
    .where('customer_id', customerId === null ? 'is' : '=', customerId)
    .where('placed_at', 'is not', null);
  if (options.filter === 'open') query = query.where('status', 'not in', [...FINAL_STATUSES]);
  if (options.filter === 'finished') query = query.where('status', 'in', [...FINAL_STATUSES]);
  // A row-value comparison, not the equivalent OR of two conditions: PostgreSQL turns it into one
  // range of the orders_by_customer index, so a deep page starts at its position instead of
  // reading and discarding the rows before it.
  if (after)
    query = query.where((eb) =>
      eb(eb.refTuple('placed_at', 'workflow_id'), '<', eb.tuple(after.placedAt, after.workflowId)),
    );
  const rows = await query
    .orderBy('placed_at', 'desc')
    .orderBy('workflow_id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    orders: page.map((r) => ({
      orderId: r.order_id,
      item: r.item,
      price: r.price,
      quantity: r.quantity,
      status: r.status,
      seq: r.seq,
      placedAt: Number(r.placed_at),
      updatedAt: Number(r.updated_at),
    })),
    ...(rows.length > limit && last
      ? { cursor: encodeCursor({ placedAt: Number(last.placed_at), workflowId: last.workflow_id }) }
      : {}),
  };
}
