/**
 * A second, separate Temporal dev server at its stock settings (no TEMPORAL_DEV_DYNAMIC_CONFIG),
 * on its own data directory and ports, for the ceilings "at the dev server's stock settings beside
 * the tuned ones". Started with the launcher's own code, stopped and deleted afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stackOptions, StackOptions, startServer, stopServer, temporalAddressOf } from '../infra/launcher';
import type { BenchContext, TemporalTarget } from './context';
import { preferredOrFreePort } from '../infra/proc';
import { dataConverterOf } from '../../common/codec';
import { loadConfig } from '../../common/config';

/** Runs `work` against a fresh stock dev server; the server is stopped and its data removed after. */
export async function withStockServer<T>(ctx: BenchContext, work: (target: TemporalTarget) => Promise<T>): Promise<T> {
  const tunedPort = Number(ctx.temporal.address.split(':').pop()) || 7233;
  const temporal = await preferredOrFreePort(tunedPort + 100);
  const temporalUi = await preferredOrFreePort(
    temporal + 1000 === tunedPort + 1000 ? temporal + 1001 : temporal + 1000,
  );
  const stack: StackOptions = {
    ...stackOptions({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), `order-bench-stock-${ctx.runId}-`)),
      ports: { temporal, temporalUi },
    }),
    temporalSettings: 'stock',
  };
  const log = (line: string): void => ctx.progress.log(`stock server: ${line}`);
  log(`starting a Temporal dev server at stock settings on 127.0.0.1:${temporal} (data ${stack.dataDir})`);
  let connection: Connection | undefined;
  let pid: number | undefined;
  // Ctrl-C or a crash of the bench skips the finally below: the server (its own process group) goes with us.
  const onExit = (): void => {
    try {
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  try {
    pid = await startServer('temporal', stack, log);
    const address = temporalAddressOf(stack);
    connection = await Connection.connect({ address, connectTimeout: 10_000 });
    return await work({
      settings: 'stock',
      address,
      client: new Client({
        connection,
        namespace: ctx.namespace,
        dataConverter: dataConverterOf(loadConfig().payloadEncryption),
      }),
      pid,
    });
  } finally {
    await connection?.close().catch(() => undefined);
    await stopServer('temporal', stack, { log });
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}
