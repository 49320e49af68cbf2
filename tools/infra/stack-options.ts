/** One stack of servers: where its Kafka and Temporal listen and keep their data, pid files and logs. */
import * as path from 'node:path';
import { infraPorts, InfraPorts } from '../../common/config';
import { dataDir } from './paths';

/** Where one stack's servers listen and keep their data, pid files and logs. */
export interface StackOptions {
  dataDir: string;
  ports: InfraPorts;
  /** 'stock': the dev server without TEMPORAL_DEV_DYNAMIC_CONFIG (the benchmark compares both). */
  temporalSettings?: 'tuned' | 'stock';
}

/** The stack the environment describes (ORDERS_DATA_DIR, ORDERS_*_PORT), with overrides. */
export function stackOptions(overrides: { dataDir?: string; ports?: Partial<InfraPorts> } = {}): StackOptions {
  const ports = { ...infraPorts(), ...overrides.ports };
  // A stack on another Kafka port gets no SASL listener unless it names one (it would clash with ours).
  if (overrides.ports?.kafka !== undefined && overrides.ports.kafkaSasl === undefined) delete ports.kafkaSasl;
  return { dataDir: path.resolve(overrides.dataDir ?? dataDir()), ports };
}

export const kafkaBrokersOf = (stack: StackOptions): string[] => [`127.0.0.1:${stack.ports.kafka}`];
export const temporalAddressOf = (stack: StackOptions): string => `127.0.0.1:${stack.ports.temporal}`;
