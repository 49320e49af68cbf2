/**
 * How to reach the servers, read from the validated environment (managed services included), with
 * no client made here: ./connections builds the clients from these.
 *  - Temporal (Temporal Cloud, or any server with mTLS / API keys) through @temporalio/envconfig:
 *    a profile file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml when present,
 *    profile TEMPORAL_PROFILE) overridden by the TEMPORAL_* variables;
 *  - Kafka SSL (CA, client certificate) and SASL (PLAIN, SCRAM-SHA-256/512) for kafkajs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Env, VariableName } from './env-variables';

/** What both the client Connection and the worker's NativeConnection take, plus the namespace. */
export interface TemporalConnect {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: NativeConnectionOptions['tls'];
  metadata?: Record<string, string>;
}

const TEMPORAL_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
] as const satisfies readonly VariableName[];

/** The profile file envconfig would use by default, when it exists. */
function defaultProfileFile(home = os.homedir()): string | undefined {
  const file = path.join(home, '.config', 'temporalio', 'temporal.toml');
  return fs.existsSync(file) ? file : undefined;
}

export function temporalConnect(
  env: Env,
  defaults: { address: string; namespace: string },
  profileFile = env.TEMPORAL_CONFIG_FILE ?? defaultProfileFile(),
): TemporalConnect {
  const overrideEnvVars: Record<string, string> = {};
  for (const name of TEMPORAL_VARIABLES) {
    const value = env[name];
    if (value !== undefined) overrideEnvVars[name] = String(value);
  }
  // A file without any [profile.*] table (e.g. empty) has nothing to give; envconfig 1.24 fails on it.
  const useFile = profileFile !== undefined && /^\s*\[profile\./m.test(fs.readFileSync(profileFile, 'utf8'));
  const loaded = loadClientConnectConfig({
    overrideEnvVars,
    ...(useFile ? { configSource: { path: profileFile } } : { disableFile: true }),
  });
  const options = loaded.connectionOptions;
  return {
    address: options.address ?? defaults.address,
    namespace: loaded.namespace ?? defaults.namespace,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey as string } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.metadata && Object.keys(options.metadata).length
      ? { metadata: options.metadata as Record<string, string> }
      : {}),
  };
}

/** kafkajs `ssl` and `sasl` options for the KAFKA_SSL* / KAFKA_SASL_* variables (none when unset). */
export function kafkaSecurity(env: Env): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const read = (file: string | undefined): Buffer | undefined =>
    file === undefined ? undefined : fs.readFileSync(file);
  const files = {
    ca: read(env.KAFKA_SSL_CA_FILE),
    cert: read(env.KAFKA_SSL_CERT_FILE),
    key: read(env.KAFKA_SSL_KEY_FILE),
  };
  const anyFile = Object.values(files).some((v) => v !== undefined);
  const result: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (anyFile) {
    result.ssl = {
      ...(files.ca ? { ca: [files.ca] } : {}),
      ...(files.cert ? { cert: files.cert } : {}),
      ...(files.key ? { key: files.key } : {}),
    };
  } else if (env.KAFKA_SSL === 'true') {
    result.ssl = true;
  }
  if (env.KAFKA_SASL_MECHANISM) {
    const credentials = { username: env.KAFKA_SASL_USERNAME ?? '', password: env.KAFKA_SASL_PASSWORD ?? '' };
    const sasl: SASLOptions = { mechanism: env.KAFKA_SASL_MECHANISM, ...credentials } as SASLOptions;
    result.sasl = sasl;
  }
  return result;
}

/** The connection part of a TemporalConnect (what Connection / NativeConnection.connect take). */
export function temporalConnectionOptions(t: TemporalConnect): Omit<TemporalConnect, 'namespace'> {
  return {
    address: t.address,
    ...(t.apiKey !== undefined ? { apiKey: t.apiKey } : {}),
    ...(t.tls !== undefined ? { tls: t.tls } : {}),
    ...(t.metadata !== undefined ? { metadata: t.metadata } : {}),
  };
}
