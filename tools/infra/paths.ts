import * as os from 'node:os';
import * as path from 'node:path';
import { dataDirOf } from '../../common/config';
import { readEnv, type Env } from '../../common/env-variables';

/** Versions the project provisions. The cache is keyed by these, so bumping one re-provisions only it. */
export const VERSIONS = {
  kafka: '4.1.2',
  log4j: '2.25.3',
  temporalCli: '1.5.1',
  /** The Temporal server release the CLI above embeds (its go.mod): the SQL engine runs the same one. */
  temporalServer: '1.29.1',
  temporalTestServer: '1.32.0',
  /** The Go module github.com/jaegertracing/jaeger; its cmd/jaeger is the Jaeger v2 all-in-one binary. */
  jaeger: '1.75.0',
} as const;

/** The provisioning cache: ORDERS_CACHE_DIR, else $XDG_CACHE_HOME/order-orchestrator, else ~/.cache/order-orchestrator. */
export function cacheDirOf(env: Env = readEnv(), xdgCacheHome = process.env.XDG_CACHE_HOME): string {
  if (env.ORDERS_CACHE_DIR) return path.resolve(env.ORDERS_CACHE_DIR);
  return path.join(xdgCacheHome || path.join(os.homedir(), '.cache'), 'order-orchestrator');
}

/**
 * Per-user cache for what provisioning downloads and builds. Outside the checkout, so a fresh
 * clone reuses it. Override with ORDERS_CACHE_DIR.
 */
export function cacheDir(): string {
  return cacheDirOf();
}

/**
 * The project's data directory: Kafka's log dir, Temporal's SQLite file, server logs and pid files.
 * Defaults to .data/ in the checkout (git-ignored); override with ORDERS_DATA_DIR.
 */
export function dataDir(): string {
  return dataDirOf();
}

export const cachePaths = {
  kafkaLib: () => path.join(cacheDir(), `kafka-${VERSIONS.kafka}-log4j-${VERSIONS.log4j}`, 'lib'),
  temporalCliBin: () => path.join(cacheDir(), `temporal-cli-${VERSIONS.temporalCli}`, 'temporal'),
  testServerDir: () => path.join(cacheDir(), `temporal-test-server-${VERSIONS.temporalTestServer}`),
  temporalServerDir: () => path.join(cacheDir(), `temporal-server-${VERSIONS.temporalServer}`),
  jaegerBin: () => path.join(cacheDir(), `jaeger-${VERSIONS.jaeger}`, 'jaeger'),
};

/** Paths inside a data directory (the project's, unless another one is given: an isolated stack has its own). */
export const dataPaths = {
  kafkaLogDir: (dir: string = dataDir()) => path.join(dir, 'kafka', 'data'),
  kafkaConfigDir: (dir: string = dataDir()) => path.join(dir, 'kafka', 'config'),
  temporalDb: (dir: string = dataDir()) => path.join(dir, 'temporal', 'temporal.db'),
  /** The Temporal server's config (on PostgreSQL) and the PostgreSQL cluster's data directory. */
  temporalSqlDir: (dir: string = dataDir()) => path.join(dir, 'temporal-sql'),
  postgresDir: (dir: string = dataDir()) => path.join(dir, 'postgres'),
  jaegerConfig: (dir: string = dataDir()) => path.join(dir, 'jaeger', 'jaeger.yaml'),
  logs: (dir: string = dataDir()) => path.join(dir, 'logs'),
  run: (dir: string = dataDir()) => path.join(dir, 'run'),
};
