/**
 * How one event changes the order history (history/store.ts), inside the caller's transaction.
 * Both rules make applying an event twice change nothing, so a batch read again after a crash is harmless:
 *  - ORDER_PLACED fills the order's fields that are still empty (the first placement of an id is the
 *    order; a re-sent placement of the same id is the same order) and never moves its status;
 *  - a status event moves the row only when its seq is newer than the row's (an older or repeated
 *    event is ignored), so the row shows the newest status whatever order the topics are read in.
 */
import type { KafkaMessage } from 'kafkajs';
import { sql, type Transaction } from 'kysely';
import { parseOrderEvent } from '../bridge/parse-event';
import { openPlacedEvent, type KeyStore } from '../common/codec';
import { workflowIdFor, type Order } from '../common/order';
import { StatusEventSchema } from '../common/status-schemas';
import type { OrderStatus } from '../common/status';
import type { HistoryDb } from './store';

/** The status an order has in the history once placed and before the workflow's first status event. */
export const PLACED_STATUS: OrderStatus = 'ACCEPTED';

export interface PlacedFact {
  kind: 'placed';
  workflowId: string;
  order: Order;
  /** Epoch ms: the event's timestamp, else the Kafka message's. */
  placedAt: number;
}

export interface StatusFact {
  kind: 'status';
  workflowId: string;
  orderId: string;
  status: OrderStatus;
  seq: number;
  at: number;
  /** AMENDED only: the order's item, price and quantity from this event on. */
  order?: { item: string; price: number; quantity: number };
}

export type Fact = PlacedFact | StatusFact;

/**
 * The fact an order-placement message states, or why it states none: `skip` for what the bridge
 * dead-letters, `erased` for a sealed order whose customer's key was destroyed (no row, ever). A
 * sealed order is opened with `keyStore`; when that cannot be read this throws, and the caller's
 * batch is retried.
 */
export async function placedFactOf(
  message: KafkaMessage,
  keyStore: () => KeyStore,
): Promise<PlacedFact | { skip: string } | { erased: string }> {
  const parsed = parseOrderEvent(message);
  if (!parsed.ok) return { skip: parsed.reason };
  let order: Order;
  if ('sealed' in parsed) {
    const opened = await openPlacedEvent(parsed.sealed, keyStore);
    if ('poison' in opened) return { skip: opened.poison };
    if ('erased' in opened) return { erased: opened.erased };
    order = opened.order;
  } else {
    order = parsed.order;
  }
  return { kind: 'placed', workflowId: workflowIdFor(order), order, placedAt: readTimestamp(message) };
}

/** The fact an order-status message states, or why it states none. */
export function statusFactOf(message: KafkaMessage): StatusFact | { skip: string } {
  if (!message.value) return { skip: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    return { skip: 'not JSON' };
  }
  const parsed = StatusEventSchema.safeParse(json);
  if (!parsed.success) return { skip: 'not an order-status event of a known version' };
  const e = parsed.data;
  return {
    kind: 'status',
    workflowId: e.workflowId ?? workflowIdFor({ orderId: e.orderId }),
    orderId: e.orderId,
    status: e.status,
    seq: e.seq,
    at: e.at,
    ...(e.order ? { order: e.order } : {}),
  };
}

/** The placement time: ORDER_PLACED's payload.timestamp when present, else the Kafka message's. */
function readTimestamp(message: KafkaMessage): number {
  try {
    const ts = (JSON.parse(message.value!.toString('utf8')) as { payload?: { timestamp?: unknown } }).payload
      ?.timestamp;
    if (typeof ts === 'number' && Number.isFinite(ts)) return ts;
  } catch {
    // parseOrderEvent has already read it as JSON; unreachable in practice
  }
  return Number(message.timestamp);
}

/** Applies one fact to the history in `tx`. */
export async function applyFact(tx: Transaction<HistoryDb>, fact: Fact): Promise<void> {
  if (fact.kind === 'placed') {
    const { order } = fact;
    await tx
      .insertInto('orders')
      .values({
        workflow_id: fact.workflowId,
        order_id: order.orderId,
        customer_id: order.customerId ?? null,
        item: order.item,
        price: order.price,
        quantity: order.quantity,
        status: PLACED_STATUS,
        seq: 0,
        placed_at: fact.placedAt,
        updated_at: fact.placedAt,
      })
      .onConflict((oc) =>
        oc.column('workflow_id').doUpdateSet({
          customer_id: sql`coalesce(orders.customer_id, excluded.customer_id)`,
          item: sql`coalesce(orders.item, excluded.item)`,
          price: sql`coalesce(orders.price, excluded.price)`,
          quantity: sql`coalesce(orders.quantity, excluded.quantity)`,
          placed_at: sql`coalesce(orders.placed_at, excluded.placed_at)`,
          updated_at: sql`greatest(orders.updated_at, excluded.updated_at)`,
        }),
      )
      .execute();
    return;
  }
  // An amendment's values replace the order's under the same seq guard as its status: a status
  // event older than the row's changes neither, and the placement read later only fills what is empty.
  const amended = fact.order ? { item: fact.order.item, price: fact.order.price, quantity: fact.order.quantity } : {};
  await tx
    .insertInto('orders')
    .values({
      workflow_id: fact.workflowId,
      order_id: fact.orderId,
      customer_id: null,
      item: null,
      price: null,
      quantity: null,
      ...amended,
      status: fact.status,
      seq: fact.seq,
      placed_at: null,
      updated_at: fact.at,
    })
    .onConflict((oc) =>
      oc
        .column('workflow_id')
        .doUpdateSet({
          status: sql`excluded.status`,
          seq: sql`excluded.seq`,
          ...amended,
          updated_at: sql`greatest(orders.updated_at, excluded.updated_at)`,
        })
        .where('orders.seq', '<', fact.seq),
    )
    .execute();
}
