/**
 * What the deploy commands share: their exit codes, a Temporal client from the app's connection
 * settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key: the same as the worker's), the
 * deployment name (--deployment, else WORKER_DEPLOYMENT_NAME), and a commander program that exits
 * with EXIT.usage on a bad command line.
 */
import { Client, Connection } from '@temporalio/client';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadConfig, type AppConfig } from '../../common/config';
import { temporalConnection } from '../../common/connections';
import { DEPLOYMENT_NAME } from '../../common/env-forms';
import { dataConverterOf } from '../../common/codec';

export const EXIT = {
  ok: 0,
  /** The check found histories that do not replay, or Temporal refused the change. */
  failed: 1,
  /** A bad command line or setting, or Temporal could not be reached. */
  usage: 2,
} as const;

/** A problem the operator must fix before the command can run (named, no stack trace). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface TemporalSession {
  config: AppConfig;
  connection: Connection;
  client: Client;
  namespace: string;
}

export async function connectTemporal(): Promise<TemporalSession> {
  const config = loadConfig();
  let connection: Connection;
  try {
    connection = await temporalConnection(config);
  } catch (err) {
    throw new UsageError(`cannot reach Temporal at ${config.temporalAddress}: ${(err as Error).message}`);
  }
  const namespace = config.temporalNamespace;
  return {
    config,
    connection,
    client: new Client({ connection, namespace, dataConverter: dataConverterOf(config.payloadEncryption) }),
    namespace,
  };
}

/** The deployment to act on: --deployment, else WORKER_DEPLOYMENT_NAME (the workers' own setting). */
export function deploymentNameOf(flag: string | undefined, config: AppConfig): string {
  const name = flag ?? config.workerDeployment?.deploymentName;
  if (!name) throw new UsageError('no deployment named: pass --deployment <name> or set WORKER_DEPLOYMENT_NAME');
  return name;
}

export function deploymentNameArg(value: string): string {
  if (!DEPLOYMENT_NAME.schema.safeParse(value).success)
    throw new InvalidArgumentError(`must be ${DEPLOYMENT_NAME.form}`);
  return value;
}

export function wholeNumberArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A commander program whose parse errors exit with EXIT.usage (--help exits 0). */
export function deployCommand(name: string, description: string): Command {
  return new Command().name(name).description(description).exitOverride();
}

/** Parses argv; a bad command line exits with EXIT.usage after commander printed why. */
export function parseOrExit(program: Command, argv = process.argv): void {
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    throw err;
  }
}

/** Runs a command's body: a UsageError is one line and EXIT.usage; anything else is EXIT.failed. */
export function runCommand(prefix: string, body: () => Promise<number>): void {
  body().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const usage = err instanceof UsageError;
      console.error(`${prefix}: ${usage ? err.message : err instanceof Error ? err.message : String(err)}`);
      process.exit(usage ? EXIT.usage : EXIT.failed);
    },
  );
}
