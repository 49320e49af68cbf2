/** The app's data converter for tests' own Temporal clients and workers (payloads sealed as the apps seal them). */
import type { DataConverter } from '@temporalio/common';
import { dataConverterOf } from '../../common/codec';
import { loadConfig } from '../../common/config';

export function appDataConverter(): DataConverter {
  return dataConverterOf(loadConfig().payloadEncryption);
}
