/**
 * `npm start`: the whole system on this machine.
 *  1. Kafka and Temporal (provisioned on first use, reused when already running);
 *  2. gateway, bridge and worker as separate processes, their output prefixed by name.
 * Ctrl-C stops the three processes (each drains) and then the servers this command started.
 */
import concurrently from 'concurrently';
import { loadConfig, readEnv } from '../../common/config';
import { stop, up } from '../infra/launcher';
import { PROJECT_ROOT } from '../../common/config';

async function main(): Promise<void> {
  const infra = await up();
  const config = loadConfig();
  console.log(`\n  WebSocket:   ws://${config.gatewayHost}:${config.gatewayPort}`);
  console.log(`  Temporal UI: ${config.temporalUiUrl}\n`);
  // Ctrl-C reaches the children directly (same process group); wait for them, then stop servers.
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Readable logs at the terminal (pino-pretty) unless LOG_FORMAT says otherwise.
  const env = { LOG_FORMAT: readEnv().LOG_FORMAT ?? 'pretty' };
  const { result, commands } = concurrently(
    [
      { command: 'node --import tsx worker/main.ts', name: 'worker', prefixColor: 'green', env },
      { command: 'node --import tsx bridge/main.ts', name: 'bridge', prefixColor: 'yellow', env },
      { command: 'node --import tsx gateway/main.ts', name: 'gateway', prefixColor: 'cyan', env },
    ],
    { cwd: PROJECT_ROOT, prefix: 'none', killOthersOn: ['failure'], killSignal: 'SIGTERM' },
  );
  process.on('SIGTERM', () => commands.forEach((c) => c.kill('SIGTERM')));
  try {
    await result;
  } catch {
    if (!interrupted) process.exitCode = 1;
  } finally {
    await stop(infra.started);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
