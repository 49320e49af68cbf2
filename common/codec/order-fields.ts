/**
 * The order's customer data on the Kafka topics (KAFKA_ENCRYPT_ORDER_FIELDS): the gateway seals an
 * order's item, price, quantity and customer id into one AES-256-GCM ciphertext under the data key
 * of that customer (the deployment's when the order names none), from the same key store the payload
 * codec seals Temporal's payloads with; every reader of order-placement opens it with the key id that
 * travels beside it. What routing and dedupe read (order id, status partition, the event's idScope,
 * eventId, the Kafka key) stays in clear. Erasing a customer destroys the key, and with it every
 * copy of their orders the topics still hold (crypto-shredding).
 */
import * as crypto from 'node:crypto';
import {
  customerRefOf,
  isSealedOrder,
  orderOfEvent,
  SealedFieldsSchema,
  type Order,
  type OrderPlacedEvent,
  type SealedFields,
  type SealedOrder,
} from '../order';
import { DEPLOYMENT_OWNER, KeyDestroyedError, UnknownKeyError, type KeyOwner, type KeyStore } from './key-store';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed order that can never be opened as it is: altered, relabelled, or not of our making (a poison message). */
export class SealedFieldsError extends Error {
  override name = 'SealedFieldsError';
}

/** Whose key seals an order's fields: its customer's (by reference), else the deployment's. */
export function fieldsOwnerOf(order: Pick<Order, 'customerId'>): KeyOwner {
  return order.customerId === undefined ? DEPLOYMENT_OWNER : { kind: 'customer', ref: customerRefOf(order.customerId) };
}

/**
 * What the ciphertext is bound to besides the key: the topic's purpose, the key id and the order id,
 * so a sealed blob copied into another order's event, or relabelled with another key id, fails to open.
 */
function associatedData(keyId: string, orderId: string): Buffer {
  return Buffer.from(`order-placement\n${keyId}\n${orderId}`, 'utf8');
}

/** The order as ORDER_PLACED carries it with its fields sealed. */
export async function sealOrderFields(keyStore: KeyStore, order: Order): Promise<SealedOrder> {
  const { keyId, key } = await keyStore.currentKey(fieldsOwnerOf(order));
  const fields: SealedFields = {
    item: order.item,
    price: order.price,
    quantity: order.quantity,
    ...(order.customerId === undefined ? {} : { customerId: order.customerId }),
  };
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(keyId, order.orderId));
  const data = Buffer.concat([iv, cipher.update(JSON.stringify(fields), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    orderId: order.orderId,
    ...(order.statusPartition === undefined ? {} : { statusPartition: order.statusPartition }),
    sealed: { keyId, data: data.toString('base64') },
  };
}

/**
 * The fields a sealed order holds. Throws what the key store throws for its key id (KeyDestroyedError
 * once the customer was erased, UnknownKeyError for a key this store never had, anything else when
 * the store cannot be read: the caller retries those), and SealedFieldsError when the ciphertext does
 * not open or does not hold an order's fields.
 */
export async function openOrderFields(keyStore: KeyStore, order: SealedOrder): Promise<SealedFields> {
  const { keyId, data } = order.sealed;
  const key = await keyStore.keyOf(keyId);
  const sealed = Buffer.from(data, 'base64');
  if (sealed.length < IV_BYTES + TAG_BYTES)
    throw new SealedFieldsError(`order ${order.orderId}: sealed fields under key ${keyId} are truncated`);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(associatedData(keyId, order.orderId));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let plain: string;
  try {
    plain = Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SealedFieldsError(
      `order ${order.orderId}: sealed fields under key ${keyId} fail authentication (altered, moved from another order, or sealed with another key)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(plain);
  } catch {
    throw new SealedFieldsError(`order ${order.orderId}: sealed fields under key ${keyId} are not JSON`);
  }
  const parsed = SealedFieldsSchema.safeParse(json);
  if (!parsed.success)
    throw new SealedFieldsError(
      `order ${order.orderId}: sealed fields are not an order's: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

/**
 * What a reader of order-placement makes of an event: the order (opened first when sealed); `erased`
 * when its customer's key was destroyed (the order is gone for good: skipped and counted, never
 * retried or parked); `poison` when it can never be opened here (a key this store never had, or a
 * ciphertext that fails authentication: parked like any event that is not an order). Anything else
 * (the key store unreadable, no key store configured) is thrown, for the caller to retry with backoff.
 */
export type OpenedEvent = { order: Order } | { erased: string } | { poison: string };

export async function openPlacedEvent(event: OrderPlacedEvent, keyStore: () => KeyStore): Promise<OpenedEvent> {
  const carried = event.payload.order;
  if (!isSealedOrder(carried)) return { order: orderOfEvent(event) };
  try {
    return { order: orderOfEvent(event, await openOrderFields(keyStore(), carried)) };
  } catch (err) {
    if (err instanceof KeyDestroyedError) return { erased: err.message };
    if (err instanceof UnknownKeyError || err instanceof SealedFieldsError)
      return { poison: `sealed order fields: ${err.message}` };
    throw err;
  }
}
