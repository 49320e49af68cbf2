/**
 * The table of every environment variable: its form, default, readers and one line of doc. Data
 * only; common/env reads and validates the environment against it, and the README's configuration
 * table and `.env.example` are checked against it (test/common/config.unit.test.ts).
 */
import { z } from 'zod';
import {
  commaList,
  decimal,
  hostPort,
  httpUrl,
  LOG_FORMATS,
  LOG_LEVELS,
  port,
  SASL_MECHANISMS,
  text,
  wholeNumber,
} from './env-forms';

export { LOG_FORMATS, LOG_LEVELS, SASL_MECHANISMS };

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
}

function variable<T>(schema: z.ZodType<T, string>, spec: Omit<VariableSpec<T>, 'schema'>): VariableSpec<T> {
  return { schema, ...spec };
}

export const VARIABLES = {
  // Where the servers are.
  KAFKA_BROKERS: variable(commaList(hostPort), {
    form: 'a comma-separated list of host:port',
    default: '127.0.0.1:9092',
    readers: ['gateway', 'bridge', 'worker', 'launcher', 'bench'],
    doc: 'Kafka bootstrap brokers (set: the launcher uses that cluster and starts none)',
  }),
  TEMPORAL_ADDRESS: variable(hostPort, {
    form: 'host:port',
    default: '127.0.0.1:7233',
    readers: ['gateway', 'bridge', 'worker', 'launcher', 'bench'],
    doc: 'Temporal frontend (set: the launcher uses that server and starts none)',
  }),
  TEMPORAL_NAMESPACE: variable(text, {
    form: 'a namespace name',
    default: 'default',
    readers: ['gateway', 'bridge', 'worker', 'bench'],
    doc: 'Temporal namespace of the order workflows',
  }),
  TEMPORAL_API_KEY: variable(text, {
    form: 'an API key',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'Temporal Cloud API key (turns TLS on); read through @temporalio/envconfig, like the TEMPORAL_* below',
  }),
  TEMPORAL_TLS: variable(z.enum(['true', 'false']), {
    form: 'true or false',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'TLS to the Temporal frontend without client certificates (on by itself with an API key or a cert)',
  }),
  TEMPORAL_TLS_CLIENT_CERT_PATH: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'mTLS client certificate',
  }),
  TEMPORAL_TLS_CLIENT_KEY_PATH: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'mTLS client key',
  }),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker'],
    doc: "CA of the server's certificate, when not a public one",
  }),
  TEMPORAL_TLS_SERVER_NAME: variable(text, {
    form: 'a host name',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'TLS server name override',
  }),
  TEMPORAL_CONFIG_FILE: variable(text, {
    form: 'a file path (TOML)',
    default: '~/.config/temporalio/temporal.toml',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'Temporal client profile file (as the temporal CLI writes it); variables override its values',
  }),
  TEMPORAL_PROFILE: variable(text, {
    form: 'a profile name',
    default: 'default',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'profile to use from that file',
  }),
  TEMPORAL_UI_URL: variable(httpUrl(['http:', 'https:']), {
    form: 'an http(s) URL',
    default: 'http://127.0.0.1:8233',
    readers: ['gateway'],
    doc: "the Temporal web UI the page links each order's run to",
  }),

  // Kafka security (managed clusters: Confluent Cloud, MSK, Aiven...).
  KAFKA_SSL: variable(z.enum(['true', 'false']), {
    form: 'true or false',
    default: 'false',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'TLS to the brokers (on by itself when a KAFKA_SSL_* file is set)',
  }),
  KAFKA_SSL_CA_FILE: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: "CA of the brokers' certificates, when not a public one",
  }),
  KAFKA_SSL_CERT_FILE: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'client certificate (mTLS; with KAFKA_SSL_KEY_FILE)',
  }),
  KAFKA_SSL_KEY_FILE: variable(text, {
    form: 'a file path (PEM)',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'client key (mTLS; with KAFKA_SSL_CERT_FILE)',
  }),
  KAFKA_SASL_MECHANISM: variable(z.enum(SASL_MECHANISMS), {
    form: `one of ${SASL_MECHANISMS.join(', ')}`,
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'SASL authentication (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD)',
  }),
  KAFKA_SASL_USERNAME: variable(text, {
    form: 'a user name',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'SASL user (Confluent Cloud: the API key)',
  }),
  KAFKA_SASL_PASSWORD: variable(text, {
    form: 'a password',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'SASL password (Confluent Cloud: the API secret)',
  }),

  // Gateway.
  GATEWAY_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '3000',
    readers: ['gateway'],
    doc: 'WebSocket, page and health port',
  }),
  GATEWAY_HOST: variable(text, {
    form: 'a bind address',
    default: '127.0.0.1',
    readers: ['gateway'],
    doc: 'address the gateway listens on (0.0.0.0 in a container)',
  }),
  GATEWAY_AUTH_TOKEN: variable(text, {
    form: 'a token',
    readers: ['gateway'],
    doc: 'when set, the WebSocket upgrade must carry it (see "The WebSocket protocol")',
  }),
  GATEWAY_JWT_SECRET: variable(z.string().min(32), {
    form: 'a secret of at least 32 characters',
    readers: ['gateway'],
    doc: 'JWT mode: HS256 tokens signed with this secret; `sub` is the customer id (see "Auth modes")',
  }),
  GATEWAY_JWKS_URL: variable(httpUrl(['http:', 'https:']), {
    form: 'an http(s) URL',
    readers: ['gateway'],
    doc: "JWT mode: tokens verified against this JWKS (an identity provider's keys)",
  }),
  GATEWAY_JWT_ISSUER: variable(text, {
    form: 'an issuer',
    readers: ['gateway'],
    doc: 'JWT mode: the required `iss`',
  }),
  GATEWAY_JWT_AUDIENCE: variable(text, {
    form: 'an audience',
    readers: ['gateway'],
    doc: 'JWT mode: the required `aud`',
  }),
  GATEWAY_ALLOWED_ORIGINS: variable(commaList(httpUrl(['http:', 'https:'])), {
    form: 'a comma-separated list of http(s) origins',
    readers: ['gateway'],
    doc: 'when set, upgrades from other Origins are refused with 403',
  }),

  // Bridge.
  BRIDGE_HEALTH_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '3001',
    readers: ['bridge'],
    doc: 'health port',
  }),
  BRIDGE_HOST: variable(text, {
    form: 'a bind address',
    default: '127.0.0.1',
    readers: ['bridge'],
    doc: 'address the health server listens on',
  }),
  BRIDGE_GROUP_ID: variable(text, {
    form: 'a consumer group id',
    default: 'order-bridge',
    readers: ['bridge'],
    doc: 'Kafka consumer group of the bridges',
  }),
  STEP_DELAY_MS: variable(wholeNumber(0, 86_400_000), {
    form: 'a whole number of milliseconds (0-86400000)',
    default: '2000',
    readers: ['bridge'],
    doc: 'the durable pause between steps, passed in the workflow input',
  }),

  // Worker: health and metrics (off unless set: several workers may share a host).
  WORKER_HOST: variable(text, {
    form: 'a bind address',
    default: '127.0.0.1',
    readers: ['worker'],
    doc: 'address the worker health and metrics ports listen on',
  }),
  WORKER_HEALTH_PORT: variable(port, {
    form: 'a port number (1-65535)',
    readers: ['worker'],
    doc: 'when set, /livez, /readyz on this port',
  }),
  WORKER_METRICS_PORT: variable(port, {
    form: 'a port number (1-65535)',
    readers: ['worker'],
    doc: "when set, the Temporal SDK's Prometheus metrics on this port (/metrics)",
  }),

  // Worker: the simulated providers.
  SIM_CARD_LIMIT: variable(decimal(0, Number.MAX_SAFE_INTEGER), {
    form: 'a number ≥ 0',
    default: '5000',
    readers: ['worker'],
    doc: 'order totals above this are declined',
  }),
  SIM_TRANSIENT_FAILURE_RATE: variable(decimal(0, 1), {
    form: 'a number between 0 and 1',
    default: '0',
    readers: ['worker'],
    doc: 'probability that a provider call fails transiently',
  }),
  SIM_LATENCY_MS: variable(wholeNumber(0, 600_000), {
    form: 'a whole number of milliseconds (0-600000)',
    default: '0',
    readers: ['worker'],
    doc: 'simulated provider latency',
  }),
  SIM_LEDGER_FILE: variable(text, {
    form: 'a file path',
    default: '<data dir>/ledger/payments.jsonl',
    readers: ['worker'],
    doc: "the payment provider's durable ledger",
  }),

  // Every process.
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), {
    form: `one of ${LOG_LEVELS.join(', ')}`,
    default: 'info',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'log threshold (also for the kafkajs and Temporal SDK logs routed into it)',
  }),
  LOG_FORMAT: variable(z.enum(LOG_FORMATS), {
    form: `one of ${LOG_FORMATS.join(', ')}`,
    default: 'json',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'json: one JSON object per line (pino); pretty: readable, needs the dev dependencies (`npm start` sets it)',
  }),

  // Tracing (docs/TRACING.md). The OpenTelemetry SDK reads the OTEL_* variables itself; the other
  // standard ones (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*) work too.
  TRACING: variable(z.enum(['0', '1']), {
    form: '0 or 1',
    default: '0',
    readers: ['gateway', 'bridge', 'worker', 'launcher'],
    doc: 'OpenTelemetry traces, one per order across the three processes (`TRACING=1 npm start` also starts Jaeger)',
  }),
  OTEL_SDK_DISABLED: variable(z.enum(['true', 'false']), {
    form: 'true or false',
    default: 'false',
    readers: ['gateway', 'bridge', 'worker'],
    doc: "OpenTelemetry's standard off switch: true keeps tracing off even with TRACING=1",
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(httpUrl(['http:', 'https:']), {
    form: 'an http(s) URL',
    default: 'http://localhost:4318',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'OTLP/HTTP collector the spans go to (`/v1/traces` is appended)',
  }),
  OTEL_SERVICE_NAME: variable(text, {
    form: 'a service name',
    default: 'order-gateway, order-bridge, order-worker',
    readers: ['gateway', 'bridge', 'worker'],
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
    {
      form: 'always_on, always_off, traceidratio, or one of them prefixed parentbased_',
      default: 'parentbased_always_on',
      readers: ['gateway', 'bridge', 'worker'],
      doc: 'which traces are recorded (the gateway decides for each order; the others follow its choice)',
    },
  ),
  OTEL_TRACES_SAMPLER_ARG: variable(decimal(0, 1), {
    form: 'a number between 0 and 1',
    default: '1',
    readers: ['gateway', 'bridge', 'worker'],
    doc: 'the ratio of the traceidratio samplers (parentbased_traceidratio too)',
  }),
  TRACE_UI_URL: variable(httpUrl(['http:', 'https:']), {
    form: 'an http(s) URL',
    readers: ['gateway'],
    doc: 'a Jaeger UI the page and the CLI link each trace to (`TRACING=1 npm start` sets it)',
  }),

  // The CLI.
  ORDER_TOKEN: variable(text, {
    form: 'a token',
    readers: ['cli'],
    doc: 'the token the CLI presents to a gateway in token mode (`--token` overrides it)',
  }),
  ORDER_GATEWAY_URL: variable(httpUrl(['ws:', 'wss:']), {
    form: 'a ws(s) URL',
    default: 'ws://127.0.0.1:3000',
    readers: ['cli'],
    doc: 'gateway the `npm run order` CLI talks to (`--url` overrides it)',
  }),

  // The native servers (launcher, provisioning, chaos, bench).
  ORDERS_CACHE_DIR: variable(text, {
    form: 'a directory path',
    default: '~/.cache/order-orchestrator',
    readers: ['launcher'],
    doc: 'downloads and builds of the provisioned servers (else `$XDG_CACHE_HOME/order-orchestrator`)',
  }),
  ORDERS_DATA_DIR: variable(text, {
    form: 'a directory path',
    default: '.data',
    readers: ['launcher', 'worker', 'bench'],
    doc: 'server data, logs, pid files and the ledger (relative to the checkout)',
  }),
  ORDERS_KAFKA_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '9092',
    readers: ['launcher'],
    doc: "the launcher's Kafka port (a second, isolated stack)",
  }),
  ORDERS_KAFKA_CONTROLLER_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '9093',
    readers: ['launcher'],
    doc: "the launcher's KRaft controller port",
  }),
  ORDERS_KAFKA_SASL_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: 'ORDERS_KAFKA_PORT + 2',
    readers: ['launcher'],
    doc: "the launcher's Kafka SASL/SCRAM listener (user orders-app, see tools/infra/kafka-sasl.ts)",
  }),
  ORDERS_TEMPORAL_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '7233',
    readers: ['launcher'],
    doc: "the launcher's Temporal frontend port",
  }),
  ORDERS_TEMPORAL_UI_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: 'ORDERS_TEMPORAL_PORT + 1000',
    readers: ['launcher'],
    doc: "the launcher's Temporal web UI port",
  }),
  ORDERS_JAEGER_UI_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '16686',
    readers: ['launcher'],
    doc: "the launcher's Jaeger UI and query API port (TRACING=1)",
  }),
  ORDERS_JAEGER_OTLP_PORT: variable(port, {
    form: 'a port number (1-65535)',
    default: '4318',
    readers: ['launcher'],
    doc: "the launcher's Jaeger OTLP/HTTP port (OTLP/gRPC on the port below it)",
  }),
} satisfies Record<string, VariableSpec<unknown>>;
