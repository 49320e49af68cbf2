// What a look-up costs (gateway/order-requests.ts lookupCost, gateway/lookup-budget.ts), through the
// real dispatcher, order look-up and subscriptions, with a stand-in for Temporal's client that
// counts calls: every look-up stays within the calls it reserved at admission (in all and at once),
// whatever the order; a customer's share is charged the same for another customer's order as for
// an unknown id; and partition routing's re-describes of a followed order that does not exist are
// charged to its follower's background share.
import type { Client as TemporalClient } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ServerFrame } from '../../common/protocol';
import type { OrderView } from '../../common/status';
import { workflowIdFor } from '../../common/order';
import type { Client } from '../../gateway/client';
import { createDispatcher } from '../../gateway/frame-handlers';
import { type Charge, type LookupCost, LookupBudget, type LookupTicket } from '../../gateway/lookup-budget';
import { OrderLookup } from '../../gateway/order-lookup';
import { FrameThrottle } from '../../gateway/pushback';
import { StatusRouting } from '../../gateway/status-routing';
import { Subscriptions } from '../../gateway/subscriptions';
import { HAPPY_PATH } from '../helpers/statuses';
import { waitUntil } from '../helpers/wait';

interface Run {
  customerId?: string;
  running: boolean;
}

/** Temporal's client as the gateway uses it, answering from `runs`, each call taking a few ms and counted. */
function fakeTemporal(runs: Map<string, Run>) {
  const counted = { calls: 0, running: 0, mostAtOnce: 0 };
  const viewOf = (workflowId: string): OrderView => ({
    orderId: workflowId,
    workflowId,
    status: 'COMPLETED',
    steps: HAPPY_PATH.map((status, i) => ({ status, at: 1000 + i })),
  });
  const call = async <T>(answer: () => T): Promise<T> => {
    counted.calls += 1;
    counted.running += 1;
    counted.mostAtOnce = Math.max(counted.mostAtOnce, counted.running);
    try {
      await new Promise((r) => setTimeout(r, 3));
      return answer();
    } finally {
      counted.running -= 1;
    }
  };
  const run = (workflowId: string): Run => {
    const found = runs.get(workflowId);
    if (!found) throw new WorkflowNotFoundError('no such workflow', workflowId, undefined);
    return found;
  };
  const client = {
    workflow: {
      getHandle: (workflowId: string) => ({
        describe: () => call(() => ({ memo: { order: { customerId: run(workflowId).customerId } } })),
        query: () => call(() => (run(workflowId), viewOf(workflowId))),
        executeUpdate: () =>
          call(() => {
            if (!run(workflowId).running) throw new WorkflowNotFoundError('workflow completed', workflowId, undefined);
            return { ...viewOf(workflowId), status: 'CANCELLED' };
          }),
      }),
    },
  } as unknown as TemporalClient;
  return { client, counted };
}

/** A budget that records, for each look-up it admits, its reservation and the calls charged to it. */
class RecordingBudget extends LookupBudget {
  readonly lookups: Array<{ cost: LookupCost; taken: number; mostAtOnce: number; ended: boolean }> = [];

  override admit(party: string | object, cost: LookupCost) {
    const admission = super.admit(party, cost);
    if (!('ticket' in admission)) return admission;
    const record = { cost, taken: 0, mostAtOnce: 0, ended: false };
    this.lookups.push(record);
    let running = 0;
    const inner = admission.ticket;
    const ticket: LookupTicket = {
      take: () => {
        const release = inner.take();
        record.taken += 1;
        running += 1;
        record.mostAtOnce = Math.max(record.mostAtOnce, running);
        return () => {
          running -= 1;
          release();
        };
      },
      answered: () => inner.answered(),
      end: () => {
        record.ended = true;
        inner.end();
      },
    };
    return { ticket };
  }
}

const ALICE = 'alice';
/** A rate limit no test here reaches. */
const RATE = { burst: 1000, perSecond: 1000 };
const RATE_ABUSE = { episodes: 1000, windowMs: 60_000 };

/** A dispatcher as the gateway builds it (./server subscriptionsFor), over the stand-in Temporal. */
function gatewayParts(runs: Map<string, Run>, budget: LookupBudget) {
  const { client: temporal, counted } = fakeTemporal(runs);
  const orders = new OrderLookup(temporal, 1_000);
  const subscriptions = new Subscriptions((id, charge) => orders.view(id, charge), {
    ownerOf: (id, charge) => orders.owner(id, charge),
  });
  const dispatcher = createDispatcher({
    producer: { publish: () => Promise.reject(new Error('not used')) },
    orders,
    budget,
    subscriptions,
    rate: RATE,
    rateAbuse: RATE_ABUSE,
    maxSubscriptions: 1000,
    ownerCheckMs: 20,
    closing: () => false,
    track: () => undefined,
    log: () => undefined,
  });
  const clientOf = (customerId?: string): Client => ({
    customerId,
    throttle: new FrameThrottle(RATE, RATE_ABUSE, { pause: () => undefined, resume: () => undefined }),
    send: () => undefined,
    sendStatus: () => undefined,
    closeForPolicy: () => undefined,
  });
  const ask = (client: Client, event: string, orderId: string): Promise<ServerFrame> =>
    new Promise((resolve) => {
      let answered = false;
      dispatcher.handle(
        client,
        () => ({ event, data: event === 'amendOrder' ? { orderId, amendmentId: 'a-1', quantity: 2 } : { orderId } }),
        (frame) => {
          if (!answered) resolve(frame);
          answered = true;
        },
      );
    });
  return { orders, subscriptions, counted, clientOf, ask };
}

const scoped = (orderId: string, customerId: string): string =>
  workflowIdFor({ orderId, customerId, idScope: 'customer' });

describe('look-up costs', () => {
  test('every look-up stays within the Temporal calls it reserved, in all and at once, whatever the order', async () => {
    const runs = new Map<string, Run>([
      [scoped('own-running', ALICE), { customerId: ALICE, running: true }],
      [scoped('own-done', ALICE), { customerId: ALICE, running: false }],
      // Placed before ids were scoped: its global id, Alice's memo.
      [workflowIdFor({ orderId: 'own-old' }), { customerId: ALICE, running: true }],
      // Someone else's order under the global id Alice's fallback also asks about.
      [workflowIdFor({ orderId: 'theirs' }), { customerId: 'bob', running: true }],
      [workflowIdFor({ orderId: 'anon' }), { running: false }],
    ]);
    const cases: Array<[customerId: string | undefined, orderId: string]> = [
      [ALICE, 'own-running'],
      [ALICE, 'own-done'],
      [ALICE, 'own-old'],
      [ALICE, 'theirs'],
      [ALICE, 'nosuch'],
      [undefined, 'anon'],
      [undefined, 'nosuch-anon'],
    ];
    let charged = 0;
    for (const event of ['getOrder', 'cancelOrder', 'amendOrder', 'subscribeOrder']) {
      for (const [customerId, orderId] of cases) {
        // A gateway of its own for each case: nothing cached, so every call the look-up can make is made.
        const budget = new RecordingBudget({ inFlight: 10_000, perSecond: 10_000, sharePercent: 100 });
        const { ask, clientOf, subscriptions } = gatewayParts(runs, budget);
        const client = clientOf(customerId);
        await ask(client, event, orderId);
        await waitUntil(() => budget.lookups[0]?.ended || undefined, {
          what: `${event} ${orderId} to end`,
          intervalMs: 5,
        });
        const { cost, taken, mostAtOnce } = budget.lookups[0];
        const context = `${event} ${orderId} (${customerId ?? 'no customer'})`;
        expect({ context, within: taken <= cost.calls && mostAtOnce <= cost.atOnce }).toEqual({
          context,
          within: true,
        });
        charged += taken;
        subscriptions.stop();
        budget.stop();
      }
    }
    // The walk made calls at all (a stand-in that never charged would pass the bounds above).
    expect(charged).toBeGreaterThan(40);
  });

  test("a customer's share is charged the same for another customer's order (owner cached) as for an unknown id", async () => {
    const runs = new Map<string, Run>([[workflowIdFor({ orderId: 'theirs' }), { customerId: 'bob', running: true }]]);
    // A frozen clock: nothing refills, so what is left of Alice's share shows exactly what she was charged.
    const shareLeft = async (orderId: string): Promise<number> => {
      const budget = new LookupBudget({ inFlight: 100, perSecond: 40, sharePercent: 25 }, () => 0);
      const { ask, clientOf, orders } = gatewayParts(runs, budget);
      // The gateway has learnt the owner of Bob's order (Bob followed it).
      await orders.owner(workflowIdFor({ orderId: 'theirs' }));
      const alice = clientOf(ALICE);
      // Each look-up is asked once the one before has ended (its ticket too, just after the answer).
      const settled = async (answer: Promise<ServerFrame>): Promise<ServerFrame> => {
        const frame = await answer;
        await new Promise((r) => setImmediate(r));
        return frame;
      };
      expect((await settled(ask(alice, 'getOrder', orderId))).data).toMatchObject({ code: 'NOT_FOUND' });
      let admitted = 0;
      const busy = (frame: ServerFrame): boolean => frame.event === 'error' && frame.data.code === 'BUSY';
      while (!busy(await settled(ask(alice, 'getOrder', `probe-${admitted}`)))) admitted += 1;
      budget.stop();
      return admitted;
    };
    const afterTheirs = await shareLeft('theirs');
    const afterUnknown = await shareLeft('nosuch');
    expect(afterTheirs).toBe(afterUnknown);
    expect(afterUnknown).toBeGreaterThan(0);
  });

  test("partition routing's re-describes of a followed order that does not exist are charged to its follower's background share", async () => {
    const { client: temporal, counted } = fakeTemporal(new Map());
    const orders = new OrderLookup(temporal, 1_000);
    // A frozen clock: Alice's background bucket holds 12 calls (a quarter of 16 per second, three seconds' worth) and never refills.
    const budget = new LookupBudget({ inFlight: 100, perSecond: 16, sharePercent: 25 }, () => 0);
    let asked = 0;
    const routing = new StatusRouting({
      home: 0,
      partitionCount: 4,
      fetcher: { fetchPartition: () => undefined, releasePartition: () => undefined },
      lookup: (id, charge?: Charge) => {
        asked += 1;
        return orders.routed(id, charge);
      },
      retryMs: 1,
    });
    const followed = Array.from({ length: 30 }, (_, i) => scoped(`ghost-${i}`, ALICE));
    for (const id of followed) routing.follow(id, undefined, budget.background(ALICE));
    // Each followed id is asked about again and again (with backoff), far more often than the share allows.
    await waitUntil(() => asked >= 150 || undefined, { what: 'routing to ask again', intervalMs: 5 });
    expect(counted.calls).toBe(12);
    // Her own look-ups have their share still: the re-describes were charged to a bucket of their own.
    expect('ticket' in budget.admit(ALICE, { calls: 3, atOnce: 2 })).toBe(true);
    for (const id of followed) routing.unfollow(id);
    budget.stop();
  });
});
