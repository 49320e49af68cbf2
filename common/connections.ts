/**
 * The clients every process connects with: one way to build a Kafka client and a Temporal client
 * from the config (./config; connection options from ./connection-settings), so client ids,
 * retries and log levels are not repeated.
 */
import { Connection, Client, type ClientOptions } from '@temporalio/client';
import { Kafka, type KafkaConfig } from 'kafkajs';
import type { AppConfig } from './config';
import { dataConverterOf } from './codec';
import { temporalConnectionOptions } from './connection-settings';
import { kafkaLogCreator, kafkaLogLevel } from './logger';

/**
 * How long a consumer's fetch waits on the broker for new messages (kafkajs's maxWaitTimeInMs, default
 * 5 s). A consumer's disconnect waits for the fetch in flight, so this bounds how long an idle consumer
 * holds up a drain; messages that arrive are returned at once whatever it is.
 */
export const CONSUMER_FETCH_WAIT_MS = 1_000;

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

/**
 * A client (its payloads sealed by the app's codec, ./codec) whose connection is made on first use and remade after an outage, so a process that holds
 * it starts (and reports not ready) while Temporal is still down: `npm start` brings the gateway and
 * the bridge up before the dev server. Reconnection attempts back off to at most 5 s (gRPC's default
 * cap is 120 s, which would leave a process idle for up to two minutes after Temporal came back).
 */
export function temporalClient(
  config: AppConfig,
  options: Pick<ClientOptions, 'interceptors'> = {},
): { client: Client; connection: Connection } {
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config.temporal),
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 5_000 },
  });
  return {
    client: new Client({
      connection,
      namespace: config.temporalNamespace,
      dataConverter: dataConverterOf(config.payloadEncryption),
      ...options,
    }),
    connection,
  };
}
