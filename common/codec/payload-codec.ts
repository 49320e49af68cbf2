/**
 * The payload codec: every payload between our processes and Temporal is sealed with AES-256-GCM
 * (Node's crypto) under its owner's data key. The owner comes from the serialization context's
 * workflow id (a scoped id names its customer; a global one, or no context, means the deployment's
 * key). Decoding needs no context: the key id travels in the payload's metadata, so the codec
 * server and replay decode with the key store alone. Payloads that are not sealed (recorded
 * histories from before encryption, an encryption-off deployment) pass through unchanged.
 */
import * as crypto from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { customerRefOfWorkflowId } from '../order';
import { DEPLOYMENT_OWNER, type KeyOwner, type KeyStore } from './key-store';

/** The metadata of a sealed payload: its encoding, and the id of the key that sealed it. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ENCODING_METADATA = 'encoding';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/** The key id a sealed payload names; undefined for a payload in clear. */
export function keyIdOf(payload: Payload): string | undefined {
  const metadata = payload.metadata;
  if (!metadata || text(metadata[ENCODING_METADATA]) !== ENCRYPTED_ENCODING) return undefined;
  return text(metadata[KEY_ID_METADATA]) ?? '';
}

/** Whose key seals the payloads of a context: the customer a scoped workflow id names, else the deployment. */
export function keyOwnerOf(context: SerializationContext | undefined): KeyOwner {
  const ref = context?.workflowId === undefined ? undefined : customerRefOfWorkflowId(context.workflowId);
  return ref === undefined ? DEPLOYMENT_OWNER : { kind: 'customer', ref };
}

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keyStore: KeyStore) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const { keyId, key } = await this.keyStore.currentKey(keyOwnerOf(context));
    return payloads.map((payload) => {
      // Already sealed (a payload handed on as it came, e.g. a failure's details): not sealed twice.
      if (keyIdOf(payload) !== undefined) return payload;
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated with the data: a payload relabelled with another id does not decode.
      cipher.setAAD(utf8(keyId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [ENCODING_METADATA]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const keyId = keyIdOf(payload);
        if (keyId === undefined) return payload;
        const key = await this.keyStore.keyOf(keyId);
        const sealed = Buffer.from(payload.data ?? new Uint8Array());
        if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error(`sealed payload under key ${keyId} is truncated`);
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
        decipher.setAAD(utf8(keyId));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        let plain: Buffer;
        try {
          plain = Buffer.concat([
            decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
            decipher.final(),
          ]);
        } catch {
          throw new Error(
            `sealed payload under key ${keyId} fails authentication: altered, or sealed with another key`,
          );
        }
        return temporal.api.common.v1.Payload.decode(plain) as Payload;
      }),
    );
  }
}

export function createPayloadCodec(keyStore: KeyStore): PayloadCodec {
  return new EncryptionCodec(keyStore);
}
