import type { OrderStatus } from '../../common/status';

/**
 * The states a happy order reports, in order. Written out here rather than derived from the product's
 * ORDER_STATUSES, so that a change to the product's order of states shows up as a failing test.
 */
export const HAPPY_PATH: readonly OrderStatus[] = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'CHARGING',
  'CHARGED',
  'SHIPPING',
  'SHIPPED',
  'COMPLETED',
];
