/** The Temporal dev server (Temporal CLI `server start-dev`) on loopback, persisting to SQLite. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../../common/names';
import { TEMPORAL_DEV_DYNAMIC_CONFIG } from './temporal-dynamic-config';
import { temporalReady } from '../../common/health';
import { DEFAULT_NAMESPACE } from '../../common/names';
import { dataPaths } from './paths';
import { Log } from './proc';
import { provisionTemporalCli } from './provision';
import { startupTimeline } from './timeline';
import { spawnServer, waitReady } from './server-process';
import { StackOptions, temporalAddressOf } from './stack-options';

/** Starts the dev server on the stack's SQLite file, with the app's search attributes, and waits until it answers. */
export async function startTemporal(stack: StackOptions, log: Log): Promise<number> {
  const bin = await provisionTemporalCli(log);
  const db = dataPaths.temporalDb(stack.dataDir);
  fs.mkdirSync(path.dirname(db), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(stack.ports.temporal),
    '--ui-port',
    String(stack.ports.temporalUi),
    '--db-filename',
    db,
    '--namespace',
    DEFAULT_NAMESPACE,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    // The UI decodes payloads through the codec server (`npm start` runs it; codec-server/), from the
    // browser: an address the browser reaches, on this machine.
    '--ui-codec-endpoint',
    `http://127.0.0.1:${stack.ports.codecServer}`,
    // WAL + synchronous=NORMAL: committed runs survive a crash of the server process (not of the OS).
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    // No daily call home to version-info.temporal.io: these machines have no internet, and the lookup
    // is the only outside address the dev server tries to reach at start (seen with strace).
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(stack.temporalSettings === 'stock'
      ? []
      : Object.entries(TEMPORAL_DEV_DYNAMIC_CONFIG).flatMap(([key, value]) => [
          '--dynamic-config-value',
          `${key}=${value}`,
        ])),
  ];
  const startedAt = Date.now();
  const pid = spawnServer('temporal', stack, bin, args);
  await waitReady(
    'temporal',
    stack,
    pid,
    () => temporalReady(temporalAddressOf(stack), DEFAULT_NAMESPACE),
    120_000,
    log,
  );
  startupTimeline.record('Temporal dev server start until it answers', startedAt);
  return pid;
}
