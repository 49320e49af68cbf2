// processOrder as a later build might change it without a patch: a fraud-review pause before the
// order's first step. It runs new orders to the same end, but today's histories do not replay on it
// (its first command is a timer where they recorded a search-attribute upsert, event 5).
import { sleep } from '@temporalio/workflow';
import type { OrderView } from '../../common/status';
import { processOrder as currentProcessOrder, type ProcessOrderInput } from '../../workflows/order';

export { cancelUpdate, statusQuery } from '../../workflows/order';

export async function processOrder(input: ProcessOrderInput): Promise<OrderView> {
  await sleep('10ms', { summary: 'Fraud review' });
  return currentProcessOrder(input);
}
