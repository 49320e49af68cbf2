/**
 * A development key-encryption key for `npm start` and the test suite: 32 random bytes in
 * `<data dir>/dev-kek.hex`, readable by its owner only, made once and kept (the data keys it wraps
 * live beside it, in `<data dir>/keys`). Only these two call it, and only when no KEK is set: a
 * deployment sets PAYLOAD_KEK or PAYLOAD_KEK_FILE itself, and the app refuses to run without one.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSet } from '../../common/env-variables';

export function devKekFile(dataDir: string): string {
  const file = path.join(dataDir, 'dev-kek.hex');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' (O_EXCL): two launchers racing make one KEK; the loser reads the winner's.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}

/** Points PAYLOAD_KEK_FILE at the development KEK in `env` unless a KEK is set already; returns the file used, if any. */
export function useDevKekUnlessSet(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isSet('PAYLOAD_KEK', env) || isSet('PAYLOAD_KEK_FILE', env)) return undefined;
  env.PAYLOAD_KEK_FILE = devKekFile(dataDir);
  return env.PAYLOAD_KEK_FILE;
}
