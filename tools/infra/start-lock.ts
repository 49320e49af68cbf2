/**
 * Serialises launchers on one data directory (two `up`s at once would start two brokers on one
 * log dir). The lock file holds the owner's pid; a lock whose owner is gone is taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataPaths } from './paths';
import { isAlive, Log, onExit, sleep } from './proc';
import { StackOptions } from './stack-options';

export async function withStartLock<T>(stack: StackOptions, log: Log, work: () => Promise<T>): Promise<T> {
  const dir = dataPaths.run(stack.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'launcher.lock');
  const deadline = Date.now() + 10 * 60_000;
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
      if (Date.now() > deadline) throw new Error(`another launcher (pid ${owner}) holds ${lock}`);
      if (!told) log(`waiting for another launcher (pid ${owner}) to finish starting servers`);
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
