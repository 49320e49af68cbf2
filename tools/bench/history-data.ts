/**
 * The data of the bench's order-history scenario (tools/bench/history-run.ts), kept free of servers so
 * it can be tested alone: the rows inserted in bulk for the listOrders measurement, and the Kafka
 * messages of one order's life (ORDER_PLACED and the 8 status events of a completed order) that are
 * fed to the history process, shaped exactly as the gateway and the worker write them.
 */
import * as crypto from 'node:crypto';
import { kafkaKeyOf, orderPlacedEvent, workflowIdFor, type Order } from '../../common/order';
import { entryOf, numberedEvents, STATUS_SCHEMA_VERSION, type OrderStatus } from '../../common/status';
import type { OrdersTable } from '../../history/store';

/** The statuses a completed order publishes, in order (seq 1..8): what the workflow records on its happy path. */
export const COMPLETED_LIFE: readonly OrderStatus[] = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'CHARGING',
  'CHARGED',
  'SHIPPING',
  'SHIPPED',
  'COMPLETED',
];

export interface KafkaRecord {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** One order's messages: its ORDER_PLACED on order-placement and its status events on order-status. */
export interface OrderLife {
  placement: KafkaRecord;
  statuses: KafkaRecord[];
}

/**
 * The messages of `order`'s life, placed at `placedAt` (epoch ms) with one status every `stepMs`:
 * the gateway's ORDER_PLACED (key, JSON, eventId header) and the worker's status events (key, JSON
 * with workflowId and schemaVersion), with the details the activities publish for CHARGED and SHIPPED.
 */
export function orderLife(order: Order, placedAt: number, stepMs = 10): OrderLife {
  const workflowId = workflowIdFor(order);
  const key = kafkaKeyOf(workflowId);
  const eventId = crypto.randomUUID();
  const detailOf = (status: OrderStatus): string | undefined =>
    status === 'CHARGED' ? `ch_${eventId.slice(0, 12)}` : status === 'SHIPPED' ? `trk_${eventId.slice(24)}` : undefined;
  const entries = COMPLETED_LIFE.map((status, i) => entryOf(status, placedAt + (i + 1) * stepMs, detailOf(status)));
  return {
    placement: { key, value: JSON.stringify(orderPlacedEvent(order, eventId, placedAt)), headers: { eventId } },
    statuses: numberedEvents(order.orderId, entries, 1).map((event) => ({
      key,
      value: JSON.stringify({ ...event, workflowId, schemaVersion: STATUS_SCHEMA_VERSION }),
    })),
  };
}

/** The order a bench order number stands for: varied items, prices and quantities, under one customer. */
export function benchOrder(orderId: string, n: number, customerId: string): Order {
  return { orderId, item: `Bench widget ${n % 17}`, price: 10 + (n % 90), quantity: 1 + (n % 3), customerId };
}

/**
 * `count` history rows of `customerId` for a bulk insert, as the projection leaves them: placed one
 * a minute back from `newestAt` (so every (placed_at, workflow_id) is distinct), one in twenty still
 * open (SHIPPING, seq 6), the rest COMPLETED (seq 8).
 */
export function historyRows(customerId: string, orderIdPrefix: string, count: number, newestAt: number): OrdersTable[] {
  return Array.from({ length: count }, (_, n) => {
    const order = benchOrder(`${orderIdPrefix}${n}`, n, customerId);
    const open = n % 20 === 0;
    const placedAt = newestAt - n * 60_000;
    return {
      workflow_id: workflowIdFor(order),
      order_id: order.orderId,
      customer_id: customerId,
      item: order.item,
      price: order.price,
      quantity: order.quantity,
      status: open ? 'SHIPPING' : 'COMPLETED',
      seq: open ? 6 : 8,
      placed_at: placedAt,
      updated_at: placedAt + (open ? 6_000 : 8_000),
    };
  });
}

/** Splits `items` into consecutive chunks of at most `size` (bulk inserts, produce requests). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a whole number ≥ 1, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One message of a feed, with when to send it (ms after the feed starts) and where. */
export interface TimedRecord {
  atMs: number;
  topic: 'placement' | 'status';
  record: KafkaRecord;
}

/**
 * The lives as a live stream: order n is placed at n / ordersPerSecond seconds and its status events
 * follow one every `stepMs`, as a pipeline running at that rate publishes them (so each order's
 * events keep their order and the orders overlap). Sorted by send time.
 */
export function liveSchedule(lives: readonly OrderLife[], ordersPerSecond: number, stepMs: number): TimedRecord[] {
  if (!(ordersPerSecond > 0)) throw new Error(`the live rate must be above 0 orders/s, not ${ordersPerSecond}`);
  const out: TimedRecord[] = [];
  lives.forEach((life, n) => {
    const placedAt = (n * 1000) / ordersPerSecond;
    out.push({ atMs: placedAt, topic: 'placement', record: life.placement });
    life.statuses.forEach((record, i) => out.push({ atMs: placedAt + (i + 1) * stepMs, topic: 'status', record }));
  });
  // Stable: records due at the same time keep the order they were pushed in.
  return out.sort((a, b) => a.atMs - b.atMs);
}
