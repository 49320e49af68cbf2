/**
 * The ports of the servers the launcher starts: their defaults (from the table in
 * common/env-variables.ts) and the ORDERS_*_PORT overrides that let a second, isolated stack run
 * next to the default one (the chaos harness does this).
 */
import { historyDbPortOf, temporalUiPort } from '../../common/config';
import { readEnv, type Env } from '../../common/env-variables';

const defaults = readEnv({});

export const DEFAULT_PORTS = {
  kafka: defaults.ORDERS_KAFKA_PORT,
  kafkaController: defaults.ORDERS_KAFKA_CONTROLLER_PORT,
  temporal: defaults.ORDERS_TEMPORAL_PORT,
  temporalUi: temporalUiPort(defaults),
  gateway: defaults.GATEWAY_PORT,
  gatewayHealth: defaults.GATEWAY_HEALTH_PORT,
  bridgeHealth: defaults.BRIDGE_HEALTH_PORT,
  codecServer: defaults.CODEC_SERVER_PORT,
  /** The worker's health and SDK-metrics ports where they are enabled (docker-compose.yml). */
  workerHealth: 3002,
  workerMetrics: 9464,
  /** Zipkin (TRACING=1 npm start): spans in (/api/v2/spans), query API and UI (/zipkin/) on one port. */
  zipkin: defaults.ORDERS_ZIPKIN_PORT,
  /** Jaeger (ORDERS_TRACE_VIEWER=jaeger): UI and query API; OTLP over HTTP (gRPC on the port below it, 4317). */
  jaegerUi: defaults.ORDERS_JAEGER_UI_PORT,
  jaegerOtlp: defaults.ORDERS_JAEGER_OTLP_PORT,
} as const;

export interface InfraPorts {
  kafka: number;
  kafkaController: number;
  /** The local broker's SASL/SCRAM listener (tools/infra/kafka-sasl.ts); isolated stacks may go without. */
  kafkaSasl?: number;
  temporal: number;
  temporalUi: number;
  /** PostgreSQL under the Temporal server (ORDERS_TEMPORAL_ENGINE=postgres); default: the frontend port - 1800. */
  postgres?: number;
  /** The order history's PostgreSQL (tools/infra/history-db-server.ts); default: the frontend port - 1799. */
  historyDb?: number;
  /** The codec server (codec-server/), which the dev server's UI is told to decode through. */
  codecServer: number;
  /** Zipkin's one port: spans in, query API and UI. */
  zipkin: number;
  /** Jaeger's UI and query API, and its OTLP/HTTP receiver (gRPC on the port below). */
  jaegerUi: number;
  jaegerOtlp: number;
}

/** Ports of the launcher's servers: their defaults unless ORDERS_*_PORT says otherwise. */
export function infraPorts(env: Env = readEnv()): InfraPorts {
  return {
    kafka: env.ORDERS_KAFKA_PORT,
    kafkaController: env.ORDERS_KAFKA_CONTROLLER_PORT,
    kafkaSasl: env.ORDERS_KAFKA_SASL_PORT ?? env.ORDERS_KAFKA_PORT + 2,
    temporal: env.ORDERS_TEMPORAL_PORT,
    temporalUi: temporalUiPort(env),
    postgres: env.ORDERS_POSTGRES_PORT ?? env.ORDERS_TEMPORAL_PORT - 1800,
    historyDb: historyDbPortOf(env),
    codecServer: env.CODEC_SERVER_PORT,
    zipkin: env.ORDERS_ZIPKIN_PORT,
    jaegerUi: env.ORDERS_JAEGER_UI_PORT,
    jaegerOtlp: env.ORDERS_JAEGER_OTLP_PORT,
  };
}
