/**
 * A PostgreSQL for tests of the order history: TEST_DATABASE_URL when set (any real server), else a
 * private cluster of Debian's PostgreSQL (tools/infra/temporal-sql-server.ts startPostgres) in a
 * directory and on a port of its own, stopped by stop(). Each call gets a database of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../tools/infra/proc';
import { stopServer } from '../../tools/infra/server-process';
import { stackOptions, type StackOptions } from '../../tools/infra/stack-options';
import { startPostgres } from '../../tools/infra/temporal-sql-server';
import { uniqueId } from './wait';

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function testDatabase(): Promise<TestDatabase> {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let stack: StackOptions | undefined;
  if (!serverUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-history-pg-'));
    stack = stackOptions({ dataDir: dir, ports: { postgres: await freePort() } });
    await startPostgres(stack, () => {});
    serverUrl = `postgresql://temporal@127.0.0.1:${stack.ports.postgres}/postgres`;
  }
  const name = uniqueId('history')
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase();
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async stop() {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      if (stack) {
        await stopServer('postgres', stack, { log: () => {} });
        fs.rmSync(stack.dataDir, { recursive: true, force: true });
      }
    },
  };
}
