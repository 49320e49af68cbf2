/**
 * The environment: the table of every variable (its form, default and readers), one table per part,
 * and `readEnv`, which validates the environment against it and fills in the defaults. This table is
 * the one place a default is written: a literal default is parsed like a set value, so code reads
 * `env.GATEWAY_PORT` as a number, never `?? 3000`; a default that depends on another setting (a
 * default applied `elsewhere`, such as the Temporal UI port) is shown here and computed in ./config.
 * What each variable does is said in docs/CONFIGURATION.md `## Variables`; that table and
 * `.env.example` are checked against this one (test/common/config.unit.test.ts).
 */
import { z } from 'zod';
import {
  BIND_ADDRESS,
  BOOLEAN,
  BUILD_ID,
  commaList,
  decimal,
  DEPLOYMENT_NAME,
  HOST_PORT,
  hostPortSchema,
  HTTP_URL,
  JWT_SECRET,
  KEK_HEX,
  oneOf,
  PEM_FILE,
  PORT,
  RATIO,
  SCRAM_PASSWORD,
  STATUS_PARTITION,
  text,
  url,
  wholeNumber,
  type Form,
} from './env-forms';
import { CONSUMER_GROUPS } from './names';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'line', 'pretty'] as const;
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
const SAMPLERS = ['always_on', 'always_off', 'traceidratio'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Who reads a variable (the docs' "used by" column). */
export type Reader =
  | 'gateway'
  | 'bridge'
  | 'worker'
  | 'history'
  | 'codec-server'
  | 'cli'
  | 'launcher'
  | 'bench'
  | 'compose'
  | 'deploy'
  | 'all';

/**
 * A default applied elsewhere: ./config derives it from other settings, or the library that reads
 * the variable (@temporalio/envconfig, the OpenTelemetry SDK) has its own. The table only shows it.
 */
interface Elsewhere {
  elsewhere: string;
}
const elsewhere = (shown: string): Elsewhere => ({ elsewhere: shown });

/** `Defaulted`: readEnv fills the variable in when it is unset, so its Env field is never undefined. */
export interface VariableSpec<T = unknown, Defaulted extends boolean = boolean> extends Form<T> {
  /** The default as the docs show it; absent when unset means "off". */
  default?: string;
  /** Whether `default` is a value readEnv applies (false: it is applied elsewhere, or there is none). */
  applied: Defaulted;
  readers: Reader[];
  /** A credential: its value never appears in an error or a log line. */
  secret?: true;
}

const SECRET = 'secret';
/**
 * A row: its form, readers, its default (a value readEnv applies; `elsewhere(...)`: shown only;
 * undefined: unset means "off"), whether a credential.
 */
function variable<T>(form: Form<T>, readers: Reader[], value: string): VariableSpec<T, true>;
function variable<T>(
  form: Form<T>,
  readers: Reader[],
  value?: Elsewhere,
  secret?: typeof SECRET,
): VariableSpec<T, false>;
function variable<T>(
  form: Form<T>,
  readers: Reader[],
  value?: string | Elsewhere,
  secret?: typeof SECRET,
): VariableSpec<T> {
  const shownDefault = typeof value === 'string' ? value : value?.elsewhere;
  return {
    ...form,
    readers,
    applied: typeof value === 'string',
    ...(shownDefault === undefined ? {} : { default: shownDefault }),
    ...(secret ? { secret: true as const } : {}),
  };
}

const GATEWAY: Reader[] = ['gateway'];
/** The gateway's token settings: the codec server verifies tokens with the same verifier and settings. */
const TOKEN_CHECKERS: Reader[] = ['gateway', 'codec-server'];
const CODEC_SERVER: Reader[] = ['codec-server'];
const WORKER: Reader[] = ['worker'];
const LAUNCHER: Reader[] = ['launcher'];
const COMPOSE: Reader[] = ['compose'];
const APPS: Reader[] = ['gateway', 'bridge', 'worker'];
const APPS_AND_LAUNCHER: Reader[] = [...APPS, 'launcher'];
const CONNECTED: Reader[] = [...APPS_AND_LAUNCHER, 'bench'];
/** Whoever talks to Temporal with the app's connection settings: the apps and the deploy tools (tools/deploy). */
const TEMPORAL_CLIENTS: Reader[] = [...APPS, 'deploy'];

/** Where the servers are, and how to reach a managed Temporal (TEMPORAL_* as @temporalio/envconfig reads them). */
const SERVER_VARIABLES = {
  KAFKA_BROKERS: variable(
    commaList(hostPortSchema, 'a comma-separated list of host:port'),
    CONNECTED,
    elsewhere('127.0.0.1:9092'),
  ),
  TEMPORAL_ADDRESS: variable(HOST_PORT, [...CONNECTED, 'deploy'], elsewhere('127.0.0.1:7233')),
  TEMPORAL_NAMESPACE: variable(text('a namespace name'), [...APPS, 'bench', 'deploy'], elsewhere('default')),
  TEMPORAL_API_KEY: variable(text('an API key'), TEMPORAL_CLIENTS, undefined, SECRET),
  TEMPORAL_TLS: variable(BOOLEAN, TEMPORAL_CLIENTS),
  TEMPORAL_TLS_CLIENT_CERT_PATH: variable(PEM_FILE, TEMPORAL_CLIENTS),
  TEMPORAL_TLS_CLIENT_KEY_PATH: variable(PEM_FILE, TEMPORAL_CLIENTS),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: variable(PEM_FILE, TEMPORAL_CLIENTS),
  TEMPORAL_TLS_SERVER_NAME: variable(text('a host name'), TEMPORAL_CLIENTS),
  TEMPORAL_CONFIG_FILE: variable(
    text('a file path (TOML)'),
    TEMPORAL_CLIENTS,
    elsewhere('~/.config/temporalio/temporal.toml'),
  ),
  TEMPORAL_PROFILE: variable(text('a profile name'), TEMPORAL_CLIENTS, elsewhere('default')),
  TEMPORAL_UI_URL: variable(HTTP_URL, TOKEN_CHECKERS, elsewhere('http://127.0.0.1:8233')),
};

/** Kafka security (managed clusters: Confluent Cloud, MSK, Aiven...). */
const KAFKA_SECURITY_VARIABLES = {
  KAFKA_SSL: variable(BOOLEAN, APPS_AND_LAUNCHER, 'false'),
  KAFKA_SSL_CA_FILE: variable(PEM_FILE, APPS_AND_LAUNCHER),
  KAFKA_SSL_CERT_FILE: variable(PEM_FILE, APPS_AND_LAUNCHER),
  KAFKA_SSL_KEY_FILE: variable(PEM_FILE, APPS_AND_LAUNCHER),
  KAFKA_SASL_MECHANISM: variable(oneOf(SASL_MECHANISMS), APPS_AND_LAUNCHER),
  KAFKA_SASL_USERNAME: variable(text('a user name'), APPS_AND_LAUNCHER),
  KAFKA_SASL_PASSWORD: variable(text('a password'), APPS_AND_LAUNCHER, undefined, SECRET),
};

/** The gateway: where it listens (clients; probes and metrics on a port of their own), its auth modes (docs/PROTOCOL.md) and its limits (docs/SECURITY.md). */
const GATEWAY_VARIABLES = {
  GATEWAY_PORT: variable(PORT, GATEWAY, '3000'),
  GATEWAY_HOST: variable(BIND_ADDRESS, GATEWAY, '127.0.0.1'),
  GATEWAY_HEALTH_PORT: variable(PORT, GATEWAY, '3003'),
  GATEWAY_HEALTH_HOST: variable(BIND_ADDRESS, GATEWAY, '127.0.0.1'),
  GATEWAY_AUTH_TOKEN: variable(text('a token'), GATEWAY, undefined, SECRET),
  GATEWAY_JWT_SECRET: variable(JWT_SECRET, TOKEN_CHECKERS, undefined, SECRET),
  GATEWAY_JWKS_URL: variable(HTTP_URL, TOKEN_CHECKERS),
  GATEWAY_JWT_ISSUER: variable(text('an issuer'), TOKEN_CHECKERS),
  GATEWAY_JWT_AUDIENCE: variable(text('an audience'), TOKEN_CHECKERS),
  GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE: variable(BOOLEAN, TOKEN_CHECKERS, 'true'),
  GATEWAY_JWT_MAX_LIFETIME_S: variable(wholeNumber(60, 31_536_000, 'seconds'), TOKEN_CHECKERS, '86400'),
  GATEWAY_ALLOWED_ORIGINS: variable(
    commaList(url(['http:', 'https:']), 'a comma-separated list of http(s) origins'),
    GATEWAY,
  ),
  GATEWAY_ALLOWED_HOSTS: variable(commaList(z.string().min(1), 'a comma-separated list of host names, or *'), GATEWAY),
  GATEWAY_MAX_CONNECTIONS: variable(wholeNumber(1, 1_000_000), GATEWAY, '10000'),
  GATEWAY_MAX_CONNECTIONS_PER_IP: variable(wholeNumber(0, 1_000_000), GATEWAY, '1000'),
  GATEWAY_HANDSHAKES_PER_SECOND_PER_IP: variable(wholeNumber(0, 100_000), GATEWAY, '50'),
  GATEWAY_MAX_UNAUTHENTICATED: variable(wholeNumber(1, 1_000_000), GATEWAY, '1000'),
  GATEWAY_RATE_PER_SECOND: variable(wholeNumber(1, 100_000), GATEWAY, '100'),
  GATEWAY_RATE_BURST: variable(wholeNumber(1, 100_000), GATEWAY, '200'),
  GATEWAY_RATE_ABUSE_EPISODES: variable(wholeNumber(1, 100_000), GATEWAY, '10'),
  GATEWAY_RATE_ABUSE_WINDOW_S: variable(wholeNumber(1, 86_400, 'seconds'), GATEWAY, '60'),
  GATEWAY_MAX_PAYLOAD_BYTES: variable(wholeNumber(1_024, 16_777_216, 'bytes'), GATEWAY, '65536'),
  GATEWAY_MAX_BUFFERED_BYTES: variable(wholeNumber(16_384, 1_073_741_824, 'bytes'), GATEWAY, '1048576'),
  GATEWAY_MAX_SUBSCRIPTIONS: variable(wholeNumber(1, 100_000), GATEWAY, '200'),
  GATEWAY_TEMPORAL_CALLS_IN_FLIGHT: variable(wholeNumber(2, 100_000), GATEWAY, '64'),
  GATEWAY_TEMPORAL_CALLS_PER_SECOND: variable(wholeNumber(4, 100_000), GATEWAY, '200'),
  GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT: variable(wholeNumber(1, 100, 'percent'), GATEWAY, '10'),
  GATEWAY_STATUS_PARTITION: variable(STATUS_PARTITION, GATEWAY),
};

const BRIDGE_VARIABLES = {
  BRIDGE_HEALTH_PORT: variable(PORT, ['bridge'], '3001'),
  BRIDGE_HOST: variable(BIND_ADDRESS, ['bridge'], '127.0.0.1'),
  BRIDGE_GROUP_ID: variable(text('a consumer group id'), ['bridge'], CONSUMER_GROUPS.bridge),
  STEP_DELAY_MS: variable(wholeNumber(0, 86_400_000, 'milliseconds'), ['bridge'], '2000'),
};

/**
 * The worker: health and metrics ports (off unless set: several workers may share a host), its
 * deployment version (versioning is off unless a deployment name is set; the build id defaults to
 * the hash of the workflow bundle, worker/versioning.ts), the simulated providers.
 */
const WORKER_VARIABLES = {
  WORKER_HOST: variable(BIND_ADDRESS, WORKER, '127.0.0.1'),
  WORKER_HEALTH_PORT: variable(PORT, WORKER),
  WORKER_METRICS_PORT: variable(PORT, WORKER),
  WORKER_DEPLOYMENT_NAME: variable(DEPLOYMENT_NAME, ['worker', 'deploy']),
  WORKER_BUILD_ID: variable(BUILD_ID, WORKER, elsewhere('sha256 of the workflow bundle (16 hex digits)')),
  SIM_CARD_LIMIT: variable(decimal(0, Number.MAX_SAFE_INTEGER, 'a number ≥ 0'), WORKER, '5000'),
  SIM_TRANSIENT_FAILURE_RATE: variable(RATIO, WORKER, '0'),
  SIM_LATENCY_MS: variable(wholeNumber(0, 600_000, 'milliseconds'), WORKER, '0'),
  SIM_LEDGER_FILE: variable(text('a file path'), WORKER, elsewhere('<data dir>/ledger/payments.jsonl')),
};

/**
 * The order history (docs/DESIGN.md "Order history"): its database, its reader of the topics, and its
 * admin port (off unless set, as the worker's: test stacks and `npm start` run history processes side
 * by side, and the deployments that probe it, the Helm chart, set it).
 */
const HISTORY_VARIABLES = {
  DATABASE_URL: variable(
    { schema: url(['postgres:', 'postgresql:']), form: 'a postgresql:// URL' },
    ['history', 'gateway', 'cli'],
    elsewhere("the launcher's PostgreSQL: postgresql://orders@127.0.0.1:<ORDERS_HISTORY_DB_PORT>/orders_history"),
    SECRET,
  ),
  HISTORY_GROUP_ID: variable(text('a consumer group id'), ['history'], CONSUMER_GROUPS.history),
  HISTORY_HEALTH_PORT: variable(PORT, ['history']),
  HISTORY_HEALTH_HOST: variable(BIND_ADDRESS, ['history'], '127.0.0.1'),
};

/**
 * Payload encryption (docs/SECURITY.md "Customers' data in Temporal"): every Temporal client and
 * worker seals its payloads with a data key per customer, wrapped by the key-encryption key (KEK)
 * set here; no KEK is ever written in code (`npm start` and the tests make a development one in the
 * data directory). Off: payloads, the item and the customer id go to Temporal in clear.
 */
const PAYLOAD_READERS: Reader[] = [...APPS, 'codec-server', 'cli', 'deploy', 'bench', 'history'];
const PAYLOAD_VARIABLES = {
  PAYLOAD_ENCRYPTION: variable(oneOf(['on', 'off']), PAYLOAD_READERS, 'on'),
  PAYLOAD_KEK: variable(KEK_HEX, PAYLOAD_READERS, undefined, SECRET),
  PAYLOAD_KEK_FILE: variable(text('a file path'), PAYLOAD_READERS),
  PAYLOAD_KEYS_DIR: variable(text('a directory path'), PAYLOAD_READERS, elsewhere('<data dir>/keys')),
  PAYLOAD_KEY_CACHE_MS: variable(wholeNumber(0, 3_600_000, 'milliseconds'), PAYLOAD_READERS, '60000'),
  /**
   * The order's customer data on order-placement sealed too (common/codec/order-fields.ts), for
   * deployments without the seed's consumer, which reads it in clear; needs PAYLOAD_ENCRYPTION=on.
   */
  KAFKA_ENCRYPT_ORDER_FIELDS: variable(oneOf(['on', 'off']), ['gateway', 'bench'], 'off'),
};

/**
 * The codec server (codec-server/, docs/SECURITY.md "The codec server"): where the Temporal UI reaches
 * it, which browser origins may call it, how much one request may carry, and its admin port (off
 * unless set, like the worker's). Beyond loopback it takes JWTs checked with the gateway's settings.
 */
const CODEC_SERVER_VARIABLES = {
  CODEC_SERVER_PORT: variable(PORT, [...CODEC_SERVER, 'launcher'], '3005'),
  CODEC_SERVER_HOST: variable(BIND_ADDRESS, CODEC_SERVER, '127.0.0.1'),
  CODEC_SERVER_ALLOWED_ORIGINS: variable(
    commaList(url(['http:', 'https:']), 'a comma-separated list of http(s) origins'),
    CODEC_SERVER,
    elsewhere('the origin of TEMPORAL_UI_URL'),
  ),
  CODEC_SERVER_MAX_BODY_BYTES: variable(wholeNumber(1_024, 67_108_864, 'bytes'), CODEC_SERVER, '4194304'),
  CODEC_SERVER_HEALTH_PORT: variable(PORT, CODEC_SERVER),
  CODEC_SERVER_HEALTH_HOST: variable(BIND_ADDRESS, CODEC_SERVER, '127.0.0.1'),
};

/**
 * Logs and traces (docs/TRACING.md). The OpenTelemetry SDK reads the OTEL_* variables itself; the other
 * standard ones (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*) work too.
 */
const OBSERVABILITY_VARIABLES = {
  LOG_LEVEL: variable(oneOf(LOG_LEVELS), [...APPS, 'codec-server'], 'info'),
  LOG_FORMAT: variable(oneOf(LOG_FORMATS), [...APPS, 'codec-server'], 'json'),
  TRACING: variable(oneOf(['0', '1'], '0 or 1'), APPS_AND_LAUNCHER, '0'),
  OTEL_SDK_DISABLED: variable(BOOLEAN, APPS, elsewhere('false')),
  OTEL_TRACES_EXPORTER: variable(oneOf(['otlp', 'zipkin']), APPS, elsewhere('otlp')),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(HTTP_URL, APPS, elsewhere('http://localhost:4318')),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: variable(HTTP_URL, APPS, elsewhere('http://localhost:9411/api/v2/spans')),
  OTEL_SERVICE_NAME: variable(text('a service name'), APPS, elsewhere('order-gateway, order-bridge, order-worker')),
  OTEL_TRACES_SAMPLER: variable(
    oneOf(
      [...SAMPLERS, ...SAMPLERS.map((s) => `parentbased_${s}` as const)] as [string, ...string[]],
      'always_on, always_off, traceidratio, or one of them prefixed parentbased_',
    ),
    APPS,
    elsewhere('parentbased_always_on'),
  ),
  OTEL_TRACES_SAMPLER_ARG: variable(RATIO, APPS, elsewhere('1')),
  TRACE_UI_URL: variable({ ...HTTP_URL, form: 'an http(s) URL, {traceId} where the id goes' }, GATEWAY),
};

/** The `npm run order` CLI (its --token and --url override these). */
const CLI_VARIABLES = {
  ORDER_TOKEN: variable(text('a token'), ['cli'], undefined, SECRET),
  ORDER_GATEWAY_URL: variable({ schema: url(['ws:', 'wss:']), form: 'a ws(s) URL' }, ['cli'], 'ws://127.0.0.1:3000'),
};

/** The native servers the launcher provisions and starts (and chaos and bench start as isolated stacks). */
const LAUNCHER_VARIABLES = {
  ORDERS_CACHE_DIR: variable(text('a directory path'), LAUNCHER, elsewhere('~/.cache/order-orchestrator')),
  ORDERS_DATA_DIR: variable(text('a directory path'), ['launcher', 'worker', 'bench'], elsewhere('.data')),
  ORDERS_KAFKA_PORT: variable(PORT, LAUNCHER, '9092'),
  ORDERS_KAFKA_CONTROLLER_PORT: variable(PORT, LAUNCHER, '9093'),
  ORDERS_KAFKA_SASL_PORT: variable(PORT, LAUNCHER, elsewhere('ORDERS_KAFKA_PORT + 2')),
  ORDERS_TEMPORAL_PORT: variable(PORT, LAUNCHER, '7233'),
  ORDERS_TEMPORAL_UI_PORT: variable(PORT, LAUNCHER, elsewhere('ORDERS_TEMPORAL_PORT + 1000')),
  ORDERS_TEMPORAL_ENGINE: variable(oneOf(['dev', 'postgres']), LAUNCHER, 'dev'),
  ORDERS_TEMPORAL_CLI_SOURCE: variable(oneOf(['auto', 'wheel', 'go']), LAUNCHER, 'auto'),
  ORDERS_POSTGRES_PORT: variable(PORT, LAUNCHER, elsewhere('ORDERS_TEMPORAL_PORT - 1800')),
  ORDERS_HISTORY_DB_PORT: variable(PORT, LAUNCHER, elsewhere('ORDERS_TEMPORAL_PORT - 1799')),
  ORDERS_TEMPORAL_HISTORY_SHARDS: variable(wholeNumber(1, 16_384), LAUNCHER, '4'),
  ORDERS_TRACE_VIEWER: variable(oneOf(['zipkin', 'jaeger']), LAUNCHER, 'zipkin'),
  ORDERS_ZIPKIN_PORT: variable(PORT, LAUNCHER, '9411'),
  ORDERS_JAEGER_UI_PORT: variable(PORT, LAUNCHER, '16686'),
  ORDERS_JAEGER_OTLP_PORT: variable(PORT, LAUNCHER, '4318'),
  ORDERS_JAEGER_UI_ASSETS: variable(text('a directory path'), LAUNCHER),
};

/**
 * docker-compose.yml's own: the SCRAM password of each Kafka user (tools/infra/kafka-acls.ts), which
 * kafka-init sets and the app's service presents. Docker Compose reads them from the shell or `.env`
 * and refuses to start without them (no default: a published one would be everyone's); no process
 * of the app reads them.
 */
const COMPOSE_VARIABLES = {
  ORDERS_COMPOSE_KAFKA_GATEWAY_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_KAFKA_BRIDGE_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_KAFKA_WORKER_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_KAFKA_HISTORY_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_KAFKA_ADMIN_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_HISTORY_DB_PASSWORD: variable(SCRAM_PASSWORD, COMPOSE, undefined, SECRET),
  ORDERS_COMPOSE_PAYLOAD_KEK: variable(KEK_HEX, COMPOSE, undefined, SECRET),
};

/** Every variable, in the order of the docs' table and `.env.example`. */
export const VARIABLES = {
  ...SERVER_VARIABLES,
  ...KAFKA_SECURITY_VARIABLES,
  ...GATEWAY_VARIABLES,
  ...BRIDGE_VARIABLES,
  ...WORKER_VARIABLES,
  ...HISTORY_VARIABLES,
  ...PAYLOAD_VARIABLES,
  ...CODEC_SERVER_VARIABLES,
  ...OBSERVABILITY_VARIABLES,
  ...CLI_VARIABLES,
  ...LAUNCHER_VARIABLES,
  ...COMPOSE_VARIABLES,
} satisfies Record<string, VariableSpec<unknown>>;

export type VariableName = keyof typeof VARIABLES;
export const VARIABLE_NAMES = Object.keys(VARIABLES) as VariableName[];

/** Names of the main variables, for code that sets them (every variable: VARIABLES). */
export const ENV = {
  kafkaBrokers: 'KAFKA_BROKERS',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  gatewayPort: 'GATEWAY_PORT',
  gatewayHealthPort: 'GATEWAY_HEALTH_PORT',
  bridgeHealthPort: 'BRIDGE_HEALTH_PORT',
  stepDelayMs: 'STEP_DELAY_MS',
} as const satisfies Record<string, VariableName>;

type Value<K extends VariableName> = z.output<(typeof VARIABLES)[K]['schema']>;
type Defaulted = {
  [K in VariableName]: (typeof VARIABLES)[K] extends VariableSpec<unknown, true> ? K : never;
}[VariableName];

/** The validated environment: each variable parsed, its default when unset (or empty), else undefined. */
export type Env = { [K in Defaulted]: Value<K> } & { [K in Exclude<VariableName, Defaulted>]?: Value<K> };

/** One bad setting: the variable, its value as an error may show it, and the form it must have. */
export interface ConfigProblem {
  variable: VariableName;
  value: string;
  form: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid configuration: ${problems
        .map((p) => `${p.variable}=${JSON.stringify(p.value)} is not ${p.form}`)
        .join('; ')}`,
    );
  }
}

/** An unset or empty variable takes its applied default, which is then parsed like a set value. */
const EnvSchema = z.object(
  Object.fromEntries(
    VARIABLE_NAMES.map((name) => {
      const spec: VariableSpec = VARIABLES[name];
      const fallback = spec.applied ? spec.default : undefined;
      return [name, z.preprocess((v) => (v === '' || v === undefined ? fallback : v), spec.schema.optional())];
    }),
  ),
);

/** Pairs [set, then also needed]: a variable that is useless, or half a credential, without another one. */
const NEEDS: Array<[VariableName, VariableName]> = [
  ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME'],
  ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_PASSWORD'],
  ['KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'],
  ['KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_CERT_FILE'],
  ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
  ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
  ['WORKER_BUILD_ID', 'WORKER_DEPLOYMENT_NAME'],
];

/** A value as an error may show it: a credential's only as its length. */
function shown(variable: VariableName, value: string): string {
  const spec: { secret?: true } = VARIABLES[variable];
  return spec.secret ? `<hidden, ${value.length} characters>` : value;
}

/** Validates every variable of `env` at once; throws a ConfigError naming each bad one. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const input = Object.fromEntries(VARIABLE_NAMES.map((name) => [name, env[name]]));
  const parsed = EnvSchema.safeParse(input);
  if (parsed.success) {
    const data = parsed.data as Env;
    const missing = NEEDS.filter(([set, needed]) => data[set] && !data[needed]);
    if (missing.length)
      throw new ConfigError(missing.map(([set, variable]) => ({ variable, value: '', form: `set (${set} needs it)` })));
    return data;
  }
  const bad = new Set<VariableName>();
  for (const issue of parsed.error.issues) bad.add(issue.path[0] as VariableName);
  throw new ConfigError(
    [...bad].map((variable) => ({
      variable,
      value: shown(variable, env[variable] ?? ''),
      form: VARIABLES[variable].form,
    })),
  );
}

/** Whether a variable is set to something (launcher: a set address means "use that server"). */
export function isSet(name: VariableName, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[name] !== undefined && env[name] !== '';
}
