/**
 * Data keys for payload encryption (envelope encryption): whose key a payload is sealed with, the
 * names those keys go by in a payload's metadata, and the `KeyStore` that makes, finds, rotates and
 * destroys them. The local implementation is ./local-key-store; a cloud KMS (AWS KMS, Google Cloud
 * KMS, Azure Key Vault) would be another `KeyStore`: it would wrap and unwrap each data key with the
 * KMS's key-encryption key instead of the one from the environment (docs/DEPLOYING.md).
 */

/** Whose data key: one customer's (by reference, the hash a scoped workflow id ends with), or the deployment's. */
export type KeyOwner = { kind: 'customer'; ref: string } | { kind: 'deployment' };

export const DEPLOYMENT_OWNER: KeyOwner = { kind: 'deployment' };

/** A data key in clear (held in memory only) and the id payloads name it by. */
export interface DataKey {
  keyId: string;
  key: Buffer;
}

/** What a tombstone records: which versions were destroyed, when, by whom. Never the customer id itself. */
export interface Tombstone {
  owner: string;
  destroyedThrough: number;
  destroyedAt: string;
  by: string;
}

export interface KeyStore {
  /** The key new payloads of `owner` are sealed with (its newest live version), made on first use. */
  currentKey(owner: KeyOwner): Promise<DataKey>;
  /** The key a payload names (its metadata's key id): KeyDestroyedError after erasure, UnknownKeyError if none. */
  keyOf(keyId: string): Promise<Buffer>;
  /** Makes a new version of `owner`'s key for new payloads; payloads sealed with older versions stay readable. */
  rotate(owner: KeyOwner): Promise<DataKey>;
  /** Destroys every version of a customer's key, leaving a tombstone (KeyDestroyedError from then on). */
  destroy(owner: KeyOwner & { kind: 'customer' }, by: string): Promise<Tombstone>;
  /** The tombstone of `owner`'s key, if it was destroyed. */
  tombstoneOf(owner: KeyOwner): Promise<Tombstone | undefined>;
  /** The key of the keyed hash that stands for a customer id in search attributes (HMAC-SHA-256). */
  searchKey(): Promise<Buffer>;
}

/** A payload sealed with a key that `customer:erase` destroyed. */
export class KeyDestroyedError extends Error {
  override name = 'KeyDestroyedError';
  constructor(
    readonly keyId: string,
    readonly tombstone: Tombstone,
  ) {
    super(
      `key destroyed for customer ${customerRefOfKeyId(keyId) ?? tombstone.owner} ` +
        `(key ${keyId}, erased ${tombstone.destroyedAt}): this payload can never be decoded`,
    );
  }
}

/** A key id no key store here knows (another deployment's, or a key file lost). */
export class UnknownKeyError extends Error {
  override name = 'UnknownKeyError';
  constructor(readonly keyId: string) {
    super(`unknown encryption key ${JSON.stringify(keyId)}: not in this key store`);
  }
}

/** A customer reference: 16 lower-case hex digits (common/order customerRefOf). */
const CUSTOMER_REF = /^[0-9a-f]{16}$/;
const CUSTOMER_PREFIX = 'cust-';
const DEPLOYMENT_NAME = 'deployment';
/** `<owner>.v<version>`: `cust-0123456789abcdef.v1`, `deployment.v3`. */
const KEY_ID = /^(cust-[0-9a-f]{16}|deployment)\.v([1-9][0-9]{0,8})$/;

/** The owner's name in key ids and in the key store (a directory of the local store). */
export function ownerName(owner: KeyOwner): string {
  if (owner.kind === 'deployment') return DEPLOYMENT_NAME;
  if (!CUSTOMER_REF.test(owner.ref)) throw new Error(`not a customer reference: ${JSON.stringify(owner.ref)}`);
  return `${CUSTOMER_PREFIX}${owner.ref}`;
}

export function keyIdFor(owner: KeyOwner, version: number): string {
  return `${ownerName(owner)}.v${version}`;
}

/** The owner and version a key id names; undefined when it is not a key id of ours. */
export function parseKeyId(keyId: string): { owner: KeyOwner; version: number } | undefined {
  const m = KEY_ID.exec(keyId);
  if (!m) return undefined;
  const owner: KeyOwner =
    m[1] === DEPLOYMENT_NAME ? DEPLOYMENT_OWNER : { kind: 'customer', ref: m[1]!.slice(CUSTOMER_PREFIX.length) };
  return { owner, version: Number(m[2]) };
}

/**
 * The customer reference a key id belongs to (the hash a scoped workflow id ends with), so a server
 * can tell whether a caller may see a payload; undefined for the deployment's key or a foreign id.
 */
export function customerRefOfKeyId(keyId: string): string | undefined {
  const parsed = parseKeyId(keyId);
  return parsed?.owner.kind === 'customer' ? parsed.owner.ref : undefined;
}
