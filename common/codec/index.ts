/**
 * Payload encryption, the public face: the codec, the key store it reads, and what the codec server
 * and the tools need to tell whose a payload is. Processes build their Temporal clients and workers
 * with `dataConverterOf` (./data-converter), never with a codec of their own.
 */
export {
  customerRefOfKeyId,
  DEPLOYMENT_OWNER,
  KeyDestroyedError,
  keyIdFor,
  parseKeyId,
  UnknownKeyError,
  type DataKey,
  type KeyOwner,
  type KeyStore,
  type Tombstone,
} from './key-store';
export { erasedAt, LocalKeyStore, parseKek, kekFingerprint, type LocalKeyStoreOptions } from './local-key-store';
export {
  createPayloadCodec,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  keyIdOf,
  keyOwnerOf,
} from './payload-codec';
export {
  fieldsOwnerOf,
  openOrderFields,
  openPlacedEvent,
  SealedFieldsError,
  sealOrderFields,
  type OpenedEvent,
} from './order-fields';
export {
  openKeyStore,
  customerSearchValue,
  dataConverterOf,
  FAILURE_CONVERTER_PATH,
  erasureCheckOf,
  keyStoreOfClient,
  keyStoreOpener,
  payloadPrivacyOf,
  type PayloadEncryptionConfig,
  type PayloadPrivacy,
} from './data-converter';
