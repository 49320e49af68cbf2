/** How the gateway and the bridge end on SIGINT/SIGTERM: drain, bounded by a grace period, then exit. */

export const SHUTDOWN_GRACE_MS = 25_000;

export interface ShutdownLog {
  info(line: string): void;
  error(line: string): void;
}

/**
 * On the first SIGINT or SIGTERM: logs `<signal>: <what>`, runs `drain`, and exits 0; exits 1 if
 * the drain takes longer than the grace period (whatever has not drained by then is abandoned:
 * Kafka redelivers, clients resend). Install it before start-up finishes, so a signal during
 * start-up still drains rather than killing the process mid-request.
 */
export function drainOnSignal(
  log: ShutdownLog,
  what: string,
  drain: () => Promise<void>,
  graceMs = SHUTDOWN_GRACE_MS,
): void {
  const shutdown = async (signal: string): Promise<void> => {
    setTimeout(() => {
      log.error(`drain took longer than ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs).unref();
    log.info(`${signal}: ${what}`);
    await drain();
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(sig));
}
