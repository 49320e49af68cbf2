/**
 * The order history's database when DATABASE_URL names none: PostgreSQL 17 from the pinned npm
 * package (tools/infra/provision-postgres.ts), a private cluster in the stack's data directory on
 * ORDERS_HISTORY_DB_PORT, loopback only, with the `orders_history` database.
 */
import * as path from 'node:path';
import { HISTORY_DB } from '../../common/names';
import { dataPaths, VERSIONS } from './paths';
import { ensureDatabase, startCluster } from './postgres-cluster';
import type { Log } from './proc';
import { provisionEmbeddedPostgres, unpackEmbeddedPostgres } from './provision-postgres';
import { ownedPid } from './server-process';
import type { StackOptions } from './stack-options';

export const historyDbPort = (stack: StackOptions): number => stack.ports.historyDb ?? stack.ports.temporal - 1799;

/** The URL the apps use for the stack's history database (what DATABASE_URL defaults to). */
export const historyDbUrlOf = (stack: StackOptions): string =>
  `postgresql://${HISTORY_DB.role}@127.0.0.1:${historyDbPort(stack)}/${HISTORY_DB.database}`;

/** Starts the history's PostgreSQL (fetching and creating it on first use); resolves with its pid once its database exists. */
export async function startHistoryDb(stack: StackOptions, log: Log): Promise<number> {
  const running = ownedPid('history-db', stack);
  if (running !== undefined) return running;
  const tarball = await provisionEmbeddedPostgres(log);
  const root = dataPaths.historyDbDir(stack.dataDir);
  const binDir = await unpackEmbeddedPostgres(tarball, path.join(root, `postgres-${VERSIONS.embeddedPostgres}`));
  const port = historyDbPort(stack);
  const pid = await startCluster(
    {
      server: 'history-db',
      stack,
      dir: path.join(root, 'cluster'),
      port,
      binDir,
      role: HISTORY_DB.role,
      maxConnections: 100,
    },
    log,
  );
  await ensureDatabase(port, HISTORY_DB.role, HISTORY_DB.database);
  return pid;
}
