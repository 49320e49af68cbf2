// The local key store: wrapping under the KEK, one key per owner however many processes race to make
// it, rotation, and the tombstone that erasure leaves (no servers: a temporary keys directory).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  customerRefOfKeyId,
  KeyDestroyedError,
  LocalKeyStore,
  UnknownKeyError,
  type KeyOwner,
} from '../../../common/codec';

const alice: KeyOwner & { kind: 'customer' } = { kind: 'customer', ref: '0123456789abcdef' };
const bob: KeyOwner = { kind: 'customer', ref: 'fedcba9876543210' };
let dir: string;
const kek = crypto.randomBytes(32);
const store = (opts: { kek?: Buffer; cacheMs?: number } = {}): LocalKeyStore =>
  new LocalKeyStore({ dir, kek: opts.kek ?? kek, cacheMs: opts.cacheMs ?? 60_000 });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a data key is stored wrapped (never in clear) and unwraps to the same key in another process', async () => {
  const { keyId, key } = await store().currentKey(alice);
  expect(keyId).toBe('cust-0123456789abcdef.v1');
  expect(customerRefOfKeyId(keyId)).toBe(alice.ref);
  const file = fs.readFileSync(path.join(dir, 'cust-0123456789abcdef', 'v1.json'));
  expect(file.includes(key)).toBe(false);
  expect(file.includes(Buffer.from(key.toString('base64')))).toBe(false);
  expect(file.includes(Buffer.from(key.toString('hex')))).toBe(false);
  expect((await store().keyOf(keyId)).equals(key)).toBe(true);
  expect(fs.statSync(path.join(dir, 'cust-0123456789abcdef', 'v1.json')).mode & 0o077).toBe(0);
});

test('a store with another KEK cannot unwrap the keys', async () => {
  const { keyId } = await store().currentKey(alice);
  await expect(store({ kek: crypto.randomBytes(32) }).keyOf(keyId)).rejects.toThrow(
    /wrapped by another key-encryption key/,
  );
});

test('a key file tampered with, or copied under another key id, does not unwrap', async () => {
  const { keyId } = await store().currentKey(alice);
  const file = path.join(dir, 'cust-0123456789abcdef', 'v1.json');
  const bobDir = path.join(dir, 'cust-fedcba9876543210');
  fs.mkdirSync(bobDir);
  fs.copyFileSync(file, path.join(bobDir, 'v1.json'));
  await expect(store().keyOf('cust-fedcba9876543210.v1')).rejects.toThrow(/does not unwrap/);
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { wrapped: string };
  const bytes = Buffer.from(stored.wrapped, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  fs.writeFileSync(file, JSON.stringify({ ...stored, wrapped: bytes.toString('base64') }));
  await expect(store().keyOf(keyId)).rejects.toThrow(/does not unwrap/);
});

test('stores racing to make the same customer key end with one key', async () => {
  const made = await Promise.all(Array.from({ length: 12 }, () => store().currentKey(alice)));
  expect(new Set(made.map((k) => k.keyId))).toEqual(new Set(['cust-0123456789abcdef.v1']));
  expect(new Set(made.map((k) => k.key.toString('hex'))).size).toBe(1);
  expect(fs.readdirSync(path.join(dir, 'cust-0123456789abcdef'))).toEqual(['v1.json']);
});

test('rotation: new payloads get the new version, the old version still unwraps', async () => {
  const s = store();
  const v1 = await s.currentKey(alice);
  const v2 = await s.rotate(alice);
  expect(v2.keyId).toBe('cust-0123456789abcdef.v2');
  expect((await store().currentKey(alice)).keyId).toBe(v2.keyId);
  expect((await store().keyOf(v1.keyId)).equals(v1.key)).toBe(true);
  expect(v2.key.equals(v1.key)).toBe(false);
});

test('destroy: a tombstone says the key is destroyed, even to a store that had it cached; other customers are untouched', async () => {
  const holder = store();
  const aliceKey = await holder.currentKey(alice);
  const bobKey = await holder.currentKey(bob);
  await holder.keyOf(aliceKey.keyId);
  const tombstone = await store().destroy(alice, 'test');
  expect(tombstone.destroyedThrough).toBe(1);
  const failure = await holder.keyOf(aliceKey.keyId).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(KeyDestroyedError);
  expect((failure as Error).message).toMatch(/^key destroyed for customer 0123456789abcdef/);
  expect(fs.readdirSync(path.join(dir, 'cust-0123456789abcdef'))).toEqual(['tombstone.json']);
  expect((await holder.keyOf(bobKey.keyId)).equals(bobKey.key)).toBe(true);
  // A later order of the same customer gets a new key; the destroyed one stays destroyed.
  const next = await holder.currentKey(alice);
  expect(next.keyId).toBe('cust-0123456789abcdef.v2');
  await expect(store().keyOf(aliceKey.keyId)).rejects.toBeInstanceOf(KeyDestroyedError);
});

test('a key id nobody made is unknown, not destroyed', async () => {
  await expect(store().keyOf('cust-0123456789abcdef.v7')).rejects.toBeInstanceOf(UnknownKeyError);
  await expect(store().keyOf('someone-else')).rejects.toBeInstanceOf(UnknownKeyError);
});

test('the search key is one per keys directory, shared by every store', async () => {
  const keys = await Promise.all([store().searchKey(), store().searchKey(), store().searchKey()]);
  expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(1);
});
