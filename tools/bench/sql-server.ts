/**
 * The bench's own Temporal server on PostgreSQL (the launcher's ORDERS_TEMPORAL_ENGINE=postgres, built
 * from the release the dev server embeds): a fresh private PostgreSQL cluster and schema in a temporary
 * data directory, the app's namespace and search attributes registered, so the bare engine and the
 * pipeline can run on it beside the dev server in the same run. Stopped and deleted afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes, ownedPid, stackOptions, startServer, stopServer } from '../infra/launcher';
import { freeLowPort, killGroup } from '../infra/proc';
import { historyShardsOf } from '../infra/temporal-sql-server';
import { temporalAddressOf } from '../infra/stack-options';
import type { BenchContext, TemporalTarget } from './context';
import { dataConverterOf } from '../../common/codec';
import { loadConfig } from '../../common/config';

async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService
    .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') })
    .catch((err: { code?: number }) => {
      if (err.code !== 6) throw err; // ALREADY_EXISTS (the launcher registers the default one)
    });
}

/** Runs `work` against a fresh Temporal server on PostgreSQL; both are stopped and their data removed after. */
export async function withSqlServer<T>(ctx: BenchContext, work: (target: TemporalTarget) => Promise<T>): Promise<T> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `order-bench-sql-${ctx.runId}-`));
  // As root PostgreSQL runs as the `postgres` user, which must reach its directory inside.
  fs.chmodSync(workDir, 0o755);
  // Below 32768: the Temporal server stores its ports as a PostgreSQL smallint.
  const stack = stackOptions({
    dataDir: workDir,
    ports: { temporal: await freeLowPort(), temporalUi: await freeLowPort(), postgres: await freeLowPort() },
    temporalEngine: 'postgres',
  });
  const log = (line: string): void => ctx.progress.log(`postgres engine: ${line}`);
  log(
    `starting PostgreSQL on 127.0.0.1:${stack.ports.postgres} and the Temporal server on ${temporalAddressOf(stack)} ` +
      `(${historyShardsOf(stack)} history shards, data ${workDir})`,
  );
  let connection: Connection | undefined;
  // Ctrl-C or a crash of the bench skips the finally below: the servers (own process groups) go with us.
  const onExit = (): void => {
    for (const s of ['temporal', 'postgres'] as const) {
      const pid = ownedPid(s, stack);
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  try {
    const started = Date.now();
    const pid = await startServer('temporal', stack, log);
    const address = temporalAddressOf(stack);
    connection = await Connection.connect({ address, connectTimeout: 10_000 });
    await ensureNamespace(connection, ctx.namespace);
    await ensureSearchAttributes(address, ctx.namespace, log);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return await work({
      settings: 'postgres',
      address,
      client: new Client({
        connection,
        namespace: ctx.namespace,
        dataConverter: dataConverterOf(loadConfig().payloadEncryption),
      }),
      pid,
      dbPid: ownedPid('postgres', stack),
    });
  } finally {
    await connection?.close().catch(() => undefined);
    await stopServer('temporal', stack, { log });
    await stopServer('postgres', stack, { log });
    fs.rmSync(workDir, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}
