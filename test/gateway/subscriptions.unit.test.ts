// The subscription bookkeeping alone: repeats dropped, gaps filled from the order's view, order kept.
import { workflowIdFor } from '../../common/order';
import type { OrderView, StatusEvent } from '../../common/status';
import { Subscriptions } from '../../gateway/subscriptions';
import { HAPPY_PATH } from '../helpers/statuses';

const STEPS = HAPPY_PATH;
const event = (seq: number): StatusEvent => ({
  orderId: 'o1',
  workflowId: 'o1',
  status: STEPS[seq - 1],
  seq,
  at: 1000 + seq,
});
const viewUpTo = (n: number): OrderView => ({
  orderId: 'o1',
  workflowId: 'order-o1',
  status: STEPS[n - 1],
  steps: STEPS.slice(0, n).map((status, i) => ({ status, at: 1001 + i })),
});

function subscriber() {
  const got: number[] = [];
  return { got, sub: { sendStatus: (e: StatusEvent) => void got.push(e.seq) } };
}

const flush = () => new Promise((r) => setTimeout(r, 5));

describe('Subscriptions', () => {
  test('live events in order are passed through once; repeats are dropped', () => {
    const subs = new Subscriptions(async () => undefined);
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    for (const seq of [1, 2, 2, 1, 3]) subs.onEvent(event(seq));
    expect(got).toEqual([1, 2, 3]);
  });

  test('a gap is filled from the view before newer events, in order', async () => {
    const subs = new Subscriptions(async () => viewUpTo(5));
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    subs.onEvent(event(1));
    subs.onEvent(event(5)); // 2..4 were missed
    subs.onEvent(event(6)); // arrives while catching up
    await flush();
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('subscribing with fromSeq sends what happened from there on, then live events, nothing twice', async () => {
    const subs = new Subscriptions(async () => viewUpTo(4));
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 3, true);
    subs.onEvent(event(4)); // already in the view
    await flush();
    subs.onEvent(event(5));
    expect(got).toEqual([3, 4, 5]);
  });

  test('the subscription ends with the final status, and closes free everything', async () => {
    const subs = new Subscriptions(async () => viewUpTo(8));
    const a = subscriber();
    const b = subscriber();
    subs.subscribe(a.sub, 'o1', 1, true);
    subs.subscribe(b.sub, 'o1', 1, false);
    await flush();
    expect(a.got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(subs.size).toBe(1);
    subs.unsubscribeAll(b.sub);
    expect(subs.size).toBe(0);
  });

  test('when the view lags behind Kafka, it is asked again until the gap closes', async () => {
    let known = 2;
    const subs = new Subscriptions(async () => viewUpTo(known), { retryDelayMs: 5, maxRetries: 50 });
    const { got, sub } = subscriber();
    subs.subscribe(sub, 'o1', 1, false);
    subs.onEvent(event(4));
    await flush();
    expect(got).toEqual([1, 2]);
    known = 4;
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([1, 2, 3, 4]);
  });

  describe('ownership: subscribers with a customer id', () => {
    /** Subscriptions whose owner lookup answers "alice" only once `release()` is called. */
    const aliceOwnsOnceReleased = () => {
      let release: () => void = () => undefined;
      const confirmed = new Promise<void>((r) => (release = r));
      const subs = new Subscriptions(async () => viewUpTo(2), {
        retryDelayMs: 5,
        maxRetries: 50,
        ownerOf: async () => {
          await confirmed;
          return { exists: true, customerId: 'alice' };
        },
      });
      return { subs, release };
    };
    const customer = (customerId: string) => {
      const got: number[] = [];
      return { got, sub: { customerId, sendStatus: (e: StatusEvent) => void got.push(e.seq) } };
    };

    test("a customer's order placed before ids were scoped is followed under its global id; another customer's is not", async () => {
      const scoped = (customerId: string) => workflowIdFor({ orderId: 'o1', customerId, idScope: 'customer' });
      const views: string[] = [];
      const subs = new Subscriptions(async (workflowId) => (views.push(workflowId), viewUpTo(3)), {
        retryDelayMs: 5,
        maxRetries: 50,
        ownerOf: async (workflowId) =>
          workflowId === 'order-o1' ? { exists: true, customerId: 'alice' } : { exists: false },
      });
      const alice = customer('alice');
      const bob = customer('bob');
      subs.subscribe(alice.sub, scoped('alice'), 1, true);
      subs.subscribe(bob.sub, scoped('bob'), 1, true);
      await flush();
      expect(alice.got).toEqual([1, 2, 3]);
      expect(views).toEqual(['order-o1']);
      // An event of a worker that predates run ids names none: it is the global id's.
      subs.onEvent({ orderId: 'o1', status: STEPS[3], seq: 4, at: 1004 });
      subs.onEvent({ ...event(5), workflowId: 'order-o1' });
      expect(alice.got).toEqual([1, 2, 3, 4, 5]);
      expect(bob.got).toEqual([]);
      subs.unsubscribeOrder(alice.sub, scoped('alice'));
      expect(subs.has(alice.sub, 'order-o1')).toBe(false);
      // Bob's subscription names Bob's own order of that id: it waits, as for an id not yet placed.
      expect(subs.has(bob.sub, scoped('bob'))).toBe(true);
      expect(subs.size).toBe(1);
    });

    test("the owner's events are held until the owner is confirmed, then delivered in order", async () => {
      const { subs, release } = aliceOwnsOnceReleased();
      const alice = customer('alice');
      subs.subscribe(alice.sub, 'o1', 1, false);
      subs.onEvent(event(1));
      subs.onEvent(event(2));
      await flush();
      expect(alice.got).toEqual([]);
      release();
      await flush();
      expect(alice.got).toEqual([1, 2]);
      subs.onEvent(event(3));
      expect(alice.got).toEqual([1, 2, 3]);
    });

    test("another customer's order (or one without a customer) is followed exactly like an unknown id: no event, its place held, expired at the same time", async () => {
      let now = 0;
      const subs = new Subscriptions(async () => viewUpTo(3), {
        retryDelayMs: 5,
        maxRetries: 50,
        unseenExpiryMs: 60_000,
        now: () => now,
        ownerOf: async (orderId) =>
          orderId === 'o1'
            ? { exists: true, customerId: 'alice' }
            : orderId === 'anonymous'
              ? { exists: true }
              : { exists: false },
      });
      const bob = customer('bob');
      subs.subscribe(bob.sub, 'o1', 1, true);
      subs.subscribe(bob.sub, 'anonymous', 1, false);
      subs.subscribe(bob.sub, 'nosuch', 1, true);
      subs.catchUpIfUnseen(bob.sub, 'anonymous', 0);
      await flush();
      // Their events keep coming, up to the final one: none is sent, none keeps the subscription alive.
      for (const seq of [1, 2, 8]) {
        subs.onEvent(event(seq));
        subs.onEvent({ ...event(seq), orderId: 'anonymous', workflowId: 'anonymous' });
      }
      await flush();
      expect(bob.got).toEqual([]);
      expect(subs.countOf(bob.sub)).toBe(3);
      now = 59_999;
      expect(subs.expireUnseen()).toBe(0);
      now = 60_000;
      expect(subs.expireUnseen()).toBe(3);
      expect(subs.size).toBe(0);
      subs.stop();
    });

    test('while the order does not exist yet, a subscription waits; it is served once the owner shows up', async () => {
      let owner: { exists: false } | { exists: true; customerId: string } = { exists: false };
      let lookups = 0;
      const subs = new Subscriptions(async () => (owner.exists ? viewUpTo(1) : undefined), {
        retryDelayMs: 1,
        maxRetries: 50,
        ownerOf: async () => {
          lookups += 1;
          return owner;
        },
      });
      const alice = customer('alice');
      subs.subscribe(alice.sub, 'o1', 1, true);
      await flush();
      expect(alice.got).toEqual([]);
      expect(subs.size).toBe(1);
      expect(lookups).toBe(1); // with nothing held there is nothing to ask about again
      owner = { exists: true, customerId: 'alice' };
      subs.onEvent(event(1));
      await flush();
      expect(alice.got).toEqual([1]);
    });

    test('while the owner cannot be told (Temporal down), held events are asked about again until it can', async () => {
      let lookups = 0;
      const subs = new Subscriptions(async () => viewUpTo(2), {
        retryDelayMs: 1,
        maxRetries: 5,
        ownerOf: async () => {
          lookups += 1;
          if (lookups <= 2) throw new Error('Temporal unreachable');
          return { exists: true, customerId: 'alice' };
        },
      });
      const alice = customer('alice');
      subs.subscribe(alice.sub, 'o1', 1, false);
      subs.onEvent(event(1));
      subs.onEvent(event(2));
      await new Promise((r) => setTimeout(r, 40)); // no further event: the retries alone must get there
      expect(lookups).toBe(3);
      expect(alice.got).toEqual([1, 2]);
    });

    test('the owner check gives up after maxRetries; the events stay held and nothing is sent', async () => {
      let lookups = 0;
      const subs = new Subscriptions(async () => viewUpTo(2), {
        retryDelayMs: 10,
        maxRetries: 3,
        ownerOf: async () => {
          lookups += 1;
          return { exists: false };
        },
      });
      const alice = customer('alice');
      subs.subscribe(alice.sub, 'o1', 1, false);
      subs.onEvent(event(1));
      await new Promise((r) => setTimeout(r, 5));
      subs.onEvent(event(2)); // while a retry is scheduled: it waits for that retry, no check of its own
      await new Promise((r) => setTimeout(r, 80));
      expect(lookups).toBe(4); // the first check, then 3 retries
      expect(alice.got).toEqual([]);
      expect(subs.has(alice.sub, 'o1')).toBe(true);
    });

    test('a subscriber that leaves while its owner check is pending gets nothing', async () => {
      const { subs, release } = aliceOwnsOnceReleased();
      const alice = customer('alice');
      subs.subscribe(alice.sub, 'o1', 1, false);
      subs.onEvent(event(1));
      await flush();
      subs.unsubscribe(alice.sub, 'o1');
      expect(subs.has(alice.sub, 'o1')).toBe(false);
      release();
      await flush();
      expect(alice.got).toEqual([]);
      expect(subs.size).toBe(0);
    });
  });

  test('unsubscribe stops one order for one subscriber; has() tells', () => {
    const subs = new Subscriptions(async () => undefined);
    const a = subscriber();
    subs.subscribe(a.sub, 'o1', 1, false);
    subs.subscribe(a.sub, 'o2', 1, false);
    expect(subs.has(a.sub, 'o1')).toBe(true);
    subs.unsubscribe(a.sub, 'o1');
    expect(subs.has(a.sub, 'o1')).toBe(false);
    expect(subs.has(a.sub, 'o2')).toBe(true);
    subs.onEvent(event(1));
    expect(a.got).toEqual([]);
    subs.unsubscribe(a.sub, 'o1'); // again: a no-op
    expect(subs.size).toBe(1);
  });
});
