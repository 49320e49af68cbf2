// @ts-check
// The page's copies of the status and error-code sets in common/ (the page is plain ES modules
// with no build step, so it cannot import the TypeScript). test/web/status-sets.unit.test.ts fails
// when a copy differs from its source.

/** Statuses after which nothing more happens to an order (common/status.ts FINAL_STATUSES). */
export const FINAL = ['COMPLETED', 'REJECTED', 'PAYMENT_DECLINED', 'CANCELLED', 'FAILED'];

/** Statuses from which a cancel is refused (common/status.ts SHIPPING_STARTED). */
export const SHIPPING_STARTED = ['SHIPPING', 'SHIPPED', 'COMPLETED'];

/** Error codes after which the same placeOrder may be sent again (common/protocol.ts RETRYABLE_ERROR_CODES). */
export const RETRYABLE = ['KAFKA_UNAVAILABLE', 'SHUTTING_DOWN', 'RATE_LIMITED'];
