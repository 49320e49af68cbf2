/**
 * Compact worker logs: one line per order step (from workflow and activity loggers) plus warnings
 * and errors; the SDK's chatty INFO internals (bundler output, poller state) are left out.
 */
import { DefaultLogger, LogEntry, Runtime } from '@temporalio/worker';

function line(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${time} ${entry.level.padEnd(5)} ${entry.message}`;
}

export function installCompactLogger(): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      const component = entry.meta?.sdkComponent;
      const isOrderStep = component === 'workflow' || component === 'activity';
      if (entry.level === 'WARN' || entry.level === 'ERROR') console.error(`[worker] ${line(entry)}`);
      else if (isOrderStep) console.log(`[worker] ${line(entry)}`);
    }),
  });
}
