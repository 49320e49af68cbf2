/** One stack of servers: where its Kafka and Temporal listen and keep their data, pid files and logs. */
import * as path from 'node:path';
import { infraPorts, InfraPorts } from './ports';
import { readEnv } from '../../common/env-variables';
import { dataDir } from './paths';

/** Where one stack's servers listen and keep their data, pid files and logs. */
export interface StackOptions {
  dataDir: string;
  ports: InfraPorts;
  /** 'stock': the dev server without TEMPORAL_DEV_DYNAMIC_CONFIG (the benchmark compares both). */
  temporalSettings?: 'tuned' | 'stock';
  /** 'dev' (default): the CLI dev server on SQLite; 'postgres': the Temporal server on PostgreSQL. */
  temporalEngine?: TemporalEngine;
  /** History shards of a new cluster on PostgreSQL (default 4; fixed once the cluster exists). */
  historyShards?: number;
}

export type TemporalEngine = 'dev' | 'postgres';

/** The stack the environment describes (ORDERS_DATA_DIR, ORDERS_*_PORT), with overrides. */
export function stackOptions(
  overrides: {
    dataDir?: string;
    ports?: Partial<InfraPorts>;
    temporalEngine?: TemporalEngine;
    historyShards?: number;
  } = {},
): StackOptions {
  const env = readEnv();
  const ports = { ...infraPorts(env), ...overrides.ports };
  // A stack on another Kafka port gets no SASL listener unless it names one (it would clash with ours).
  if (overrides.ports?.kafka !== undefined && overrides.ports.kafkaSasl === undefined) delete ports.kafkaSasl;
  // A stack on another Temporal port gets its PostgreSQL port from that one unless it names one.
  if (overrides.ports?.temporal !== undefined && overrides.ports.postgres === undefined)
    ports.postgres = overrides.ports.temporal - 1800;
  if (overrides.ports?.temporal !== undefined && overrides.ports.historyDb === undefined)
    ports.historyDb = overrides.ports.temporal - 1799;
  return {
    dataDir: path.resolve(overrides.dataDir ?? dataDir()),
    ports,
    temporalEngine: overrides.temporalEngine ?? env.ORDERS_TEMPORAL_ENGINE,
    historyShards: overrides.historyShards ?? env.ORDERS_TEMPORAL_HISTORY_SHARDS,
  };
}

export const kafkaBrokersOf = (stack: StackOptions): string[] => [`127.0.0.1:${stack.ports.kafka}`];
export const temporalAddressOf = (stack: StackOptions): string => `127.0.0.1:${stack.ports.temporal}`;
