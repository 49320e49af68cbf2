/**
 * From the settings to what clients and workers are built with: the key store (opened once per
 * process and keys directory, so every client of a process shares its cache), the data converter
 * holding the codec, and the value that stands for a customer in the CustomerId search attribute.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { KeyStore } from './key-store';
import { erasedAt, LocalKeyStore, parseKek } from './local-key-store';
import { createPayloadCodec, EncryptionCodec } from './payload-codec';

/** The PAYLOAD_* settings (common/config payloadEncryptionOf). */
export interface PayloadEncryptionConfig {
  enabled: boolean;
  /** Where the local key store keeps the wrapped keys. */
  keysDir: string;
  /** The key-encryption key, 64 hex digits (PAYLOAD_KEK), or the file that holds it (PAYLOAD_KEK_FILE). */
  kek?: string;
  kekFile?: string;
  /** How long an unwrapped data key stays in memory. */
  keyCacheMs: number;
}

/** What a process needs for payload privacy: the key store (when on), the data converter, the customer's search value. */
export interface PayloadPrivacy {
  enabled: boolean;
  keyStore: KeyStore | undefined;
  dataConverter: DataConverter;
}

/**
 * Opens the local key store. The KEK comes from the environment or a file, never from code: without
 * one this fails, naming the settings (`npm start` and the test suite make a development KEK in the
 * data directory, tools/infra/dev-kek.ts).
 */
export function openKeyStore(config: PayloadEncryptionConfig): KeyStore {
  let kek: Buffer;
  if (config.kek !== undefined) kek = parseKek(config.kek, 'PAYLOAD_KEK');
  else if (config.kekFile !== undefined) kek = parseKek(fs.readFileSync(config.kekFile, 'utf8'), config.kekFile);
  else
    throw new Error(
      'payload encryption is on (PAYLOAD_ENCRYPTION=on) but no key-encryption key is set: ' +
        'set PAYLOAD_KEK (64 hex digits) or PAYLOAD_KEK_FILE (a file holding them), or PAYLOAD_ENCRYPTION=off',
    );
  return new LocalKeyStore({ dir: config.keysDir, kek, cacheMs: config.keyCacheMs });
}

/** The app's failure converter (./failure-converter), by path: the SDK loads it, also into workflow bundles. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

const opened = new Map<string, PayloadPrivacy>();

/** The process's payload privacy for these settings, made once (one key store, one cache). */
export function payloadPrivacyOf(config: PayloadEncryptionConfig): PayloadPrivacy {
  const id = JSON.stringify(config);
  let privacy = opened.get(id);
  if (!privacy) {
    const keyStore = config.enabled ? openKeyStore(config) : undefined;
    privacy = {
      enabled: config.enabled,
      keyStore,
      dataConverter: {
        failureConverterPath: FAILURE_CONVERTER_PATH,
        ...(keyStore ? { payloadCodecs: [createPayloadCodec(keyStore)] } : {}),
      },
    };
    opened.set(id, privacy);
  }
  return privacy;
}

/** The key store a client's codec seals with; undefined for a client built without the app's codec. */
export function keyStoreOfClient(client: Client): KeyStore | undefined {
  const codec = client.options.loadedDataConverter.payloadCodecs.find((c) => c instanceof EncryptionCodec);
  return codec instanceof EncryptionCodec ? codec.keyStore : undefined;
}

/** The data converter every Temporal Client and Worker of the app is built with. */
export function dataConverterOf(config: PayloadEncryptionConfig): DataConverter {
  return payloadPrivacyOf(config).dataConverter;
}

/**
 * What the CustomerId search attribute holds for a customer (a key store: the one a client seals
 * with, keyStoreOfClient): with encryption on, a keyed hash
 * (HMAC-SHA-256 under the key store's search key, 32 hex digits), so Visibility and the Temporal UI
 * show no customer id and only a holder of the key can find a customer's runs; with it off, the id.
 */
export async function customerSearchValue(keyStore: KeyStore | undefined, customerId: string): Promise<string> {
  if (!keyStore) return customerId;
  const key = await keyStore.searchKey();
  return crypto.createHmac('sha256', key).update(customerId).digest('hex').slice(0, 32);
}

/** When a customer (by reference) was erased, from the keys directory's tombstones; undefined with encryption off. */
export function erasureCheckOf(
  config: PayloadEncryptionConfig,
): ((customerRef: string) => Promise<number | undefined>) | undefined {
  return config.enabled ? (ref) => erasedAt(config.keysDir, ref) : undefined;
}

/**
 * The key store of a process that only reads sealed data (the bridge and the order history reading
 * order-placement), opened on first use: a process that never meets a sealed order needs no KEK. It
 * throws, naming the settings, while encryption is off or no KEK is set; readers retry that rather
 * than skip the event.
 */
export function keyStoreOpener(config: PayloadEncryptionConfig): () => KeyStore {
  return () => {
    if (!config.enabled)
      throw new Error(
        'a sealed order (KAFKA_ENCRYPT_ORDER_FIELDS on the gateway) needs the key store: set PAYLOAD_ENCRYPTION=on and PAYLOAD_KEK or PAYLOAD_KEK_FILE here',
      );
    return payloadPrivacyOf(config).keyStore!;
  };
}
