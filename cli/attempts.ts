/**
 * The placeOrder attempts of one tracked order: the bounds on them (count, deadline, time to an answer),
 * the onAttempt report of each one's outcome, and the backoff between resends and reconnects.
 */
import type { Attempt, ClientOptions, Tracked } from './tracking';

type Bounds = Pick<ClientOptions, 'answerTimeoutMs' | 'maxAttempts' | 'attemptDeadline'>;

/**
 * Starts an attempt for `t`; false (and nothing started) when its bounds are spent. With an answer
 * timeout, an attempt left unanswered ends 'timeout' and `onNoAnswer` runs.
 */
export function beginAttempt(t: Tracked, bounds: Bounds, onNoAnswer: () => void): boolean {
  if (t.attempts >= (bounds.maxAttempts ?? Infinity) || Date.now() >= (bounds.attemptDeadline ?? Infinity))
    return false;
  t.attempts += 1;
  t.attemptAt = Date.now();
  if (bounds.answerTimeoutMs !== undefined) {
    t.answerTimer = setTimeout(() => {
      endAttempt(t, 'timeout');
      onNoAnswer();
    }, bounds.answerTimeoutMs);
  }
  return true;
}

/** Ends the attempt under way (if any) with `outcome` and reports it to the order's onAttempt. */
export function endAttempt(t: Tracked, outcome: Attempt['outcome'], code?: string): void {
  if (t.attemptAt === undefined) return;
  clearTimeout(t.answerTimer);
  const attempt: Attempt = code === undefined ? { at: t.attemptAt, outcome } : { at: t.attemptAt, outcome, code };
  t.attemptAt = undefined;
  t.handlers.onAttempt?.(attempt);
}

/** The wait before retry number `n` (from 0): doubling from backoffMs up to maxBackoffMs, plus jitter if asked. */
export function backoffDelay(
  n: number,
  opts: Required<Pick<ClientOptions, 'backoffMs' | 'maxBackoffMs' | 'jitter'>>,
): number {
  const base = Math.min(opts.maxBackoffMs, opts.backoffMs * 2 ** n);
  return opts.jitter ? base + Math.floor(Math.random() * base) : base;
}
