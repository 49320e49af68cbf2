/**
 * A private PostgreSQL cluster run by the launcher: `initdb` once into a directory of the stack's
 * data, then `postgres` on a loopback port with trust auth for one role and no Unix socket. Two
 * servers use it: the database under the Temporal server (ORDERS_TEMPORAL_ENGINE=postgres, Debian's
 * PostgreSQL) and the order history's database (tools/infra/history-db-server.ts, PostgreSQL from an
 * npm package). PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres`
 * system user when there is one, else as `nobody`, and the launcher hands it the directory.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { runOwned, type Log } from './proc';
import { spawnServer, waitReady, type Server } from './server-process';
import type { StackOptions } from './stack-options';

const run = promisify(execFile);

export interface ClusterOptions {
  /** The launcher's name of this server (its pid file, log and ownership checks). */
  server: Server;
  stack: StackOptions;
  /** The cluster's data directory. */
  dir: string;
  port: number;
  /** Where `initdb` and `postgres` are. */
  binDir: string;
  /** The superuser role, trusted on loopback. */
  role: string;
  maxConnections?: number;
}

interface DbUser {
  /** The command and arguments that run one of PostgreSQL's binaries as this user. */
  command: (binary: string, args: string[]) => [string, string[]];
  uid?: number;
  gid?: number;
}

async function idOf(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim());
    const gid = Number((await run('id', ['-g', user])).stdout.trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Who runs PostgreSQL's binaries: we ourselves, or as root the `postgres` system user, else `nobody`. */
async function dbUser(binDir: string): Promise<DbUser> {
  const as = (prefix: string[]) => (binary: string, args: string[]) => {
    const [cmd, ...rest] = [...prefix, path.join(binDir, binary), ...args];
    return [cmd, rest] as [string, string[]];
  };
  if (process.getuid?.() !== 0) return { command: as([]) };
  for (const name of ['postgres', 'nobody']) {
    const ids = await idOf(name);
    if (ids)
      return {
        command: as([`setpriv`, `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--']),
        ...ids,
      };
  }
  throw new Error(
    'PostgreSQL refuses to run as root and there is neither a `postgres` nor a `nobody` user to run it as',
  );
}

/** Does the cluster accept connections (a login of its role to the `postgres` database)? */
export async function clusterReady(port: number, role: string): Promise<boolean> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: role,
    database: 'postgres',
    connectionTimeoutMillis: 1_000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * As root the cluster runs as another user, who must be able to pass through every directory above
 * its binaries and its data. Inside the stack's data directory (made by us, often by mkdtemp with
 * mode 700) the launcher lets others pass (o+x: traverse, not list); above it, it only checks and
 * names the directory that stops them.
 */
function letDbUserThrough(target: string, dataDir: string): void {
  const root = path.resolve(dataDir);
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      if (dir === root || dir.startsWith(root + path.sep)) fs.chmodSync(dir, (mode & 0o7777) | 0o001);
      else
        throw new Error(
          `${dir} cannot be passed through by the PostgreSQL user (mode ${(mode & 0o777).toString(8)}): use an ORDERS_DATA_DIR others may traverse, or run as a normal user`,
        );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** Starts the cluster (creating it on first use) and resolves with its pid once it accepts connections. */
export async function startCluster(o: ClusterOptions, log: Log): Promise<number> {
  const user = await dbUser(o.binDir);
  if (user.uid !== undefined) {
    fs.mkdirSync(path.dirname(o.dir), { recursive: true });
    letDbUserThrough(o.binDir, o.stack.dataDir);
    letDbUserThrough(path.dirname(o.dir), o.stack.dataDir);
  }
  if (!fs.existsSync(path.join(o.dir, 'PG_VERSION'))) {
    fs.rmSync(o.dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(o.dir), { recursive: true });
    fs.mkdirSync(o.dir, { mode: 0o700 });
    if (user.uid !== undefined) fs.chownSync(o.dir, user.uid, user.gid!);
    log(`initdb of a PostgreSQL cluster in ${o.dir}`);
    const [cmd, args] = user.command('initdb', ['-D', o.dir, '-U', o.role, '--auth=trust', '-E', 'UTF8']);
    await runOwned(cmd, args).catch((err: Error & { stderr?: string }) => {
      throw new Error(
        `initdb in ${o.dir} failed (the directory, its parents and ${o.binDir} must be reachable by the db user): ${err.stderr ?? err.message}`,
      );
    });
  }
  const [cmd, args] = user.command('postgres', [
    ...['-D', o.dir, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1'],
    // No Unix socket: the default directory (/var/run/postgresql) belongs to the system cluster.
    ...['-c', 'unix_socket_directories=', '-c', `max_connections=${o.maxConnections ?? 200}`],
  ]);
  const pid = spawnServer(o.server, o.stack, cmd, args);
  await waitReady(o.server, o.stack, pid, () => clusterReady(o.port, o.role), 60_000, log);
  return pid;
}

/** Creates `database` on the cluster unless it exists. */
export async function ensureDatabase(port: number, role: string, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: role, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
