/**
 * The bridge's reading of one order-placement message: an order, an event whose order is sealed
 * (KAFKA_ENCRYPT_ORDER_FIELDS: opened next with the key store, common/codec openPlacedEvent), or the
 * reason it goes to the DLQ (empty, oversized, not JSON, an unknown schemaVersion, or not the
 * ORDER_PLACED schema). Pure: no Kafka, Temporal or key store, so the unit tier (and StrykerJS)
 * covers it whole.
 */
import type { KafkaMessage } from 'kafkajs';
import {
  describeZodError,
  isSealedOrder,
  Order,
  OrderPlacedEvent,
  orderOfEvent,
  orderPlacedSchemaOf,
  SCHEMA_VERSION,
} from '../common/order';

/** Events larger than this are not orders (the gateway caps frames at 64 KiB). */
export const MAX_EVENT_BYTES = 256 * 1024;

export type Parsed =
  { ok: true; order: Order } | { ok: true; sealed: OrderPlacedEvent } | { ok: false; reason: string };

export function parseOrderEvent(message: KafkaMessage): Parsed {
  const value = message.value;
  if (!value) return { ok: false, reason: 'empty message' };
  if (value.length > MAX_EVENT_BYTES)
    return { ok: false, reason: `oversized: ${value.length} bytes > ${MAX_EVENT_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  // A version this bridge does not know may mean anything: park it rather than guess (docs/EVENTS.md "Evolving an event").
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== undefined && version !== SCHEMA_VERSION) {
    return {
      ok: false,
      reason: `unknown schemaVersion ${JSON.stringify(version).slice(0, 40)} (this bridge reads ${SCHEMA_VERSION})`,
    };
  }
  const parsed = orderPlacedSchemaOf(json).safeParse(json);
  if (!parsed.success) return { ok: false, reason: `schema: ${describeZodError(parsed.error).message}` };
  if (isSealedOrder(parsed.data.payload.order)) return { ok: true, sealed: parsed.data };
  // Events from the seed's producer (docs/DESIGN.md "What this replaces") carry no quantity; the schema's default fills it in.
  return { ok: true, order: orderOfEvent(parsed.data) };
}
