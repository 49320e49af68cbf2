/** Capped exponential backoff, shared by the apps that retry (the bridge's starts, the consumers' restarts). */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** The wait after `wait`: doubled, capped at `maxMs`. */
export function nextWait(wait: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, wait * 2);
}

/** The wait before the `attempt`-th try (1-based): initialMs doubled per attempt, capped at maxMs. */
export function attemptDelay(attempt: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
}
