// The bounds on subscriptions, without servers: ending a connection costs its own subscriptions
// only; a subscription to an order that never shows up expires; an id Temporal does not know is
// remembered briefly, so repeated look-ups of it cost no Temporal call.
import type { Client as TemporalClient } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { StatusEvent } from '../../common/status';
import { OrderLookup, UNKNOWN_ID_TTL_MS } from '../../gateway/order-lookup';
import { Subscriptions } from '../../gateway/subscriptions';

const sub = () => ({
  got: [] as StatusEvent[],
  sendStatus(e: StatusEvent) {
    this.got.push(e);
  },
});

describe('subscription bounds', () => {
  test('ending a connection touches only its own subscriptions, not every order followed on the gateway', () => {
    const subs = new Subscriptions(async () => undefined);
    const others = Array.from({ length: 1_000 }, () => sub());
    others.forEach((o, i) => subs.subscribe(o, `other-${i}`, 1, false));
    const leaving = sub();
    subs.subscribe(leaving, 'mine-1', 1, false);
    subs.subscribe(leaving, 'mine-2', 1, false);
    expect(subs.countOf(leaving)).toBe(2);
    expect(subs.size).toBe(1_002);
    // Walking the gateway-wide order index (a Map) would be work proportional to everyone's subscriptions.
    const mapWalks = jest.spyOn(Map.prototype, 'entries');
    const mapIterations = jest.spyOn(Map.prototype, Symbol.iterator);
    try {
      subs.unsubscribeAll(leaving);
      expect(mapWalks).not.toHaveBeenCalled();
      expect(mapIterations).not.toHaveBeenCalled();
    } finally {
      mapWalks.mockRestore();
      mapIterations.mockRestore();
    }
    expect(subs.countOf(leaving)).toBe(0);
    expect(subs.size).toBe(1_000);
  });

  test('a subscription to an order that never shows up expires; one whose order sent an event stays', () => {
    let now = 0;
    const subs = new Subscriptions(async () => undefined, {
      retryDelayMs: 1,
      maxRetries: 0,
      unseenExpiryMs: 60_000,
      now: () => now,
    });
    const a = sub();
    subs.subscribe(a, 'never-appears', 1, false);
    subs.subscribe(a, 'appears', 1, false);
    subs.onEvent({ orderId: 'appears', workflowId: 'appears', status: 'ACCEPTED', seq: 1, at: 1 });
    now = 59_999;
    expect(subs.expireUnseen()).toBe(0);
    now = 60_000;
    expect(subs.expireUnseen()).toBe(1);
    expect(subs.has(a, 'never-appears')).toBe(false);
    expect(subs.has(a, 'appears')).toBe(true);
    expect(subs.size).toBe(1);
    subs.stop();
  });

  test('an id Temporal does not know is remembered briefly: repeated look-ups within the TTL cost no Temporal call', async () => {
    let now = 0;
    const calls: string[] = [];
    const notFound = (): never => {
      throw new WorkflowNotFoundError('no such workflow', 'order-x', undefined);
    };
    const client = {
      workflow: {
        getHandle: () => ({
          describe: async () => (calls.push('describe'), notFound()),
          query: async () => (calls.push('query'), notFound()),
        }),
      },
    } as unknown as TemporalClient;
    const lookup = new OrderLookup(client, 1_000, () => now);
    expect(await lookup.owner('x')).toEqual({ exists: false });
    expect(await lookup.owner('x')).toEqual({ exists: false });
    expect(await lookup.view('x')).toBeUndefined();
    expect(await lookup.ownership('x', 'carol', 1_000)).toBe('hidden');
    expect(calls).toEqual(['describe']);
    now += UNKNOWN_ID_TTL_MS + 1;
    expect(await lookup.view('x')).toBeUndefined();
    expect(calls).toEqual(['describe', 'query']);
  });
});
