/**
 * A lock between processes of one machine: a file holding its owner's pid, created exclusively.
 * A lock whose owner is gone is taken over, and the file is removed when the work ends or the process
 * exits in the middle. Used where two processes would otherwise do the same long job at once (two
 * launchers on one data directory, two test lanes building one tool).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive, Log, onExit, sleep } from './proc';

export interface FileLockOptions {
  /** How long to wait for another owner before giving up. */
  waitMs: number;
  log: Log;
  /** What the log says once while waiting, given the owner's pid. */
  waiting: (owner: number) => string;
}

export async function withFileLock<T>(lock: string, opts: FileLockOptions, work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another process (pid ${owner}) holds ${lock}`);
      if (!told) opts.log(opts.waiting(owner));
      told = true;
      await sleep(500);
    }
  }
  const release = (): void => fs.rmSync(lock, { force: true });
  // Also when this process exits in the middle (a forced stop): no lock file is left behind.
  const forget = onExit(release);
  try {
    return await work();
  } finally {
    forget();
    release();
  }
}
