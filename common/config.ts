/**
 * The one place that names ports, addresses, topics and queues.
 * Every process reads its settings from here; every setting can be overridden
 * by the environment variable named next to it (see README "Configuration").
 */
import { DEFAULT_NAMESPACE } from './names';

function envString(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Names of the environment variables the app reads (docker-compose.yml must use the same). */
export const ENV = {
  kafkaBrokers: 'KAFKA_BROKERS',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  gatewayPort: 'GATEWAY_PORT',
  bridgeHealthPort: 'BRIDGE_HEALTH_PORT',
  stepDelayMs: 'STEP_DELAY_MS',
} as const;

// The fixed names (topics, task queue, consumer groups, search attributes) live in ./names;
// re-exported here for the modules that read them with the rest of the configuration.
export { SEARCH_ATTRIBUTES, TASK_QUEUE, TOPIC_PARTITIONS, TOPICS } from './names';

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
} as const;

export interface InfraPorts {
  kafka: number;
  kafkaController: number;
  temporal: number;
  temporalUi: number;
}

/** Ports of the launcher's servers: DEFAULT_PORTS unless ORDERS_*_PORT says otherwise. */
export function infraPorts(): InfraPorts {
  const temporal = envInt(INFRA_ENV.temporalPort, DEFAULT_PORTS.temporal);
  return {
    kafka: envInt(INFRA_ENV.kafkaPort, DEFAULT_PORTS.kafka),
    kafkaController: envInt(INFRA_ENV.kafkaControllerPort, DEFAULT_PORTS.kafkaController),
    temporal,
    // Like the dev server itself: the UI defaults to the frontend port + 1000.
    temporalUi: envInt(INFRA_ENV.temporalUiPort, temporal === DEFAULT_PORTS.temporal ? DEFAULT_PORTS.temporalUi : temporal + 1000),
  };
}

export interface AppConfig {
  kafkaBrokers: string[];
  temporalAddress: string;
  temporalNamespace: string;
  gatewayPort: number;
  bridgeHealthPort: number;
  stepDelayMs: number;
}

export function loadConfig(): AppConfig {
  const ports = infraPorts();
  return {
    kafkaBrokers: envString(ENV.kafkaBrokers, `127.0.0.1:${ports.kafka}`)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    temporalAddress: envString(ENV.temporalAddress, `127.0.0.1:${ports.temporal}`),
    temporalNamespace: envString(ENV.temporalNamespace, DEFAULT_NAMESPACE),
    gatewayPort: envInt(ENV.gatewayPort, DEFAULT_PORTS.gateway),
    bridgeHealthPort: envInt(ENV.bridgeHealthPort, DEFAULT_PORTS.bridgeHealth),
    stepDelayMs: envInt(ENV.stepDelayMs, 2000),
  };
}
