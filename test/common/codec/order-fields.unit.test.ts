// Sealing an order's customer data for the Kafka topics (KAFKA_ENCRYPT_ORDER_FIELDS): what stays in
// clear, whose key seals it, and what a reader makes of an event it cannot open (no servers: a
// temporary keys directory).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  LocalKeyStore,
  openOrderFields,
  openPlacedEvent,
  SealedFieldsError,
  sealOrderFields,
  type KeyStore,
} from '../../../common/codec';
import { customerRefOf, OrderPlacedEvent, orderPlacedEvent, type Order } from '../../../common/order';

let dir: string;
let keys: LocalKeyStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-fields-'));
  keys = new LocalKeyStore({ dir, kek: crypto.randomBytes(32), cacheMs: 60_000 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const order: Order = {
  orderId: 'o-1',
  item: 'Mechanical Keyboard',
  price: 150.25,
  quantity: 3,
  customerId: 'alice',
  idScope: 'customer',
  statusPartition: 2,
};

test("only the order id and status partition stay in clear; the rest is one ciphertext under the customer's key", async () => {
  const sealed = await sealOrderFields(keys, order);
  expect(Object.keys(sealed).sort()).toEqual(['orderId', 'sealed', 'statusPartition']);
  expect(sealed).toMatchObject({ orderId: 'o-1', statusPartition: 2 });
  expect(sealed.sealed.keyId).toBe(`cust-${customerRefOf('alice')}.v1`);
  const wire = JSON.stringify(orderPlacedEvent(order, 'e-1', 1, sealed));
  for (const secret of ['Mechanical Keyboard', '150.25', 'alice']) expect(wire).not.toContain(secret);
  expect(await openOrderFields(keys, sealed)).toEqual({
    item: 'Mechanical Keyboard',
    price: 150.25,
    quantity: 3,
    customerId: 'alice',
  });
});

test("an order without a customer is sealed with the deployment's key", async () => {
  const anonymous: Order = { orderId: 'o-1', item: order.item, price: order.price, quantity: order.quantity };
  const sealed = await sealOrderFields(keys, anonymous);
  expect(sealed.sealed.keyId).toBe('deployment.v1');
  expect(await openOrderFields(keys, sealed)).toEqual({
    item: order.item,
    price: order.price,
    quantity: order.quantity,
  });
});

test('each sealing uses a fresh IV: the same order sealed twice gives two ciphertexts', async () => {
  const a = await sealOrderFields(keys, order);
  const b = await sealOrderFields(keys, order);
  expect(a.sealed.data).not.toBe(b.sealed.data);
});

test('the event reads back to the same order, its id scope from the event', async () => {
  const event = OrderPlacedEvent.parse(
    JSON.parse(JSON.stringify(orderPlacedEvent(order, 'e-1', 1, await sealOrderFields(keys, order)))),
  );
  expect(await openPlacedEvent(event, () => keys)).toEqual({ order });
});

test('a ciphertext altered, moved to another order, or relabelled with another key id does not open (poison)', async () => {
  const sealed = await sealOrderFields(keys, order);
  const bytes = Buffer.from(sealed.sealed.data, 'base64');
  bytes[20] ^= 1;
  const altered = { ...sealed, sealed: { ...sealed.sealed, data: bytes.toString('base64') } };
  await expect(openOrderFields(keys, altered)).rejects.toThrow(SealedFieldsError);
  await expect(openOrderFields(keys, { ...sealed, orderId: 'o-2' })).rejects.toThrow(/fail authentication/);
  const bob = await keys.currentKey({ kind: 'customer', ref: customerRefOf('bob') });
  await expect(openOrderFields(keys, { ...sealed, sealed: { ...sealed.sealed, keyId: bob.keyId } })).rejects.toThrow(
    SealedFieldsError,
  );
  const event = OrderPlacedEvent.parse(orderPlacedEvent(order, 'e', 1, { ...sealed, orderId: 'o-2' }));
  expect(await openPlacedEvent(event, () => keys)).toEqual({ poison: expect.stringMatching(/^sealed order fields: /) });
});

test("after the customer's key is destroyed the event reads as erased; a key this store never had as poison", async () => {
  const event = OrderPlacedEvent.parse(orderPlacedEvent(order, 'e', 1, await sealOrderFields(keys, order)));
  await keys.destroy({ kind: 'customer', ref: customerRefOf('alice') }, 'test');
  expect(await openPlacedEvent(event, () => keys)).toEqual({ erased: expect.stringMatching(/key destroyed/) });
  const elsewhere = new LocalKeyStore({ dir: path.join(dir, 'other'), kek: crypto.randomBytes(32), cacheMs: 0 });
  expect(await openPlacedEvent(event, () => elsewhere)).toEqual({ poison: expect.stringMatching(/unknown/) });
});

test('a key store that cannot be read is thrown to the caller (to retry), never read as erased or poison', async () => {
  const event = OrderPlacedEvent.parse(orderPlacedEvent(order, 'e', 1, await sealOrderFields(keys, order)));
  const down = (): KeyStore => {
    throw new Error('key store unreachable');
  };
  await expect(openPlacedEvent(event, down)).rejects.toThrow('key store unreachable');
  const failing: KeyStore = {
    ...keys,
    keyOf: () => Promise.reject(new Error('EIO: i/o error')),
  } as unknown as KeyStore;
  await expect(openPlacedEvent(event, () => failing)).rejects.toThrow('EIO');
});

test('a clear event needs no key store at all', async () => {
  const event = OrderPlacedEvent.parse(orderPlacedEvent(order, 'e', 1));
  const none = (): KeyStore => {
    throw new Error('no key store');
  };
  expect(await openPlacedEvent(event, none)).toEqual({ order });
});
