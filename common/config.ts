/**
 * Every process's settings in one place: `loadConfig` reads the validated environment
 * (./env-variables, which holds every default) into one object, deriving what depends on other
 * settings (addresses from the launcher's ports, the ledger file from the data directory) and
 * checking the JWKS rules. It starts no client and no logger. See docs/CONFIGURATION.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KafkaConfig } from 'kafkajs';
import { kafkaSecurity, temporalConnect, type TemporalConnect } from './connection-settings';
import { ConfigError, readEnv, type ConfigProblem, type Env, type LogFormat, type LogLevel } from './env-variables';
import { HISTORY_DB, TRACE_ID_MARK } from './names';
import type { PayloadEncryptionConfig } from './codec/data-converter';

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
  /** Connections not yet authenticated, over all addresses. */
  maxUnauthenticated: number;
  rateLimit: { burst: number; perSecond: number };
  /** Times a connection may run out of its rate within the window before it is closed. */
  rateAbuse: { episodes: number; windowMs: number };
  maxPayloadBytes: number;
  /** Bytes held for one client that does not read fast enough, before it is closed. */
  maxBufferedBytes: number;
  maxSubscriptions: number;
  /** Temporal calls made for clients' look-ups: at once and per second in all, and one customer's share of both (gateway/lookup-budget.ts). */
  temporalCalls: { inFlight: number; perSecond: number; sharePercent: number };
}

/** The gateway's limits as the environment sets them (each default is in ./env-variables). */
export function gatewayLimitsOf(env: Env): GatewayLimits {
  return {
    maxConnections: env.GATEWAY_MAX_CONNECTIONS,
    perIp: {
      maxConnections: env.GATEWAY_MAX_CONNECTIONS_PER_IP,
      handshakesPerSecond: env.GATEWAY_HANDSHAKES_PER_SECOND_PER_IP,
    },
    maxUnauthenticated: env.GATEWAY_MAX_UNAUTHENTICATED,
    rateLimit: { burst: env.GATEWAY_RATE_BURST, perSecond: env.GATEWAY_RATE_PER_SECOND },
    rateAbuse: { episodes: env.GATEWAY_RATE_ABUSE_EPISODES, windowMs: env.GATEWAY_RATE_ABUSE_WINDOW_S * 1000 },
    maxPayloadBytes: env.GATEWAY_MAX_PAYLOAD_BYTES,
    maxBufferedBytes: env.GATEWAY_MAX_BUFFERED_BYTES,
    maxSubscriptions: env.GATEWAY_MAX_SUBSCRIPTIONS,
    temporalCalls: {
      inFlight: env.GATEWAY_TEMPORAL_CALLS_IN_FLIGHT,
      perSecond: env.GATEWAY_TEMPORAL_CALLS_PER_SECOND,
      sharePercent: env.GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT,
    },
  };
}

/** The gateway's auth settings: none, a shared token, or JWT (docs/SECURITY.md). */
export interface AuthSettings {
  sharedToken?: string;
  jwt?: JwtSettings;
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

/** The data directory: ORDERS_DATA_DIR, else .data/ in the checkout. */
export function dataDirOf(env: Env = readEnv()): string {
  return env.ORDERS_DATA_DIR ? path.resolve(env.ORDERS_DATA_DIR) : path.join(PROJECT_ROOT, '.data');
}

/** The Temporal UI's port: ORDERS_TEMPORAL_UI_PORT, else (like the dev server itself) the frontend port + 1000. */
export function temporalUiPort(env: Env): number {
  return env.ORDERS_TEMPORAL_UI_PORT ?? env.ORDERS_TEMPORAL_PORT + 1000;
}

/** The Temporal UI the page links each order to: TEMPORAL_UI_URL, else the launcher's UI port on this machine. */
export function temporalUiUrlOf(env: Env): string {
  return env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${temporalUiPort(env)}`;
}

/** The codec server's settings (codec-server/): where it listens, whom browsers may call it from, its body cap, its admin port. */
export interface CodecServerSettings {
  port: number;
  host: string;
  /** Browser origins granted CORS: CODEC_SERVER_ALLOWED_ORIGINS, else the origin of the Temporal UI (TEMPORAL_UI_URL). */
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** Its admin listener (/livez, /readyz, /metrics); undefined: none. */
  healthPort: number | undefined;
  healthHost: string;
}

/** The codec server's settings as the environment sets them (each default is in ./env-variables, the origin's here). */
export function codecServerSettingsOf(env: Env): CodecServerSettings {
  return {
    port: env.CODEC_SERVER_PORT,
    host: env.CODEC_SERVER_HOST,
    allowedOrigins: (env.CODEC_SERVER_ALLOWED_ORIGINS ?? [temporalUiUrlOf(env)]).map((u) => new URL(u).origin),
    maxBodyBytes: env.CODEC_SERVER_MAX_BODY_BYTES,
    healthPort: env.CODEC_SERVER_HEALTH_PORT,
    healthHost: env.CODEC_SERVER_HEALTH_HOST,
  };
}

/** The launcher's PostgreSQL of the order history: ORDERS_HISTORY_DB_PORT, else the frontend port - 1799. */
export function historyDbPortOf(env: Env): number {
  return env.ORDERS_HISTORY_DB_PORT ?? env.ORDERS_TEMPORAL_PORT - 1799;
}

/** The order history's database: DATABASE_URL, else the launcher's PostgreSQL on this machine. */
export function historyDatabaseUrlOf(env: Env): string {
  return env.DATABASE_URL ?? `postgresql://${HISTORY_DB.role}@127.0.0.1:${historyDbPortOf(env)}/${HISTORY_DB.database}`;
}

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
  /** The gateway's admin listener (/livez, /readyz, /metrics, /healthz), apart from the client port. */
  gatewayHealthPort: number;
  gatewayHealthHost: string;
  /** The gateway's auth settings (shared token, or JWT by secret or JWKS). */
  gatewayAuth: AuthSettings;
  gatewayAllowedOrigins: string[] | undefined;
  gatewayAllowedHosts: string[] | undefined;
  /** The gateway's limits (docs/CONFIGURATION.md; docs/SECURITY.md says what each one stops). */
  gatewayLimits: GatewayLimits;
  /** Partition routing: the home partition of order-status for this gateway's orders (undefined: off). */
  gatewayStatusPartition: number | undefined;
  bridgeHealthPort: number;
  bridgeHost: string;
  bridgeGroupId: string;
  /** The order history's database (DATABASE_URL, else the launcher's) and its reader's consumer group. */
  historyDatabaseUrl: string;
  historyGroupId: string;
  /** The history's admin listener (/livez, /readyz, /metrics); undefined: none. */
  historyHealthPort: number | undefined;
  historyHealthHost: string;
  codecServer: CodecServerSettings;
  workerHost: string;
  workerHealthPort: number | undefined;
  workerMetricsPort: number | undefined;
  /**
   * Worker Deployment Versioning: the deployment this worker belongs to and, when WORKER_BUILD_ID
   * sets it, its build id (else worker/versioning.ts derives it from the workflow bundle).
   * Undefined: versioning off, the worker polls unversioned.
   */
  workerDeployment: { deploymentName: string; buildId?: string } | undefined;
  stepDelayMs: number;
  simulation: { cardLimit: number; transientFailureRate: number; latencyMs: number; ledgerFile: string };
  orderGatewayUrl: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  dataDir: string;
  /** Payload encryption (PAYLOAD_*): what every Temporal client and worker is built with (./codec). */
  payloadEncryption: PayloadEncryptionConfig;
  /** KAFKA_ENCRYPT_ORDER_FIELDS: the gateway seals each order's customer data on order-placement. */
  kafkaEncryptOrderFields: boolean;
}

/** Every setting, from the environment (validated all at once, defaults filled in, then the JWKS rules). */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): AppConfig {
  const env = readEnv(processEnv);
  const dataDir = dataDirOf(env);
  const temporal = temporalConnect(env, { address: `127.0.0.1:${env.ORDERS_TEMPORAL_PORT}`, namespace: 'default' });
  const jwt: JwtSettings = {
    secret: env.GATEWAY_JWT_SECRET,
    jwksUrl: env.GATEWAY_JWKS_URL,
    issuer: env.GATEWAY_JWT_ISSUER,
    audience: env.GATEWAY_JWT_AUDIENCE,
    requireIssuerAudience: env.GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE !== 'false',
    maxLifetimeS: env.GATEWAY_JWT_MAX_LIFETIME_S,
  };
  const problems = jwtProblems(jwt);
  // Sealing the topics' order fields uses the payload key store: without it there is no key to seal with.
  if (env.KAFKA_ENCRYPT_ORDER_FIELDS === 'on' && env.PAYLOAD_ENCRYPTION !== 'on')
    problems.push({
      variable: 'KAFKA_ENCRYPT_ORDER_FIELDS',
      value: 'on',
      form: 'off while PAYLOAD_ENCRYPTION=off (the order fields are sealed with its key store)',
    });
  if (problems.length) throw new ConfigError(problems);
  return {
    kafkaBrokers: env.KAFKA_BROKERS ?? [`127.0.0.1:${env.ORDERS_KAFKA_PORT}`],
    kafkaSecurity: kafkaSecurity(env),
    temporal,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporalUiUrl: temporalUiUrlOf(env),
    traceUrlTemplate: traceUrlTemplateOf(env.TRACE_UI_URL),
    gatewayPort: env.GATEWAY_PORT,
    gatewayHost: env.GATEWAY_HOST,
    gatewayHealthPort: env.GATEWAY_HEALTH_PORT,
    gatewayHealthHost: env.GATEWAY_HEALTH_HOST,
    gatewayAuth: { sharedToken: env.GATEWAY_AUTH_TOKEN, jwt },
    gatewayAllowedOrigins: env.GATEWAY_ALLOWED_ORIGINS,
    gatewayAllowedHosts: env.GATEWAY_ALLOWED_HOSTS,
    gatewayLimits: gatewayLimitsOf(env),
    gatewayStatusPartition: env.GATEWAY_STATUS_PARTITION,
    bridgeHealthPort: env.BRIDGE_HEALTH_PORT,
    bridgeHost: env.BRIDGE_HOST,
    bridgeGroupId: env.BRIDGE_GROUP_ID,
    historyDatabaseUrl: historyDatabaseUrlOf(env),
    historyGroupId: env.HISTORY_GROUP_ID,
    historyHealthPort: env.HISTORY_HEALTH_PORT,
    historyHealthHost: env.HISTORY_HEALTH_HOST,
    codecServer: codecServerSettingsOf(env),
    workerHost: env.WORKER_HOST,
    workerHealthPort: env.WORKER_HEALTH_PORT,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    workerDeployment: env.WORKER_DEPLOYMENT_NAME
      ? { deploymentName: env.WORKER_DEPLOYMENT_NAME, ...(env.WORKER_BUILD_ID ? { buildId: env.WORKER_BUILD_ID } : {}) }
      : undefined,
    stepDelayMs: env.STEP_DELAY_MS,
    simulation: {
      cardLimit: env.SIM_CARD_LIMIT,
      transientFailureRate: env.SIM_TRANSIENT_FAILURE_RATE,
      latencyMs: env.SIM_LATENCY_MS,
      ledgerFile: env.SIM_LEDGER_FILE
        ? path.resolve(env.SIM_LEDGER_FILE)
        : path.join(dataDir, 'ledger', 'payments.jsonl'),
    },
    orderGatewayUrl: env.ORDER_GATEWAY_URL,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    dataDir,
    payloadEncryption: payloadEncryptionOf(env, dataDir),
    kafkaEncryptOrderFields: env.KAFKA_ENCRYPT_ORDER_FIELDS === 'on',
  };
}

/** The PAYLOAD_* settings; the keys directory defaults to `<data dir>/keys`. */
export function payloadEncryptionOf(env: Env, dataDir: string = dataDirOf(env)): PayloadEncryptionConfig {
  return {
    enabled: env.PAYLOAD_ENCRYPTION === 'on',
    keysDir: env.PAYLOAD_KEYS_DIR ? path.resolve(env.PAYLOAD_KEYS_DIR) : path.join(dataDir, 'keys'),
    ...(env.PAYLOAD_KEK ? { kek: env.PAYLOAD_KEK } : {}),
    ...(env.PAYLOAD_KEK_FILE ? { kekFile: path.resolve(env.PAYLOAD_KEK_FILE) } : {}),
    keyCacheMs: env.PAYLOAD_KEY_CACHE_MS,
  };
}
