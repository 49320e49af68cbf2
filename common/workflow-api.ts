/**
 * The processOrder workflow's public surface: its query and update definitions. Shared by the
 * workflow (handlers) and by clients (gateway, tests), like the samples' shared module.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Amendment, OrderValues } from './order-values';
import type { OrderView } from './status';

export type { Amendment };

export const statusQuery = defineQuery<OrderView>('status');

/**
 * Cancels an order that has not started shipping. Rejected (by its validator, nothing recorded)
 * once shipping started or the order is final; otherwise resolves with the order's final view.
 */
export const cancelUpdate = defineUpdate<OrderView>('cancel');

/**
 * Amends an order's item, price or quantity until payment starts. Refused (by its validator, nothing
 * recorded) once CHARGING has begun, after a cancel, when the order is final, or when the values
 * break placeOrder's rules. Accepted while the order is still being validated, it waits for the
 * validation and applies then (or fails, if payment has started by then). The same `amendmentId`
 * again changes nothing and answers what it applied.
 */
export const amendUpdate = defineUpdate<AmendResult, [Amendment]>('amend');

/** What an amendment left the order as. */
export interface AmendResult {
  amendmentId: string;
  order: OrderValues;
}

/** The update id an amendment is sent under, so the server, too, runs one amendment id once. */
export function amendUpdateId(amendmentId: string): string {
  return `amend:${amendmentId}`;
}
