/**
 * The local key store: each owner's data keys in a directory of their own under the keys directory
 * (`<keys dir>/cust-<ref>/v1.json`, `…/deployment/v1.json`, the search-hash key in `…/search/v1.json`),
 * each one a random 256-bit key wrapped with AES-256-GCM by the key-encryption key (KEK), which never
 * touches the disk here. Every process on the machine (bridge, worker, gateway, codec server, tools)
 * opens the same directory:
 *  - a key file is written whole to a private temporary name, then linked to its final name; link
 *    fails with EEXIST when the name exists (the same exclusivity as O_EXCL), so two processes that
 *    race to make the same key end with one, and nobody reads a half-written file;
 *  - a destroyed key leaves `tombstone.json` in its owner's directory, checked on every use, so a
 *    process that still holds the key in memory stops using it at once;
 *  - unwrapped keys are kept in memory for at most `cacheMs`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  KeyDestroyedError,
  keyIdFor,
  ownerName,
  parseKeyId,
  UnknownKeyError,
  type DataKey,
  type KeyOwner,
  type KeyStore,
  type Tombstone,
} from './key-store';

export interface LocalKeyStoreOptions {
  /** Where the key files live (PAYLOAD_KEYS_DIR, else `<data dir>/keys`). */
  dir: string;
  /** The key-encryption key: 32 bytes. */
  kek: Buffer;
  /** How long an unwrapped key stays in memory. */
  cacheMs: number;
}

/** A wrapped key as stored: which KEK wrapped it (a fingerprint), and the AES-256-GCM parts. */
interface KeyFile {
  keyId: string;
  kek: string;
  iv: string;
  tag: string;
  wrapped: string;
  createdAt: string;
}

/** The search-hash key's owner directory: not a KeyOwner, it seals no payload. */
const SEARCH_DIR = 'search';
const TOMBSTONE = 'tombstone.json';
const VERSION_FILE = /^v([1-9][0-9]{0,8})\.json$/;

/** A KEK from the environment: 64 hex digits (32 bytes). */
export function parseKek(text: string, source: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${source}: a key-encryption key is 64 hex digits (32 bytes)`);
  return Buffer.from(hex, 'hex');
}

/** Names a KEK without revealing it, so a key wrapped by another KEK is told apart from a damaged one. */
export function kekFingerprint(kek: Buffer): string {
  return crypto.createHmac('sha256', kek).update('order-orchestrator key-encryption key').digest('hex').slice(0, 16);
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * When a customer's key was destroyed (epoch ms), read from its tombstone alone: no KEK needed, so a
 * process that never seals (the order history's reader) can tell erased customers.
 */
export async function erasedAt(dir: string, customerRef: string): Promise<number | undefined> {
  const file = path.join(dir, ownerName({ kind: 'customer', ref: customerRef }), TOMBSTONE);
  try {
    return Date.parse((JSON.parse(await fs.promises.readFile(file, 'utf8')) as Tombstone).destroyedAt);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

export class LocalKeyStore implements KeyStore {
  private readonly fingerprint: string;
  /** Unwrapped keys by key id, each until its expiry. */
  private readonly cache = new Map<string, { key: Buffer; until: number }>();

  constructor(private readonly opts: LocalKeyStoreOptions) {
    if (opts.kek.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    this.fingerprint = kekFingerprint(opts.kek);
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  async currentKey(owner: KeyOwner): Promise<DataKey> {
    const name = ownerName(owner);
    const tombstone = await this.readTombstone(name);
    const newest = Math.max(0, ...(await this.versions(name)).filter((v) => v > (tombstone?.destroyedThrough ?? 0)));
    if (newest > 0) {
      const keyId = keyIdFor(owner, newest);
      return { keyId, key: await this.unwrapCached(name, keyId) };
    }
    // None yet (or all destroyed): the first version after any destroyed ones.
    return this.create(owner, (tombstone?.destroyedThrough ?? 0) + 1);
  }

  async keyOf(keyId: string): Promise<Buffer> {
    const parsed = parseKeyId(keyId);
    if (!parsed) throw new UnknownKeyError(keyId);
    const name = ownerName(parsed.owner);
    const tombstone = await this.readTombstone(name);
    if (tombstone && parsed.version <= tombstone.destroyedThrough) {
      this.cache.delete(keyId);
      throw new KeyDestroyedError(keyId, tombstone);
    }
    return this.unwrapCached(name, keyId);
  }

  async rotate(owner: KeyOwner): Promise<DataKey> {
    const name = ownerName(owner);
    const tombstone = await this.readTombstone(name);
    const newest = Math.max(tombstone?.destroyedThrough ?? 0, ...(await this.versions(name)));
    return this.create(owner, newest + 1);
  }

  async destroy(owner: KeyOwner & { kind: 'customer' }, by: string): Promise<Tombstone> {
    const name = ownerName(owner);
    const dir = this.ownerDir(name);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const earlier = await this.readTombstone(name);
    const tombstone: Tombstone = {
      owner: name,
      destroyedThrough: Math.max(earlier?.destroyedThrough ?? 0, ...(await this.versions(name))),
      destroyedAt: new Date().toISOString(),
      by,
    };
    // The tombstone first (every process checks it before using a key), then the wrapped keys go.
    await this.writeAtomically(path.join(dir, TOMBSTONE), JSON.stringify(tombstone), { replace: true });
    for (const v of await this.versions(name)) {
      if (v <= tombstone.destroyedThrough) await fs.promises.rm(path.join(dir, `v${v}.json`), { force: true });
    }
    for (const keyId of [...this.cache.keys()]) if (keyId.startsWith(`${name}.`)) this.cache.delete(keyId);
    return tombstone;
  }

  tombstoneOf(owner: KeyOwner): Promise<Tombstone | undefined> {
    return this.readTombstone(ownerName(owner));
  }

  async searchKey(): Promise<Buffer> {
    const keyId = `${SEARCH_DIR}.v1`;
    const cached = this.cache.get(keyId);
    if (cached && cached.until > Date.now()) return cached.key;
    const file = path.join(this.ownerDir(SEARCH_DIR), 'v1.json');
    const key = (await this.readKeyFile(file, keyId)) ?? (await this.createKeyFile(SEARCH_DIR, 1, keyId));
    this.cache.set(keyId, { key, until: Date.now() + this.opts.cacheMs });
    return key;
  }

  private ownerDir(name: string): string {
    return path.join(this.opts.dir, name);
  }

  private async versions(name: string): Promise<number[]> {
    try {
      const entries = await fs.promises.readdir(this.ownerDir(name));
      return entries.flatMap((e) => {
        const m = VERSION_FILE.exec(e);
        return m ? [Number(m[1])] : [];
      });
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw err;
    }
  }

  private async readTombstone(name: string): Promise<Tombstone | undefined> {
    try {
      return JSON.parse(await fs.promises.readFile(path.join(this.ownerDir(name), TOMBSTONE), 'utf8')) as Tombstone;
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  private async unwrapCached(name: string, keyId: string): Promise<Buffer> {
    const cached = this.cache.get(keyId);
    if (cached && cached.until > Date.now()) return cached.key;
    const version = parseKeyId(keyId)?.version;
    const key = await this.readKeyFile(path.join(this.ownerDir(name), `v${version}.json`), keyId);
    if (!key) {
      // Destroyed between the tombstone check and the read: say so rather than "unknown".
      const tombstone = await this.readTombstone(name);
      if (tombstone && version !== undefined && version <= tombstone.destroyedThrough)
        throw new KeyDestroyedError(keyId, tombstone);
      throw new UnknownKeyError(keyId);
    }
    this.cache.set(keyId, { key, until: Date.now() + this.opts.cacheMs });
    return key;
  }

  private async create(owner: KeyOwner, version: number): Promise<DataKey> {
    const name = ownerName(owner);
    const keyId = keyIdFor(owner, version);
    const key = await this.createKeyFile(name, version, keyId);
    this.cache.set(keyId, { key, until: Date.now() + this.opts.cacheMs });
    return { keyId, key };
  }

  /** Makes key file `v<version>` of `name` unless another process did first; either way returns the one key. */
  private async createKeyFile(name: string, version: number, keyId: string): Promise<Buffer> {
    const dir = this.ownerDir(name);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const key = crypto.randomBytes(32);
    const file = path.join(dir, `v${version}.json`);
    const created = await this.writeAtomically(file, JSON.stringify(this.wrap(key, keyId)), { replace: false });
    if (created) return key;
    const theirs = await this.readKeyFile(file, keyId);
    if (!theirs) throw new Error(`key file ${file} vanished while being made`);
    return theirs;
  }

  /**
   * Writes `text` to a private temporary file, then gives it its name: with `replace`, by rename
   * (the newest write wins); without, by link, which fails when the name exists. Returns whether
   * this call's content is the one under the name.
   */
  private async writeAtomically(file: string, text: string, opts: { replace: boolean }): Promise<boolean> {
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      if (opts.replace) {
        await fs.promises.rename(tmp, file);
        return true;
      }
      await fs.promises.link(tmp, file);
      return true;
    } catch (err) {
      if (!opts.replace && isCode(err, 'EEXIST')) return false;
      throw err;
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  private wrap(key: Buffer, keyId: string): KeyFile {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.opts.kek, iv);
    // The key id is authenticated with the key: a file copied under another name does not unwrap.
    cipher.setAAD(Buffer.from(keyId));
    const wrapped = Buffer.concat([cipher.update(key), cipher.final()]);
    return {
      keyId,
      kek: this.fingerprint,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      wrapped: wrapped.toString('base64'),
      createdAt: new Date().toISOString(),
    };
  }

  /** The key in `file`, unwrapped; undefined when there is no such file. */
  private async readKeyFile(file: string, keyId: string): Promise<Buffer | undefined> {
    let stored: KeyFile;
    try {
      stored = JSON.parse(await fs.promises.readFile(file, 'utf8')) as KeyFile;
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    if (stored.kek !== this.fingerprint)
      throw new Error(
        `key ${keyId} was wrapped by another key-encryption key (${stored.kek}; this process has ${this.fingerprint}): ` +
          'check PAYLOAD_KEK / PAYLOAD_KEK_FILE',
      );
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.opts.kek, Buffer.from(stored.iv, 'base64'));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(stored.wrapped, 'base64')), decipher.final()]);
    } catch {
      throw new Error(`key ${keyId} does not unwrap: its file ${file} is damaged or was not made for this id`);
    }
  }
}
