/**
 * The processOrder workflow's public surface: its query and update definitions. Shared by the
 * workflow (handlers) and by clients (gateway, tests), like the samples' shared module.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OrderView } from './status';

export const statusQuery = defineQuery<OrderView>('status');

/**
 * Cancels an order that has not started shipping. Rejected (by its validator, nothing recorded)
 * once shipping started or the order is final; otherwise resolves with the order's final view.
 */
export const cancelUpdate = defineUpdate<OrderView>('cancel');
