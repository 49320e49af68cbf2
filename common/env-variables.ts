/**
 * The table of every environment variable: its form, default, readers and one line of doc.
 * common/config validates the environment against it (`readEnv`); the configuration table in the
 * docs and `.env.example` are checked against it (test/common/config.unit.test.ts).
 */
import { z } from 'zod';

/** The forms a variable's raw string may take, as zod schemas that parse it. */
const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const port = wholeNumber(1, 65_535);
const hostPort = z.string().regex(/^[A-Za-z0-9._-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/);
const listItems = (s: string): string[] => s.split(',').flatMap((p) => (p.trim() ? [p.trim()] : []));
const commaList = <T>(item: z.ZodType<T, string>) => z.string().transform(listItems).pipe(z.array(item).min(1));
const httpUrl = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  });
const text = z.string().min(1);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** Who reads a variable (the README's "used by" column). */
export type Reader = 'gateway' | 'bridge' | 'worker' | 'cli' | 'launcher' | 'bench' | 'all';

export interface VariableSpec<T = unknown> {
  /** Parses the raw string (never empty: an empty value counts as unset). */
  schema: z.ZodType<T, string>;
  /** The expected form, as the error message and the README say it. */
  form: string;
  /** The default as the README shows it; absent when unset means "off". */
  default?: string;
  readers: Reader[];
  /** One line on what it does. */
  doc: string;
  /** A credential: its value never appears in an error or a log line. */
  secret?: true;
}

function variable<T>(
  schema: z.ZodType<T, string>,
  readers: Reader[],
  spec: Omit<VariableSpec<T>, 'schema' | 'readers'>,
): VariableSpec<T> {
  return { schema, readers, ...spec };
}

export const VARIABLES = {
  // Where the servers are.
  KAFKA_BROKERS: variable(commaList(hostPort), ['gateway', 'bridge', 'worker', 'launcher', 'bench'], {
    form: 'a comma-separated list of host:port',
    default: '127.0.0.1:9092',
    doc: 'Kafka bootstrap brokers (set: the launcher uses that cluster and starts none)',
  }),
  TEMPORAL_ADDRESS: variable(hostPort, ['gateway', 'bridge', 'worker', 'launcher', 'bench'], {
    form: 'host:port',
    default: '127.0.0.1:7233',
    doc: 'Temporal frontend (set: the launcher uses that server and starts none)',
  }),
  TEMPORAL_NAMESPACE: variable(text, ['gateway', 'bridge', 'worker', 'bench'], {
    form: 'a namespace name',
    default: 'default',
    doc: 'Temporal namespace of the order workflows',
  }),
  TEMPORAL_API_KEY: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'an API key',
    doc: 'Temporal Cloud API key (turns TLS on); read through @temporalio/envconfig, like the TEMPORAL_* below',
    secret: true,
  }),
  TEMPORAL_TLS: variable(z.enum(['true', 'false']), ['gateway', 'bridge', 'worker'], {
    form: 'true or false',
    doc: 'TLS to the Temporal frontend without client certificates (on by itself with an API key or a cert)',
  }),
  TEMPORAL_TLS_CLIENT_CERT_PATH: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a file path (PEM)',
    doc: 'mTLS client certificate',
  }),
  TEMPORAL_TLS_CLIENT_KEY_PATH: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a file path (PEM)',
    doc: 'mTLS client key',
  }),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a file path (PEM)',
    doc: "CA of the server's certificate, when not a public one",
  }),
  TEMPORAL_TLS_SERVER_NAME: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a host name',
    doc: 'TLS server name override',
  }),
  TEMPORAL_CONFIG_FILE: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a file path (TOML)',
    default: '~/.config/temporalio/temporal.toml',
    doc: 'Temporal client profile file (as the temporal CLI writes it); variables override its values',
  }),
  TEMPORAL_PROFILE: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a profile name',
    default: 'default',
    doc: 'profile to use from that file',
  }),
  TEMPORAL_UI_URL: variable(httpUrl(['http:', 'https:']), ['gateway'], {
    form: 'an http(s) URL',
    default: 'http://127.0.0.1:8233',
    doc: "the Temporal web UI the page links each order's run to",
  }),

  // Kafka security (managed clusters: Confluent Cloud, MSK, Aiven...).
  KAFKA_SSL: variable(z.enum(['true', 'false']), ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'true or false',
    default: 'false',
    doc: 'TLS to the brokers (on by itself when a KAFKA_SSL_* file is set)',
  }),
  KAFKA_SSL_CA_FILE: variable(text, ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'a file path (PEM)',
    doc: "CA of the brokers' certificates, when not a public one",
  }),
  KAFKA_SSL_CERT_FILE: variable(text, ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'a file path (PEM)',
    doc: 'client certificate (mTLS; with KAFKA_SSL_KEY_FILE)',
  }),
  KAFKA_SSL_KEY_FILE: variable(text, ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'a file path (PEM)',
    doc: 'client key (mTLS; with KAFKA_SSL_CERT_FILE)',
  }),
  KAFKA_SASL_MECHANISM: variable(z.enum(SASL_MECHANISMS), ['gateway', 'bridge', 'worker', 'launcher'], {
    form: `one of ${SASL_MECHANISMS.join(', ')}`,
    doc: 'SASL authentication (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD)',
  }),
  KAFKA_SASL_USERNAME: variable(text, ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'a user name',
    doc: 'SASL user (Confluent Cloud: the API key)',
  }),
  KAFKA_SASL_PASSWORD: variable(text, ['gateway', 'bridge', 'worker', 'launcher'], {
    form: 'a password',
    doc: 'SASL password (Confluent Cloud: the API secret)',
    secret: true,
  }),

  // Gateway.
  GATEWAY_PORT: variable(port, ['gateway'], {
    form: 'a port number (1-65535)',
    default: '3000',
    doc: 'WebSocket, page and health port',
  }),
  GATEWAY_HOST: variable(text, ['gateway'], {
    form: 'a bind address',
    default: '127.0.0.1',
    doc: 'address the gateway listens on (0.0.0.0 in a container)',
  }),
  GATEWAY_AUTH_TOKEN: variable(text, ['gateway'], {
    form: 'a token',
    doc: 'when set, the WebSocket upgrade must carry it (see "The WebSocket protocol")',
    secret: true,
  }),
  GATEWAY_JWT_SECRET: variable(z.string().min(32), ['gateway'], {
    form: 'a secret of at least 32 characters',
    doc: 'JWT mode: HS256 tokens signed with this secret; `sub` is the customer id (see "Auth modes")',
    secret: true,
  }),
  GATEWAY_JWKS_URL: variable(httpUrl(['http:', 'https:']), ['gateway'], {
    form: 'an http(s) URL',
    doc: "JWT mode: tokens verified against this JWKS (an identity provider's keys); https: unless the host is loopback",
  }),
  GATEWAY_JWT_ISSUER: variable(text, ['gateway'], { form: 'an issuer', doc: 'JWT mode: the required `iss`' }),
  GATEWAY_JWT_AUDIENCE: variable(text, ['gateway'], { form: 'an audience', doc: 'JWT mode: the required `aud`' }),
  GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE: variable(z.enum(['true', 'false']), ['gateway'], {
    form: 'true or false',
    default: 'true',
    doc: 'JWKS mode: GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE must be set (the gateway refuses to start otherwise); false accepts tokens issued for anything by the JWKS owner',
  }),
  GATEWAY_JWT_MAX_LIFETIME_S: variable(wholeNumber(60, 31_536_000), ['gateway'], {
    form: 'a whole number of seconds (60-31536000)',
    default: '86400',
    doc: 'JWT mode: tokens whose lifetime (exp - iat) or remaining time (exp - now) exceeds it are refused',
  }),
  GATEWAY_ALLOWED_ORIGINS: variable(commaList(httpUrl(['http:', 'https:'])), ['gateway'], {
    form: 'a comma-separated list of http(s) origins',
    doc: 'when set, only these Origins may connect (403 otherwise); unset: only the own origin of the gateway (Origin host = Host) and clients sending no Origin',
  }),
  GATEWAY_ALLOWED_HOSTS: variable(commaList(text), ['gateway'], {
    form: 'a comma-separated list of host names, or *',
    doc: 'host names (the `Host` header) served besides loopback ones; others get 403 (DNS rebinding). Needed when clients reach the gateway by a name or a non-loopback address',
  }),
  GATEWAY_MAX_CONNECTIONS: variable(wholeNumber(1, 1_000_000), ['gateway'], {
    form: 'a whole number (1-1000000)',
    default: '10000',
    doc: 'open connections (both transports; only authenticated ones count); above it new ones get 503',
  }),
  GATEWAY_MAX_CONNECTIONS_PER_IP: variable(wholeNumber(0, 1_000_000), ['gateway'], {
    form: 'a whole number (0-1000000)',
    default: '1000',
    doc: 'open connections per client address, counting Socket.IO sessions not yet authenticated (0: no limit; behind a proxy, limit there)',
  }),
  GATEWAY_HANDSHAKES_PER_SECOND_PER_IP: variable(wholeNumber(0, 100_000), ['gateway'], {
    form: 'a whole number (0-100000)',
    default: '50',
    doc: 'new connections per second per client address, bursts of twice that (0: no limit)',
  }),
  GATEWAY_RATE_PER_SECOND: variable(wholeNumber(1, 100_000), ['gateway'], {
    form: 'a whole number (1-100000)',
    default: '100',
    doc: 'frames per second per connection, sustained; more are refused RATE_LIMITED before they are parsed',
  }),
  GATEWAY_RATE_BURST: variable(wholeNumber(1, 100_000), ['gateway'], {
    form: 'a whole number (1-100000)',
    default: '200',
    doc: 'frames per connection at once (the size of its token bucket)',
  }),
  GATEWAY_MAX_PAYLOAD_BYTES: variable(wholeNumber(1_024, 16_777_216), ['gateway'], {
    form: 'a whole number of bytes (1024-16777216)',
    default: '65536',
    doc: 'largest frame a client may send (above it: close 1009 / Socket.IO disconnect)',
  }),
  GATEWAY_MAX_SUBSCRIPTIONS: variable(wholeNumber(1, 100_000), ['gateway'], {
    form: 'a whole number (1-100000)',
    default: '200',
    doc: 'orders one connection may follow at once; more are refused TOO_MANY_SUBSCRIPTIONS',
  }),
  GATEWAY_STATUS_PARTITION: variable(wholeNumber(0, 100_000), ['gateway'], {
    form: 'a partition number of order-status (0 to its count - 1)',
    doc: 'partition routing: the orders placed here get their status events on this partition, and the gateway fetches only it plus the partitions of orders its clients follow (docs/SCALING.md); unset: every partition',
  }),

  // Bridge.
  BRIDGE_HEALTH_PORT: variable(port, ['bridge'], {
    form: 'a port number (1-65535)',
    default: '3001',
    doc: 'health port',
  }),
  BRIDGE_HOST: variable(text, ['bridge'], {
    form: 'a bind address',
    default: '127.0.0.1',
    doc: 'address the health server listens on',
  }),
  BRIDGE_GROUP_ID: variable(text, ['bridge'], {
    form: 'a consumer group id',
    default: 'order-bridge',
    doc: 'Kafka consumer group of the bridges',
  }),
  STEP_DELAY_MS: variable(wholeNumber(0, 86_400_000), ['bridge'], {
    form: 'a whole number of milliseconds (0-86400000)',
    default: '2000',
    doc: 'the durable pause between steps, passed in the workflow input',
  }),

  // Worker: health and metrics (off unless set: several workers may share a host).
  WORKER_HOST: variable(text, ['worker'], {
    form: 'a bind address',
    default: '127.0.0.1',
    doc: 'address the worker health and metrics ports listen on',
  }),
  WORKER_HEALTH_PORT: variable(port, ['worker'], {
    form: 'a port number (1-65535)',
    doc: 'when set, /livez, /readyz on this port',
  }),
  WORKER_METRICS_PORT: variable(port, ['worker'], {
    form: 'a port number (1-65535)',
    doc: "when set, the Temporal SDK's Prometheus metrics on this port (/metrics)",
  }),

  // Worker: the simulated providers.
  SIM_CARD_LIMIT: variable(decimal(0, Number.MAX_SAFE_INTEGER), ['worker'], {
    form: 'a number ≥ 0',
    default: '5000',
    doc: 'order totals above this are declined',
  }),
  SIM_TRANSIENT_FAILURE_RATE: variable(decimal(0, 1), ['worker'], {
    form: 'a number between 0 and 1',
    default: '0',
    doc: 'probability that a provider call fails transiently',
  }),
  SIM_LATENCY_MS: variable(wholeNumber(0, 600_000), ['worker'], {
    form: 'a whole number of milliseconds (0-600000)',
    default: '0',
    doc: 'simulated provider latency',
  }),
  SIM_LEDGER_FILE: variable(text, ['worker'], {
    form: 'a file path',
    default: '<data dir>/ledger/payments.jsonl',
    doc: "the payment provider's durable ledger",
  }),

  // Every process.
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), ['gateway', 'bridge', 'worker'], {
    form: `one of ${LOG_LEVELS.join(', ')}`,
    default: 'info',
    doc: 'log threshold (also for the kafkajs and Temporal SDK logs routed into it)',
  }),
  LOG_FORMAT: variable(z.enum(LOG_FORMATS), ['gateway', 'bridge', 'worker'], {
    form: `one of ${LOG_FORMATS.join(', ')}`,
    default: 'json',
    doc: 'json: one JSON object per line (pino); pretty: readable, needs the dev dependencies (`npm start` sets it)',
  }),

  // Tracing (docs/TRACING.md). The OpenTelemetry SDK reads the OTEL_* variables itself; the other
  // standard ones (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*) work too.
  TRACING: variable(z.enum(['0', '1']), ['gateway', 'bridge', 'worker', 'launcher'], {
    form: '0 or 1',
    default: '0',
    doc: 'OpenTelemetry traces, one per order across the three processes (`TRACING=1 npm start` also starts Jaeger)',
  }),
  OTEL_SDK_DISABLED: variable(z.enum(['true', 'false']), ['gateway', 'bridge', 'worker'], {
    form: 'true or false',
    default: 'false',
    doc: "OpenTelemetry's standard off switch: true keeps tracing off even with TRACING=1",
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(httpUrl(['http:', 'https:']), ['gateway', 'bridge', 'worker'], {
    form: 'an http(s) URL',
    default: 'http://localhost:4318',
    doc: 'OTLP/HTTP collector the spans go to (`/v1/traces` is appended)',
  }),
  OTEL_SERVICE_NAME: variable(text, ['gateway', 'bridge', 'worker'], {
    form: 'a service name',
    default: 'order-gateway, order-bridge, order-worker',
    doc: "the process's service name in its spans",
  }),
  OTEL_TRACES_SAMPLER: variable(
    z.enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ]),
    ['gateway', 'bridge', 'worker'],
    {
      form: 'always_on, always_off, traceidratio, or one of them prefixed parentbased_',
      default: 'parentbased_always_on',
      doc: 'which traces are recorded (the gateway decides for each order; the others follow its choice)',
    },
  ),
  OTEL_TRACES_SAMPLER_ARG: variable(decimal(0, 1), ['gateway', 'bridge', 'worker'], {
    form: 'a number between 0 and 1',
    default: '1',
    doc: 'the ratio of the traceidratio samplers (parentbased_traceidratio too)',
  }),
  TRACE_UI_URL: variable(httpUrl(['http:', 'https:']), ['gateway'], {
    form: 'an http(s) URL',
    doc: 'a Jaeger UI the page and the CLI link each trace to (`TRACING=1 npm start` sets it)',
  }),

  // The CLI.
  ORDER_TOKEN: variable(text, ['cli'], {
    form: 'a token',
    doc: 'the token the CLI presents to a gateway in token mode (`--token` overrides it)',
    secret: true,
  }),
  ORDER_GATEWAY_URL: variable(httpUrl(['ws:', 'wss:']), ['cli'], {
    form: 'a ws(s) URL',
    default: 'ws://127.0.0.1:3000',
    doc: 'gateway the `npm run order` CLI talks to (`--url` overrides it)',
  }),

  // The native servers (launcher, provisioning, chaos, bench).
  ORDERS_CACHE_DIR: variable(text, ['launcher'], {
    form: 'a directory path',
    default: '~/.cache/order-orchestrator',
    doc: 'downloads and builds of the provisioned servers (else `$XDG_CACHE_HOME/order-orchestrator`)',
  }),
  ORDERS_DATA_DIR: variable(text, ['launcher', 'worker', 'bench'], {
    form: 'a directory path',
    default: '.data',
    doc: 'server data, logs, pid files and the ledger (relative to the checkout)',
  }),
  ORDERS_KAFKA_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: '9092',
    doc: "the launcher's Kafka port (a second, isolated stack)",
  }),
  ORDERS_KAFKA_CONTROLLER_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: '9093',
    doc: "the launcher's KRaft controller port",
  }),
  ORDERS_KAFKA_SASL_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: 'ORDERS_KAFKA_PORT + 2',
    doc: "the launcher's Kafka SASL/SCRAM listener (user orders-app, see tools/infra/kafka-sasl.ts)",
  }),
  ORDERS_TEMPORAL_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: '7233',
    doc: "the launcher's Temporal frontend port",
  }),
  ORDERS_TEMPORAL_UI_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: 'ORDERS_TEMPORAL_PORT + 1000',
    doc: "the launcher's Temporal web UI port",
  }),
  ORDERS_TEMPORAL_ENGINE: variable(z.enum(['dev', 'postgres']), ['launcher'], {
    form: 'one of dev, postgres',
    default: 'dev',
    doc: "the launcher's Temporal: the CLI dev server (SQLite), or the Temporal server on PostgreSQL (docs/SCALING.md)",
  }),
  ORDERS_POSTGRES_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: 'ORDERS_TEMPORAL_PORT - 1800',
    doc: "the launcher's PostgreSQL port (engine postgres)",
  }),
  ORDERS_TEMPORAL_HISTORY_SHARDS: variable(wholeNumber(1, 16_384), ['launcher'], {
    form: 'a whole number (1-16384)',
    default: '4',
    doc: 'history shards of a new Temporal cluster on PostgreSQL (fixed once the cluster exists)',
  }),
  ORDERS_JAEGER_UI_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: '16686',
    doc: "the launcher's Jaeger UI and query API port (TRACING=1)",
  }),
  ORDERS_JAEGER_OTLP_PORT: variable(port, ['launcher'], {
    form: 'a port number (1-65535)',
    default: '4318',
    doc: "the launcher's Jaeger OTLP/HTTP port (OTLP/gRPC on the port below it)",
  }),
  ORDERS_JAEGER_UI_ASSETS: variable(text, ['launcher'], {
    form: 'a directory path',
    doc: "a Jaeger UI build (its index.html and assets) the launcher's Jaeger serves; a Jaeger built from the Go module proxy has none (docs/TRACING.md)",
  }),
} satisfies Record<string, VariableSpec<unknown>>;
