/**
 * Every environment variable any process of this project reads, in one zod schema: its expected
 * form, its default and who reads it. `readEnv()` validates the whole environment at once and
 * fails with one line per bad variable, naming it, the value it had and the form it should have.
 *
 * The variables themselves are the table in ./env-variables; the README's configuration table and
 * `.env.example` list exactly those (test/common/config.unit.test.ts checks both). Resolved settings with defaults: `loadConfig()` in ./config.
 */
import { z } from 'zod';
import { VARIABLES } from './env-variables';

export * from './env-variables';

export type VariableName = keyof typeof VARIABLES;
export const VARIABLE_NAMES = Object.keys(VARIABLES) as VariableName[];

/** The validated environment: each variable parsed, or undefined when unset (or empty). */
export type Env = { [K in VariableName]?: z.output<(typeof VARIABLES)[K]['schema']> };

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: Array<{ variable: VariableName; value: string; form: string }>) {
    super(
      `invalid configuration: ${problems
        .map((p) => `${p.variable}=${JSON.stringify(p.value)} is not ${p.form}`)
        .join('; ')}`,
    );
  }
}

const EnvSchema = z.object(
  Object.fromEntries(
    VARIABLE_NAMES.map((name) => [
      name,
      z.preprocess((v) => (v === '' ? undefined : v), VARIABLES[name].schema.optional()),
    ]),
  ),
);

/** Variables that must be set when another one is, and why. */
const REQUIRED_WITH: Partial<Record<VariableName, string>> = {
  KAFKA_SASL_USERNAME: 'KAFKA_SASL_MECHANISM needs it',
  KAFKA_SASL_PASSWORD: 'KAFKA_SASL_MECHANISM needs it',
  KAFKA_SSL_KEY_FILE: 'KAFKA_SSL_CERT_FILE needs it',
  KAFKA_SSL_CERT_FILE: 'KAFKA_SSL_KEY_FILE needs it',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH needs it',
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH needs it',
};

function requiredTogether(env: Env): VariableName[] {
  const missing: VariableName[] = [];
  if (env.KAFKA_SASL_MECHANISM)
    missing.push(...(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((v) => !env[v]));
  if (env.KAFKA_SSL_CERT_FILE && !env.KAFKA_SSL_KEY_FILE) missing.push('KAFKA_SSL_KEY_FILE');
  if (env.KAFKA_SSL_KEY_FILE && !env.KAFKA_SSL_CERT_FILE) missing.push('KAFKA_SSL_CERT_FILE');
  if (env.TEMPORAL_TLS_CLIENT_CERT_PATH && !env.TEMPORAL_TLS_CLIENT_KEY_PATH)
    missing.push('TEMPORAL_TLS_CLIENT_KEY_PATH');
  if (env.TEMPORAL_TLS_CLIENT_KEY_PATH && !env.TEMPORAL_TLS_CLIENT_CERT_PATH)
    missing.push('TEMPORAL_TLS_CLIENT_CERT_PATH');
  return missing;
}

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
    const missing = requiredTogether(data);
    if (missing.length)
      throw new ConfigError(
        missing.map((variable) => ({ variable, value: '', form: `set (${REQUIRED_WITH[variable]})` })),
      );
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
