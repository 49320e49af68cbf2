/**
 * Serialises launchers on one data directory (two `up`s at once would start two brokers on one
 * log dir). The lock file holds the owner's pid; a lock whose owner is gone is taken over.
 */
import * as path from 'node:path';
import { withFileLock } from './file-lock';
import { dataPaths } from './paths';
import { Log } from './proc';
import { StackOptions } from './stack-options';

export function withStartLock<T>(stack: StackOptions, log: Log, work: () => Promise<T>): Promise<T> {
  return withFileLock(
    path.join(dataPaths.run(stack.dataDir), 'launcher.lock'),
    {
      waitMs: 10 * 60_000,
      log,
      waiting: (owner) => `waiting for another launcher (pid ${owner}) to finish starting servers`,
    },
    work,
  );
}
