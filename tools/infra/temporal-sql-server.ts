/**
 * The Temporal server on PostgreSQL (ORDERS_TEMPORAL_ENGINE=postgres): the engine a team moves to
 * when the dev server's single SQLite writer is the ceiling. Three parts, all in the stack's data dir:
 *  - a private PostgreSQL cluster (Debian's binaries, `initdb` once, then `postgres` on the stack's
 *    port, loopback only, trust auth for the `temporal` role). PostgreSQL refuses to run as root, so
 *    as root the launcher runs it as the `postgres` system user (setpriv) and hands it the directory;
 *  - the schema of the `temporal` and `temporal_visibility` databases, set up and updated with
 *    temporal-sql-tool from the schema embedded in the release (idempotent; recorded once done);
 *  - the Temporal server (frontend, history, matching, worker in one process) of the release the dev
 *    server embeds, with a config file written at each start: history shard count from the stack,
 *    the same dynamic config as the tuned dev server, and the app's namespace registered once it answers.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { TEMPORAL_DEV_DYNAMIC_CONFIG } from './temporal-dynamic-config';
import { temporalReady } from '../../common/health';
import { DEFAULT_NAMESPACE } from '../../common/names';
import { dataPaths, VERSIONS } from './paths';
import { freeLowPort, freePort, Log } from './proc';
import { provisionTemporalServer } from './provision';
import { startCluster } from './postgres-cluster';
import { ownedPid, spawnServer, waitReady } from './server-process';
import { StackOptions, temporalAddressOf } from './stack-options';

const run = promisify(execFile);

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
/** History shards when the stack names none (Temporal's own development config uses 4). */
export const DEFAULT_HISTORY_SHARDS = 4;
const DB_USER = 'temporal';
const DATABASES = { temporal: 'postgresql/v12/temporal', temporal_visibility: 'postgresql/v12/visibility' } as const;

export const postgresPort = (stack: StackOptions): number => stack.ports.postgres ?? stack.ports.temporal - 1800;
export const historyShardsOf = (stack: StackOptions): number => stack.historyShards ?? DEFAULT_HISTORY_SHARDS;

function requirePostgres(): void {
  if (!fs.existsSync(path.join(POSTGRES_BIN, 'postgres')))
    throw new Error(
      `PostgreSQL 15 is not installed (${POSTGRES_BIN}/postgres missing): apt-get install postgresql-15, or use ORDERS_TEMPORAL_ENGINE=dev`,
    );
}

/** Starts the stack's PostgreSQL cluster (creating it on first use) and waits until it accepts connections. */
export async function startPostgres(stack: StackOptions, log: Log): Promise<number> {
  const running = ownedPid('postgres', stack);
  if (running !== undefined) return running;
  requirePostgres();
  const dir = dataPaths.postgresDir(stack.dataDir);
  return startCluster(
    { server: 'postgres', stack, dir, port: postgresPort(stack), binDir: POSTGRES_BIN, role: DB_USER },
    log,
  );
}

/** Creates and migrates both databases with temporal-sql-tool; skipped once recorded for this release. */
async function ensureSchema(sqlTool: string, stack: StackOptions, log: Log): Promise<void> {
  const done = path.join(dataPaths.temporalSqlDir(stack.dataDir), `schema-${VERSIONS.temporalServer}.done`);
  if (fs.existsSync(done)) return;
  const started = Date.now();
  for (const [db, schemaName] of Object.entries(DATABASES)) {
    const base = [
      '--plugin',
      'postgres12',
      '--endpoint',
      '127.0.0.1',
      '--port',
      String(postgresPort(stack)),
      '--user',
      DB_USER,
      '--password',
      DB_USER,
      '--database',
      db,
    ];
    for (const command of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '--schema-name', schemaName],
    ]) {
      await run(sqlTool, [...base, ...command]).catch((err: Error & { stderr?: string; stdout?: string }) => {
        throw new Error(`temporal-sql-tool ${command[0]} on ${db} failed: ${err.stderr || err.stdout || err.message}`);
      });
    }
  }
  fs.writeFileSync(done, new Date().toISOString() + '\n');
  log(`Temporal schema set up on PostgreSQL in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/**
 * The history shard count is fixed when a cluster is created (it decides which shard owns each
 * workflow); the server refuses to start on data made with another count. Say so clearly.
 */
function checkShardCount(stack: StackOptions): void {
  const file = path.join(dataPaths.temporalSqlDir(stack.dataDir), 'history-shards');
  const wanted = historyShardsOf(stack);
  if (fs.existsSync(file)) {
    const had = Number(fs.readFileSync(file, 'utf8').trim());
    if (had !== wanted)
      throw new Error(
        `the Temporal cluster in ${stack.dataDir} was created with ${had} history shards; it cannot change to ${wanted} (use another ORDERS_DATA_DIR, or remove that data)`,
      );
  } else fs.writeFileSync(file, `${wanted}\n`);
}

function sqlStore(port: number, database: string, maxConns: number): Record<string, unknown> {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${port}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password: DB_USER,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

/** Writes the server's config (YAML's JSON subset) and dynamic config; the internal ports are fresh each start. */
async function writeServerConfig(stack: StackOptions): Promise<void> {
  const root = dataPaths.temporalSqlDir(stack.dataDir);
  fs.mkdirSync(path.join(root, 'config'), { recursive: true });
  const dynamicFile = path.join(root, 'dynamic-config.yaml');
  fs.writeFileSync(
    dynamicFile,
    Object.entries(TEMPORAL_DEV_DYNAMIC_CONFIG)
      .map(([key, value]) => `${key}:\n  - value: ${value}\n`)
      .join(''),
  );
  const pg = postgresPort(stack);
  // Below 32768: the server's cluster_membership table stores ports as a PostgreSQL smallint.
  const rpc = async (grpcPort: number): Promise<Record<string, unknown>> => ({
    rpc: { grpcPort, membershipPort: await freeLowPort(), bindOnLocalHost: true },
  });
  const frontend = await rpc(stack.ports.temporal);
  (frontend.rpc as Record<string, unknown>).httpPort = await freePort();
  const config = {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: historyShardsOf(stack),
      datastores: { default: sqlStore(pg, 'temporal', 50), visibility: sqlStore(pg, 'temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend,
      history: await rpc(await freeLowPort()),
      matching: await rpc(await freeLowPort()),
      worker: await rpc(await freeLowPort()),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: temporalAddressOf(stack) },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicFile, pollInterval: '10s' },
  };
  fs.writeFileSync(path.join(root, 'config', 'server.yaml'), JSON.stringify(config, null, 2) + '\n');
}

/** Registers the app's namespace (the SQL server has none at first). Idempotent. */
async function ensureNamespace(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService
      .registerNamespace({ namespace: DEFAULT_NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') })
      .catch((err: { code?: number }) => {
        if (err.code !== 6) throw err; // ALREADY_EXISTS
      });
  } finally {
    await connection.close();
  }
}

/** PostgreSQL, schema, then the Temporal server; resolves once the app's namespace answers. Returns the server's pid. */
export async function startTemporalSql(stack: StackOptions, log: Log): Promise<number> {
  if (stack.ports.temporal > 32_767)
    throw new Error(
      `the Temporal server on PostgreSQL needs a frontend port below 32768 (its membership table stores ports as smallint), got ${stack.ports.temporal}`,
    );
  const [bins] = await Promise.all([provisionTemporalServer(log), startPostgres(stack, log)]);
  fs.mkdirSync(dataPaths.temporalSqlDir(stack.dataDir), { recursive: true });
  checkShardCount(stack);
  await ensureSchema(bins.sqlTool, stack, log);
  await writeServerConfig(stack);
  const root = dataPaths.temporalSqlDir(stack.dataDir);
  const pid = spawnServer('temporal', stack, bins.server, [
    '--root',
    root,
    '--config',
    'config',
    '--env',
    'server',
    '--allow-no-auth',
    'start',
  ]);
  const address = temporalAddressOf(stack);
  await waitReady(
    'temporal',
    stack,
    pid,
    async () => {
      try {
        await ensureNamespace(address);
      } catch {
        return false;
      }
      return temporalReady(address, DEFAULT_NAMESPACE);
    },
    180_000,
    log,
  );
  return pid;
}
