/** A chaos scenario's time to recover, read from the runs' visibility times after the kill. */
import { workflowIdFor } from '../../common/order';
import type { RunInfo } from './runs';
import type { OrderRecord } from './resending-clients';
import type { ScenarioName } from './scenario-kit';

/**
 * Which orders show that the struck part works again: orders that had to pass through it after the
 * kill. Orders the surviving processes could finish without it (e.g. runs already started when a
 * gateway dies) would only time the pipeline's latency.
 *   accepted  acknowledged orders first sent after the kill (only a restarted gateway / broker took them)
 *   started   the run was started after the kill (only a live bridge started it)
 *   open      the run was still open at the kill (every step needs the one worker / the server)
 */
const RECOVERY_PATH: Record<ScenarioName, 'accepted' | 'started' | 'open'> = {
  gateway: 'accepted',
  kafka: 'accepted',
  bridge: 'started',
  'bridge-pair': 'started',
  'bridge-rebalance': 'started',
  'worker-timer': 'open',
  'worker-payment': 'open',
  worker: 'open',
  temporal: 'open',
  multi: 'started',
};

/**
 * Time to recover: from the kill (the moment the struck process or server was gone) to the earliest
 * visibility CloseTime among the scenario's runs that had to pass through the struck part after the
 * kill (RECOVERY_PATH). Returns the milliseconds and a note naming that order, or undefined.
 */
export function recoveryMs(
  scenario: ScenarioName,
  records: OrderRecord[],
  runs: RunInfo[],
  killedAt: number,
): { ms: number; note: string } | undefined {
  const path = RECOVERY_PATH[scenario];
  // Every attempt after the kill: an order first sent before it may be in Kafka from that attempt
  // (stored, answer lost) and started without the restarted part.
  const sentAfter = new Set(
    records
      .filter((r) => r.acceptedAt !== undefined && r.attempts[0].at >= killedAt)
      .map((r) => workflowIdFor({ orderId: r.spec.orderId })),
  );
  const qualifies = (r: RunInfo): boolean =>
    path === 'accepted'
      ? sentAfter.has(r.workflowId)
      : path === 'started'
        ? r.startTime >= killedAt
        : (r.closeTime ?? Infinity) > killedAt;
  const first = runs
    .filter((r) => r.closeTime !== undefined && qualifies(r))
    .sort((a, b) => (a.closeTime ?? 0) - (b.closeTime ?? 0))[0];
  if (first?.closeTime === undefined) return undefined;
  const ms = first.closeTime - killedAt;
  return {
    ms,
    note: `recovered ${(ms / 1000).toFixed(1)}s after the kill (${path}: ${first.workflowId} started +${((first.startTime - killedAt) / 1000).toFixed(1)}s, closed ${first.status})`,
  };
}
