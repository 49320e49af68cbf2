/**
 * Connection helpers shared by every process: one way to build a Kafka client and a Temporal
 * client from the config, so settings (client ids, retries, log levels) are not repeated.
 */
import { Connection, Client, type ClientOptions } from '@temporalio/client';
import { Kafka, KafkaConfig } from 'kafkajs';
import { AppConfig } from './config';
import { kafkaLogCreator, kafkaLogLevel } from './logger';
import { temporalConnectionOptions } from './managed';

export function kafkaClient(config: AppConfig, clientId: string, overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    ...config.kafkaSecurity,
    // Into the process's pino logger, at its level (LOG_LEVEL).
    logLevel: kafkaLogLevel(config.logLevel),
    logCreator: kafkaLogCreator(),
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    ...overrides,
  });
}

export async function temporalConnection(config: AppConfig, connectTimeoutMs = 10_000): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: connectTimeoutMs });
}

export async function temporalClient(
  config: AppConfig,
  options: Pick<ClientOptions, 'interceptors'> = {},
): Promise<{ client: Client; connection: Connection }> {
  const connection = await temporalConnection(config);
  return { client: new Client({ connection, namespace: config.temporalNamespace, ...options }), connection };
}
