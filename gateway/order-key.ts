/**
 * Which order a client means by an order id: with a customer identity (JWT mode) the order id is the
 * customer's own, so it names that customer's order; without one (none, shared token) the one
 * global order with that id. The gateway keys subscriptions, look-ups and routing by the result.
 */
import { workflowIdFor, type IdScope } from '../common/order';

/** The id scope of orders placed by a client with (JWT mode) or without a customer id. */
export function idScopeOf(customerId: string | undefined): IdScope | undefined {
  return customerId === undefined ? undefined : 'customer';
}

/** The workflow id of the order a client with `customerId` calls `orderId`. */
export function clientWorkflowId(customerId: string | undefined, orderId: string): string {
  return workflowIdFor({ orderId, customerId, idScope: idScopeOf(customerId) });
}
