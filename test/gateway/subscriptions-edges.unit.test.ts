// Subscription bookkeeping edge cases (test/gateway/subscriptions.unit.test.ts has the main paths):
// catch-up racing live events, subscribers leaving mid catch-up, bounded retries, nothing left behind.
import type { OrderView, StatusEvent } from '../../common/status';
import { eventsOf } from '../../common/status';
import { Subscriptions } from '../../gateway/subscriptions';
import { HAPPY_PATH } from '../helpers/statuses';

const STEPS = HAPPY_PATH;
const event = (seq: number, orderId = 'o1'): StatusEvent => ({
  orderId,
  workflowId: orderId,
  status: STEPS[seq - 1],
  seq,
  at: 1000 + seq,
});
const viewUpTo = (n: number, orderId = 'o1'): OrderView => ({
  orderId,
  workflowId: `order-${orderId}`,
  status: STEPS[n - 1],
  steps: STEPS.slice(0, n).map((status, i) => ({ status, at: 1001 + i })),
});

function subscriber() {
  const got: number[] = [];
  return { got, sub: { sendStatus: (e: StatusEvent) => void got.push(e.seq) } };
}

/** A view fetch the test answers by hand, counting the calls. */
function manualFetch() {
  const calls: Array<(view: OrderView | undefined) => void> = [];
  return { calls, fetch: () => new Promise<OrderView | undefined>((resolve) => calls.push(resolve)) };
}

const flush = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const ordersHeld = (s: Subscriptions): number => (s as unknown as { byOrder: Map<string, unknown> }).byOrder.size;

describe('Subscriptions edge cases', () => {
  test('eventsOf numbers steps from fromSeq and keeps details', () => {
    const view: OrderView = {
      ...viewUpTo(3),
      steps: [
        { status: 'ACCEPTED', at: 1 },
        { status: 'VALIDATING', at: 2, detail: 'd2' },
        { status: 'VALIDATED', at: 3 },
      ],
    };
    expect(eventsOf(view, 2)).toEqual([
      { orderId: 'o1', status: 'VALIDATING', seq: 2, at: 2, detail: 'd2' },
      { orderId: 'o1', status: 'VALIDATED', seq: 3, at: 3 },
    ]);
    expect(eventsOf(view, 1)[0]).toEqual({ orderId: 'o1', status: 'ACCEPTED', seq: 1, at: 1 });
    expect('detail' in eventsOf(view, 1)[0]).toBe(false);
    expect(eventsOf(view, 0).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(eventsOf(view, 4)).toEqual([]);
  });

  test('subscribing catches up by default', async () => {
    const subs = new Subscriptions(async () => viewUpTo(2));
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1');
    await flush();
    expect(got).toEqual([1, 2]);
  });

  test('live events that arrive during a catch-up wait for it, then follow in seq order', async () => {
    const f = manualFetch();
    const subs = new Subscriptions(f.fetch);
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, true);
    subs.onEvent(event(3));
    subs.onEvent(event(2));
    expect(got).toEqual([]);
    f.calls[0](viewUpTo(1));
    await flush();
    expect(got).toEqual([1, 2, 3]);
    expect(f.calls).toHaveLength(1);
  });

  test('a view that cannot be read is no view: queued events in order are still delivered', async () => {
    const subs = new Subscriptions(() => Promise.reject(new Error('Temporal down')), {
      retryDelayMs: 1,
      maxRetries: 0,
    });
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, true);
    subs.onEvent(event(1));
    await flush();
    expect(got).toEqual([1]);
  });

  test('a subscriber that leaves during a catch-up gets nothing more', async () => {
    const f = manualFetch();
    const subs = new Subscriptions(f.fetch);
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, true);
    subs.unsubscribeAll(sub);
    f.calls[0](viewUpTo(3));
    await flush();
    expect(got).toEqual([]);
    expect(subs.size).toBe(0);
  });

  test('a final status met during a catch-up ends the subscription: nothing after it, nothing held', async () => {
    const f = manualFetch();
    const subs = new Subscriptions(f.fetch);
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, true);
    subs.onEvent(event(8));
    f.calls[0](viewUpTo(8));
    await flush();
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    subs.onEvent(event(8));
    expect(got).toHaveLength(8);
    expect(subs.size).toBe(0);
    expect(ordersHeld(subs)).toBe(0);
  });

  test('a final status among the queued events ends the subscription there', async () => {
    const f = manualFetch();
    const subs = new Subscriptions(f.fetch);
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 6, true);
    subs.onEvent(event(8));
    subs.onEvent(event(7));
    f.calls[0](viewUpTo(6));
    await flush();
    expect(got).toEqual([6, 7, 8]);
    expect(subs.size).toBe(0);
  });

  test('a lagging view is asked again a bounded number of times; a later event starts a new catch-up', async () => {
    let calls = 0;
    let known = 1;
    const subs = new Subscriptions(
      async () => {
        calls += 1;
        return viewUpTo(known);
      },
      { retryDelayMs: 1, maxRetries: 3 },
    );
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    subs.onEvent(event(3));
    await flush(60);
    expect(got).toEqual([1]);
    expect(calls).toBe(4); // the first catch-up, then 3 retries
    known = 4;
    subs.onEvent(event(5));
    await flush(60);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toBe(5);
  });

  test('each gap gets the full number of retries: the count starts again once a catch-up completes', async () => {
    let calls = 0;
    let lagging = 0; // how many more fetches answer with the old view
    let known = 1;
    const subs = new Subscriptions(
      async () => {
        calls += 1;
        if (lagging > 0) {
          lagging -= 1;
          return viewUpTo(Math.max(1, known - 2));
        }
        return viewUpTo(known);
      },
      { retryDelayMs: 1, maxRetries: 3 },
    );
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    // First gap: the view lags for the first catch-up and two retries, the third retry fills it.
    known = 3;
    lagging = 3;
    subs.onEvent(event(1));
    subs.onEvent(event(3));
    await flush(60);
    expect(got).toEqual([1, 2, 3]);
    // Second gap, lagging the same way: it must be filled by retries, with no later event to help.
    known = 6;
    lagging = 3;
    subs.onEvent(event(6));
    await flush(60);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls).toBe(8); // each gap: the catch-up and three retries
  });

  test('after the retries gave up, the missing event arriving live releases the events held behind it', async () => {
    const subs = new Subscriptions(async () => viewUpTo(1), { retryDelayMs: 1, maxRetries: 2 }); // the view never shows step 2
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    subs.onEvent(event(1));
    subs.onEvent(event(3));
    subs.onEvent(event(4));
    await flush(40); // the catch-up and its two retries have given up
    expect(got).toEqual([1]);
    subs.onEvent(event(2)); // the missing one, late
    await flush();
    expect(got).toEqual([1, 2, 3, 4]);
  });

  test('while a retry is scheduled, new events wait for it instead of starting another catch-up', async () => {
    // A controlled clock: on a busy machine a real 40 ms retry can fire before the second event is seen.
    jest.useFakeTimers();
    try {
      let calls = 0;
      let known = 2;
      const subs = new Subscriptions(
        async () => {
          calls += 1;
          return viewUpTo(known);
        },
        { retryDelayMs: 40, maxRetries: 5 },
      );
      const { got, sub } = subscriber();
      subs.subscribe(sub, 'o1', 1, false);
      subs.onEvent(event(4));
      await jest.advanceTimersByTimeAsync(5);
      expect(got).toEqual([1, 2]);
      subs.onEvent(event(5));
      await jest.advanceTimersByTimeAsync(5);
      expect(calls).toBe(1);
      known = 3;
      await jest.advanceTimersByTimeAsync(80);
      expect(got).toEqual([1, 2, 3, 4, 5]);
      expect(calls).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  test('one subscriber leaving leaves the others subscribed; the last one leaving frees the order', () => {
    const subs = new Subscriptions(async () => undefined);
    const a = subscriber();
    const b = subscriber();
    subs.subscribe(a.sub, 'o1', 1, false);
    subs.subscribe(b.sub, 'o1', 1, false);
    subs.subscribe(a.sub, 'o2', 1, false);
    subs.unsubscribeAll(a.sub);
    subs.onEvent(event(1));
    subs.onEvent(event(1, 'o2'));
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([1]);
    expect(subs.size).toBe(1);
    expect(ordersHeld(subs)).toBe(1);
    subs.unsubscribeAll(b.sub);
    expect(ordersHeld(subs)).toBe(0);
  });

  test('the final status frees the order when its last subscriber is done', () => {
    const subs = new Subscriptions(async () => undefined);
    const a = subscriber();
    subs.subscribe(a.sub, 'o1', 8, false);
    subs.onEvent(event(8));
    expect(a.got).toEqual([8]);
    expect(ordersHeld(subs)).toBe(0);
  });
});
