/**
 * `npm start`: the whole system on this machine.
 *  1. Kafka and Temporal (provisioned on first use, reused when already running);
 *  2. with TRACING=1, Jaeger too (built on first use), and the three processes export their spans
 *     to it (docs/TRACING.md);
 *  3. gateway, bridge and worker as separate processes, their output prefixed by name.
 * Ctrl-C stops the three processes (each drains) and then the servers this command started.
 */
import concurrently from 'concurrently';
import { loadConfig, readEnv } from '../../common/config';
import { stop, up, upJaeger } from '../infra/launcher';
import type { Server } from '../infra/server-process';
import { PROJECT_ROOT } from '../../common/config';
import { tracingWanted } from '../../common/tracing';

async function main(): Promise<void> {
  const infra = await up();
  const started: Server[] = [...infra.started];
  const config = loadConfig();
  // Readable logs at the terminal (pino-pretty) unless LOG_FORMAT says otherwise.
  const env: Record<string, string> = { LOG_FORMAT: readEnv().LOG_FORMAT ?? 'pretty' };
  let traces: string | undefined;
  if (tracingWanted()) {
    try {
      const jaeger = await upJaeger();
      if (jaeger.started) started.push('jaeger');
      traces = config.traceUiUrl ?? jaeger.uiUrl;
      // The processes export to this Jaeger, unless the environment names another collector.
      env.OTEL_EXPORTER_OTLP_ENDPOINT = readEnv().OTEL_EXPORTER_OTLP_ENDPOINT ?? jaeger.otlpUrl;
      env.TRACE_UI_URL = traces;
    } catch (err) {
      await stop(started);
      throw err;
    }
  }
  console.log(`\n  WebSocket:   ws://${config.gatewayHost}:${config.gatewayPort}`);
  console.log(`  Temporal UI: ${config.temporalUiUrl}`);
  if (traces) console.log(`  Traces:      ${traces}`);
  console.log('');
  // Ctrl-C reaches the children directly (same process group); wait for them, then stop servers.
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
    await stop(started);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
