/**
 * The configuration's one entry point: every process's settings, resolved from the environment
 * (validated all at once against the table in ./env-variables) and the defaults; ports, paths and
 * the fixed names of ./names (re-exported here; workflow code imports ./names itself, since this
 * file reads the file system). See docs/CONFIGURATION.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KafkaConfig } from 'kafkajs';
import { kafkaSecurity, temporalConnect, type TemporalConnect } from './connections';
import {
  ConfigError,
  LOG_FORMATS,
  LOG_LEVELS,
  readEnv,
  type ConfigProblem,
  type Env,
  type VariableName,
} from './env-variables';
import { CONSUMER_GROUPS, TRACE_ID_MARK } from './names';

export * from './env-variables';
export * from './names';

export interface JwtSettings {
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string;
  /** URL of a JSON Web Key Set (keys fetched and cached by jose). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** JWKS mode: false lets tokens without the issuer and audience checks in (GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE). */
  requireIssuerAudience?: boolean;
  /** Longest token lifetime accepted, in seconds (exp - iat, and exp - now). */
  maxLifetimeS?: number;
}

/** Host names of a URL that only this machine reaches. */
const LOOPBACK_HOST = /^(localhost|\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * The rules a JWKS configuration must meet (docs/SECURITY.md): keys only over https (http only
 * from this machine: keys fetched in clear could be swapped on the way), and an issuer and audience
 * unless requireIssuerAudience is false (an identity provider signs tokens for its other clients too).
 */
export function jwtProblems(jwt: JwtSettings): ConfigProblem[] {
  if (!jwt.jwksUrl) return [];
  const problems: ConfigProblem[] = [];
  const url = URL.canParse(jwt.jwksUrl) ? new URL(jwt.jwksUrl) : undefined;
  if (!url) problems.push({ variable: 'GATEWAY_JWKS_URL', value: '<not a URL>', form: 'a URL' });
  else if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)))
    problems.push({
      variable: 'GATEWAY_JWKS_URL',
      value: `${url.protocol}//${url.host}${url.pathname}`,
      form: 'an https: URL (http: only for a loopback host)',
    });
  if (jwt.requireIssuerAudience !== false)
    for (const [variable, value] of [
      ['GATEWAY_JWT_ISSUER', jwt.issuer],
      ['GATEWAY_JWT_AUDIENCE', jwt.audience],
    ] as const)
      if (!value)
        problems.push({
          variable,
          value: '',
          form: 'set (GATEWAY_JWKS_URL needs it, unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false)',
        });
  return problems;
}

/** The gateway's limits on connections, frames and subscriptions. */
export interface GatewayLimits {
  maxConnections: number;
  perIp: { maxConnections: number; handshakesPerSecond: number };
  rateLimit: { burst: number; perSecond: number };
  maxPayloadBytes: number;
  maxSubscriptions: number;
}

/**
 * Gateway settings for the load tools (bench, crash matrix), whose many clients all come from
 * 127.0.0.1 and keep many orders in flight: per-address limits off, a large subscription cap.
 */
export const LOAD_TOOL_GATEWAY_LIMITS = {
  GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
  GATEWAY_HANDSHAKES_PER_SECOND_PER_IP: '0',
  GATEWAY_MAX_SUBSCRIPTIONS: '100000',
} as const satisfies Partial<Record<VariableName, string>>;

/** The gateway's auth settings: none, a shared token, or JWT (README "Auth modes"). */
export interface AuthSettings {
  sharedToken?: string;
  jwt?: JwtSettings;
}

/** Names of the main variables, for code that sets them (every variable: VARIABLES). */
export const ENV = {
  kafkaBrokers: 'KAFKA_BROKERS',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  gatewayPort: 'GATEWAY_PORT',
  bridgeHealthPort: 'BRIDGE_HEALTH_PORT',
  stepDelayMs: 'STEP_DELAY_MS',
} as const satisfies Record<string, VariableName>;

/**
 * Dynamic-config values the dev server starts with (launcher and docker-compose.yml), each cutting
 * what one workflow costs the server. Measured effects: README "Engine settings", docs/BENCHMARKS.md.
 */
export const TEMPORAL_DEV_DYNAMIC_CONFIG: Record<string, string> = {
  // The CLI's dev server re-reads search-attribute metadata from SQLite on every task by default
  // (so attributes registered a moment ago are visible at once). Ours are registered at start.
  'system.forceSearchAttributesCacheRefreshOnRead': 'false',
  // Hand an activity to the worker in the reply that schedules it (no matching round trip).
  'system.enableActivityEagerExecution': 'true',
  // One task-queue partition: with a single worker pool, extra partitions only add forwarding.
  'matching.numTaskqueueReadPartitions': '1',
  'matching.numTaskqueueWritePartitions': '1',
};

export const DEFAULT_PORTS = {
  kafka: 9092,
  kafkaController: 9093,
  temporal: 7233,
  temporalUi: 8233,
  gateway: 3000,
  bridgeHealth: 3001,
  /** The worker's health and SDK-metrics ports where they are enabled (docker-compose.yml). */
  workerHealth: 3002,
  workerMetrics: 9464,
  /** Zipkin (TRACING=1 npm start): spans in (/api/v2/spans), query API and UI (/zipkin/) on one port. */
  zipkin: 9411,
  /** Jaeger (ORDERS_TRACE_VIEWER=jaeger): UI and query API; OTLP over HTTP (gRPC on the port below it, 4317). */
  jaegerUi: 16686,
  jaegerOtlp: 4318,
} as const;

/**
 * Environment overrides for the ports of the servers the launcher starts (defaults: DEFAULT_PORTS).
 * They let a second, isolated stack run next to the default one (the chaos harness does this).
 */
export const INFRA_ENV = {
  kafkaPort: 'ORDERS_KAFKA_PORT',
  kafkaControllerPort: 'ORDERS_KAFKA_CONTROLLER_PORT',
  temporalPort: 'ORDERS_TEMPORAL_PORT',
  temporalUiPort: 'ORDERS_TEMPORAL_UI_PORT',
  zipkinPort: 'ORDERS_ZIPKIN_PORT',
  jaegerUiPort: 'ORDERS_JAEGER_UI_PORT',
  jaegerOtlpPort: 'ORDERS_JAEGER_OTLP_PORT',
} as const satisfies Record<string, VariableName>;

export interface InfraPorts {
  kafka: number;
  kafkaController: number;
  /** The local broker's SASL/SCRAM listener (tools/infra/kafka-sasl.ts); isolated stacks may go without. */
  kafkaSasl?: number;
  temporal: number;
  temporalUi: number;
  /** PostgreSQL under the Temporal server (ORDERS_TEMPORAL_ENGINE=postgres); default: the frontend port - 1800. */
  postgres?: number;
  /** Zipkin's one port: spans in, query API and UI. */
  zipkin: number;
  /** Jaeger's UI and query API, and its OTLP/HTTP receiver (gRPC on the port below). */
  jaegerUi: number;
  jaegerOtlp: number;
}

/** The checkout (or the image's /app): the nearest directory above this file with a package.json. */
export const PROJECT_ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
})();

/**
 * The link to one trace from TRACE_UI_URL: used as given when it holds TRACE_ID_MARK (Zipkin:
 * `.../zipkin/traces/{traceId}`), else taken as a Jaeger UI's root, whose trace page is `/trace/<id>`.
 */
export function traceUrlTemplateOf(traceUiUrl: string | undefined): string | undefined {
  if (traceUiUrl === undefined || traceUiUrl.includes(TRACE_ID_MARK)) return traceUiUrl;
  return `${traceUiUrl.replace(/\/+$/, '')}/trace/${TRACE_ID_MARK}`;
}

/** Ports of the launcher's servers: DEFAULT_PORTS unless ORDERS_*_PORT says otherwise. */
export function infraPorts(env: Env = readEnv()): InfraPorts {
  const temporal = env.ORDERS_TEMPORAL_PORT ?? DEFAULT_PORTS.temporal;
  return {
    kafka: env.ORDERS_KAFKA_PORT ?? DEFAULT_PORTS.kafka,
    kafkaController: env.ORDERS_KAFKA_CONTROLLER_PORT ?? DEFAULT_PORTS.kafkaController,
    kafkaSasl: env.ORDERS_KAFKA_SASL_PORT ?? (env.ORDERS_KAFKA_PORT ?? DEFAULT_PORTS.kafka) + 2,
    temporal,
    // Like the dev server itself: the UI defaults to the frontend port + 1000.
    temporalUi:
      env.ORDERS_TEMPORAL_UI_PORT ?? (temporal === DEFAULT_PORTS.temporal ? DEFAULT_PORTS.temporalUi : temporal + 1000),
    postgres: env.ORDERS_POSTGRES_PORT ?? temporal - 1800,
    zipkin: env.ORDERS_ZIPKIN_PORT ?? DEFAULT_PORTS.zipkin,
    jaegerUi: env.ORDERS_JAEGER_UI_PORT ?? DEFAULT_PORTS.jaegerUi,
    jaegerOtlp: env.ORDERS_JAEGER_OTLP_PORT ?? DEFAULT_PORTS.jaegerOtlp,
  };
}

/** The data directory: ORDERS_DATA_DIR, else .data/ in the checkout. */
export function dataDirOf(env: Env = readEnv()): string {
  return env.ORDERS_DATA_DIR ? path.resolve(env.ORDERS_DATA_DIR) : path.join(PROJECT_ROOT, '.data');
}

/** The provisioning cache: ORDERS_CACHE_DIR, else $XDG_CACHE_HOME/order-orchestrator, else ~/.cache/order-orchestrator. */
export function cacheDirOf(env: Env = readEnv(), xdgCacheHome = process.env.XDG_CACHE_HOME): string {
  if (env.ORDERS_CACHE_DIR) return path.resolve(env.ORDERS_CACHE_DIR);
  return path.join(xdgCacheHome || path.join(os.homedir(), '.cache'), 'order-orchestrator');
}

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface AppConfig {
  kafkaBrokers: string[];
  /** kafkajs ssl / sasl options (KAFKA_SSL*, KAFKA_SASL_*). */
  kafkaSecurity: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  /** Temporal connection (address, TLS, API key) and namespace, via @temporalio/envconfig. */
  temporal: TemporalConnect;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  /** The link to one trace in the viewer (from TRACE_UI_URL; TRACE_ID_MARK stands for the id), if any. */
  traceUrlTemplate: string | undefined;
  gatewayPort: number;
  gatewayHost: string;
  /** The gateway's auth settings (shared token, or JWT by secret or JWKS). */
  gatewayAuth: AuthSettings;
  gatewayAllowedOrigins: string[] | undefined;
  gatewayAllowedHosts: string[] | undefined;
  /** The gateway's limits (README "Configuration"; docs/SECURITY.md says what each one stops). */
  gatewayLimits: GatewayLimits;
  /** Partition routing: the home partition of order-status for this gateway's orders (undefined: off). */
  gatewayStatusPartition: number | undefined;
  bridgeHealthPort: number;
  bridgeHost: string;
  bridgeGroupId: string;
  workerHost: string;
  workerHealthPort: number | undefined;
  workerMetricsPort: number | undefined;
  stepDelayMs: number;
  simulation: { cardLimit: number; transientFailureRate: number; latencyMs: number; ledgerFile: string };
  orderGatewayUrl: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  dataDir: string;
  ports: InfraPorts;
}

/** Every setting, from the environment (validated all at once, then the JWKS rules) and the defaults. */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): AppConfig {
  const env = readEnv(processEnv);
  const ports = infraPorts(env);
  const dataDir = dataDirOf(env);
  const temporal = temporalConnect(env, { address: `127.0.0.1:${ports.temporal}`, namespace: 'default' });
  const jwt: JwtSettings = {
    secret: env.GATEWAY_JWT_SECRET,
    jwksUrl: env.GATEWAY_JWKS_URL,
    issuer: env.GATEWAY_JWT_ISSUER,
    audience: env.GATEWAY_JWT_AUDIENCE,
    requireIssuerAudience: env.GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE !== 'false',
    maxLifetimeS: env.GATEWAY_JWT_MAX_LIFETIME_S ?? 86_400,
  };
  const jwtIssues = jwtProblems(jwt);
  if (jwtIssues.length) throw new ConfigError(jwtIssues);
  return {
    kafkaBrokers: env.KAFKA_BROKERS ?? [`127.0.0.1:${ports.kafka}`],
    kafkaSecurity: kafkaSecurity(env),
    temporal,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporalUiUrl: env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${ports.temporalUi}`,
    traceUrlTemplate: traceUrlTemplateOf(env.TRACE_UI_URL),
    gatewayPort: env.GATEWAY_PORT ?? DEFAULT_PORTS.gateway,
    gatewayHost: env.GATEWAY_HOST ?? '127.0.0.1',
    gatewayAuth: { sharedToken: env.GATEWAY_AUTH_TOKEN, jwt },
    gatewayAllowedOrigins: env.GATEWAY_ALLOWED_ORIGINS,
    gatewayAllowedHosts: env.GATEWAY_ALLOWED_HOSTS,
    gatewayLimits: {
      maxConnections: env.GATEWAY_MAX_CONNECTIONS ?? 10_000,
      perIp: {
        maxConnections: env.GATEWAY_MAX_CONNECTIONS_PER_IP ?? 1_000,
        handshakesPerSecond: env.GATEWAY_HANDSHAKES_PER_SECOND_PER_IP ?? 50,
      },
      rateLimit: { burst: env.GATEWAY_RATE_BURST ?? 200, perSecond: env.GATEWAY_RATE_PER_SECOND ?? 100 },
      maxPayloadBytes: env.GATEWAY_MAX_PAYLOAD_BYTES ?? 64 * 1024,
      maxSubscriptions: env.GATEWAY_MAX_SUBSCRIPTIONS ?? 200,
    },
    gatewayStatusPartition: env.GATEWAY_STATUS_PARTITION,
    bridgeHealthPort: env.BRIDGE_HEALTH_PORT ?? DEFAULT_PORTS.bridgeHealth,
    bridgeHost: env.BRIDGE_HOST ?? '127.0.0.1',
    bridgeGroupId: env.BRIDGE_GROUP_ID ?? CONSUMER_GROUPS.bridge,
    workerHost: env.WORKER_HOST ?? '127.0.0.1',
    workerHealthPort: env.WORKER_HEALTH_PORT,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    stepDelayMs: env.STEP_DELAY_MS ?? 2000,
    simulation: {
      cardLimit: env.SIM_CARD_LIMIT ?? 5000,
      transientFailureRate: env.SIM_TRANSIENT_FAILURE_RATE ?? 0,
      latencyMs: env.SIM_LATENCY_MS ?? 0,
      ledgerFile: env.SIM_LEDGER_FILE
        ? path.resolve(env.SIM_LEDGER_FILE)
        : path.join(dataDir, 'ledger', 'payments.jsonl'),
    },
    orderGatewayUrl: env.ORDER_GATEWAY_URL ?? `ws://127.0.0.1:${DEFAULT_PORTS.gateway}`,
    logLevel: env.LOG_LEVEL ?? 'info',
    logFormat: env.LOG_FORMAT ?? 'json',
    dataDir,
    ports,
  };
}
