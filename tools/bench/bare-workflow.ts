/**
 * The bare-engine ceiling's workflow: three no-op activities in sequence, nothing else (no timers,
 * no status events, no search attributes). What the engine on this machine can run at best; the
 * order pipeline is measured against it. Deterministic code only: imports nothing from Node.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './bare-activities';

const { noop } = proxyActivities<BareActivities>({ startToCloseTimeout: '10s' });

export async function bareThreeActivities(): Promise<number> {
  await noop(1);
  await noop(2);
  await noop(3);
  return 3;
}
