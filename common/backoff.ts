/** Capped exponential backoff, shared by the apps that retry (the bridge's starts and opens, the consumers' restarts). */
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

/** What a retrying caller is told while it retries (the bridge's health and log). */
export interface RetryReporting {
  backoff: Backoff;
  /** Called once when a call starts retrying, and with `false` once it stops. */
  onBackoff(active: boolean): void;
  /** Called before each wait, with the error and how long the wait is. */
  onRetry(err: Error, waitMs: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it succeeds, waiting with capped exponential backoff between tries and
 * calling `heartbeat` before each wait (a consumer keeps its partitions meanwhile). An error
 * `isPermanent` calls permanent is thrown at once; once `alive()` is false the loop gives up with
 * `stopping()`'s error (the caller leaves its message uncommitted, to be read again).
 */
export async function retryWhileAlive<T>(
  attempt: () => Promise<T>,
  opts: RetryReporting,
  loop: {
    heartbeat: () => Promise<void>;
    alive: () => boolean;
    stopping: () => Error;
    isPermanent?: (err: unknown) => boolean;
  },
): Promise<T> {
  let wait = opts.backoff.initialMs;
  let retrying = false;
  try {
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        if (loop.isPermanent?.(err)) throw err;
        if (!loop.alive()) throw loop.stopping();
        if (!retrying) opts.onBackoff(true);
        retrying = true;
        opts.onRetry(err as Error, wait);
        await loop.heartbeat();
        await sleep(wait);
        wait = nextWait(wait, opts.backoff);
      }
    }
  } finally {
    if (retrying) opts.onBackoff(false);
  }
}
