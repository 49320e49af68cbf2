// A deliberately changed processOrder (no durable timers between steps), used only to prove that
// the replay test catches a determinism break.
import { proxyActivities } from '@temporalio/workflow';
import type { OrderActivities } from '../../activities';
import type { ProcessOrderInput } from '../../workflows';

const acts = proxyActivities<OrderActivities>({ startToCloseTimeout: '10s' });

export async function processOrder({ order }: ProcessOrderInput): Promise<string> {
  await acts.validateOrder(order);
  await acts.chargePayment(order);
  await acts.shipOrder(order);
  return 'COMPLETED';
}
