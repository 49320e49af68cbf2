// The payload codec: sealed with the key of the workflow's customer, named in the metadata, opened
// without context; clear payloads pass; rotation keeps old payloads readable.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  createPayloadCodec,
  customerRefOfKeyId,
  KeyDestroyedError,
  keyIdOf,
  LocalKeyStore,
} from '../../../common/codec';
import { customerRefOf, workflowIdFor } from '../../../common/order';

let dir: string;
let keys: LocalKeyStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-'));
  keys = new LocalKeyStore({ dir, kek: crypto.randomBytes(32), cacheMs: 60_000 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const order = { orderId: 'o-1', item: 'Mechanical Keyboard', price: 149.5, customerId: 'alice@example.com' };
const scoped = workflowIdFor({ ...order, idScope: 'customer' });
const context = (workflowId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId });
const payload = (): Payload => defaultPayloadConverter.toPayload(order);

test("a scoped workflow's payloads are sealed with its customer's key and hold nothing in clear", async () => {
  const codec = createPayloadCodec(keys);
  const [sealed] = await codec.encode([payload()], context(scoped));
  const keyId = keyIdOf(sealed!)!;
  expect(customerRefOfKeyId(keyId)).toBe(customerRefOf(order.customerId));
  const bytes = Buffer.from(sealed!.data!);
  for (const clear of ['Mechanical', 'alice', '149.5', 'json/plain']) expect(bytes.includes(clear)).toBe(false);
  // Decoding needs no context: the key id is in the metadata.
  const [opened] = await createPayloadCodec(keys).decode([sealed!]);
  expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(order);
});

test('a global workflow id, or no context, uses the deployment key', async () => {
  const codec = createPayloadCodec(keys);
  const [global] = await codec.encode([payload()], context(workflowIdFor(order)));
  const [none] = await codec.encode([payload()]);
  expect(keyIdOf(global!)).toBe('deployment.v1');
  expect(keyIdOf(none!)).toBe('deployment.v1');
  expect(customerRefOfKeyId('deployment.v1')).toBeUndefined();
});

test('a payload in clear (a history recorded before encryption) decodes as it is', async () => {
  const clear = payload();
  expect(keyIdOf(clear)).toBeUndefined();
  expect(await createPayloadCodec(keys).decode([clear])).toEqual([clear]);
});

test('after rotation new payloads name the new key and old ones still decode', async () => {
  const codec = createPayloadCodec(keys);
  const [old] = await codec.encode([payload()], context(scoped));
  await keys.rotate({ kind: 'customer', ref: customerRefOf(order.customerId) });
  const [next] = await codec.encode([payload()], context(scoped));
  expect(keyIdOf(old!)).toMatch(/\.v1$/);
  expect(keyIdOf(next!)).toMatch(/\.v2$/);
  const opened = await codec.decode([old!, next!]);
  expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([order, order]);
});

test('a sealed payload altered, or relabelled with another key id, fails to decode', async () => {
  const codec = createPayloadCodec(keys);
  const [sealed] = await codec.encode([payload()], context(scoped));
  const data = Buffer.from(sealed!.data!);
  data[20] = data[20]! ^ 1;
  await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow(/fails authentication/);
  await codec.encode([payload()], context(workflowIdFor(order)));
  const relabelled = {
    ...sealed!,
    metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('deployment.v1') },
  };
  await expect(codec.decode([relabelled])).rejects.toThrow(/fails authentication/);
});

test("after the customer's key is destroyed, their payloads fail with KeyDestroyedError", async () => {
  const codec = createPayloadCodec(keys);
  const [sealed] = await codec.encode([payload()], context(scoped));
  await keys.destroy({ kind: 'customer', ref: customerRefOf(order.customerId) }, 'test');
  await expect(codec.decode([sealed!])).rejects.toBeInstanceOf(KeyDestroyedError);
});
