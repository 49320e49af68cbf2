/**
 * The harness's order stream, placed with cli's OrderClient as the protocol asks of a client: an
 * order that was not acknowledged (error answer, connection lost, no answer in time) is resent with
 * the same orderId until it is acknowledged, with backoff, reconnecting when the connection is gone.
 * Every attempt is recorded for the audit (OrderClient's onAttempt); every order is bounded by a
 * deadline and an attempt count.
 */
import { OrderClient, type Attempt } from '../../cli/order-client';
import { sleep } from '../infra/proc';

export type { Attempt };

export interface OrderSpec {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
  /** The outcome the order must reach: COMPLETED, or FAILED after a refund (an unshippable item). */
  expect: 'COMPLETED' | 'REFUNDED';
}

export interface OrderRecord {
  spec: OrderSpec;
  attempts: Attempt[];
  acceptedAt?: number;
  gaveUp?: string;
}

/** How long one placeOrder may go unanswered before it counts as a 'timeout' attempt and is resent. */
const ANSWER_TIMEOUT_MS = 15_000;

export interface PlaceOptions {
  url: string;
  connections: number;
  /** Orders per second, over all connections, for the first attempt of each order. */
  rate: number;
  /** No attempt starts after this. */
  deadline: number;
  maxAttempts?: number;
  onAccepted?: (record: OrderRecord) => void;
}

/**
 * Places every order over `connections` connections at `rate` per second, resending each until it
 * is acknowledged or the deadline/attempt budget is spent. Resolves with one record per order.
 */
export async function placeOrders(specs: OrderSpec[], opts: PlaceOptions): Promise<{ records: OrderRecord[] }> {
  const maxAttempts = opts.maxAttempts ?? 200;
  const clients = Array.from(
    { length: opts.connections },
    () =>
      new OrderClient(opts.url, {
        answerTimeoutMs: ANSWER_TIMEOUT_MS,
        maxAttempts,
        attemptDeadline: opts.deadline,
        // Resends and reconnects wait 250 ms doubling to 2 s, plus jitter so the clients do not resend in step.
        backoffMs: 250,
        maxBackoffMs: 2_000,
        jitter: true,
        // The deadline and the attempt count bound the reconnects, as they bound every other attempt.
        maxReconnects: Infinity,
      }),
  );
  const started = Date.now();
  const records = specs.map((spec): OrderRecord => ({ spec, attempts: [] }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await Promise.all(
      records.map(async (record, i) => {
        await sleep(Math.max(0, started + (i * 1000) / opts.rate - Date.now()));
        const { orderId, item, price, quantity } = record.spec;
        // Each order sticks to one connection slot (its reconnections included), like a real client would.
        const client = clients[i % clients.length];
        // The last attempt may start just before the deadline and still wait its answer.
        const result = await client.submit(
          { orderId, item, price, quantity },
          Math.max(0, opts.deadline - Date.now()) + ANSWER_TIMEOUT_MS,
          { onAttempt: (attempt) => record.attempts.push(attempt) },
        );
        if (result.kind === 'accepted') {
          record.acceptedAt = Date.now();
          opts.onAccepted?.(record);
        } else if (result.kind === 'error') record.gaveUp = `refused with ${result.error.code}`;
        else record.gaveUp = `not acknowledged after ${record.attempts.length} attempts`;
      }),
    );
  } finally {
    for (const c of clients) c.close();
  }
  return { records };
}
