/**
 * A subscription to an order that does not exist is simply quiet (the order may not have started yet),
 * so a followed order that shows no status is looked up: still NOT_FOUND after the grace period ends the follow.
 */
import { ErrorCode, type ReceivedFrame } from '../common/protocol';
import type { GatewayError, Tracked } from './tracking';

export interface ExistsCheck {
  graceMs: number;
  /** Whether the client still tracks this order (it may have ended meanwhile). */
  tracking: () => boolean;
  /** Asks the gateway for the order: its answer frame, or null when none came in time. */
  lookUp: () => Promise<ReceivedFrame | null>;
  notFound: (error: GatewayError) => void;
}

export async function verifyExists(t: Tracked, check: ExistsCheck): Promise<void> {
  const deadline = Date.now() + check.graceMs;
  for (;;) {
    if (!check.tracking() || t.events.length > 0) return;
    const answer = await check.lookUp();
    if (!check.tracking() || t.events.length > 0) return;
    if (answer?.event !== 'error' || answer.data.code !== ErrorCode.notFound) return; // it exists (or we cannot tell): keep following
    if (Date.now() >= deadline) {
      check.notFound(answer.data as unknown as GatewayError);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
